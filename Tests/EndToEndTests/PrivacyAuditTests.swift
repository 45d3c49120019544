import Foundation
import XCTest

/// `privacy-audit` with the real binary: a tiny model trained for ~28 epochs on a tiny corpus
/// memorises its planted canaries (exposure exact over the whole space of 3-digit secrets, at
/// most log2 1000 ~ 9.97 bits; measured 9.97, 7.2, 6.2) while the unplanted controls stay near
/// the ~1.44 bits a random rank gives (measured mean 1.0). The three canaries share the prefix,
/// so they compete for its continuation and not all reach the maximum.
final class PrivacyAuditTests: XCTestCase {
    /// 400 short posts from a small vocabulary, one a line (so some fall in the validation split).
    func writeCorpus(_ url: URL) throws {
        let words = ["the", "cat", "sat", "on", "a", "mat", "we", "love", "sunny", "days", "coffee", "is", "hot",
                     "rain", "again", "today", "happy", "train", "late", "good", "morning", "friends", "park"]
        var state: UInt64 = 7
        var lines: [String] = []
        for _ in 0..<400 {
            var post: [String] = []
            for _ in 0..<(4 + lines.count % 7) {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                post.append(words[Int(state >> 33) % words.count])
            }
            lines.append(post.joined(separator: " "))
        }
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
    }

    /// The audit of the toy corpus: 3 canaries planted 20 times, 6 controls, every 3-digit secret ranked.
    func audit(_ work: TrainingRun, ranks: Int = 1, steps: Int = 400, extra: [String] = []) throws
        -> (Launcher.Result, String) {
        let corpus = work.directory.appendingPathComponent("corpus.txt")
        try writeCorpus(corpus)
        let run = work.path + "/audit"
        let arguments = [
            "privacy-audit", "--config", "Configs/tiny.yaml", "--input", corpus.path, "--run-dir", run,
            "--set", "model.vocab_size=300", "--set", "model.context_length=32",
            "--set", "train.sequence_length=32", "--set", "train.log_every=100", "--set", "eval.every=0",
            "--set", "eval.sequences=8", "--set", "checkpoint.every=0", "--steps", "\(steps)",
            "--digits", "3", "--insertions", "20", "--canaries", "3", "--controls", "6", "--candidates", "1000",
        ] + extra
        let result = ranks == 1 ? try Launcher.run("swift-llm-train", arguments, directory: repositoryRoot)
            : try Launcher.mpirun(ranks, "swift-llm-train", arguments, directory: repositoryRoot)
        return (result, run)
    }

    /// The report, and the `insertions`/`exposure_bits`/`higher_candidates` of every canary.
    func canaries(_ run: String) throws -> (report: [String: Any], canaries: [[String: Any]]) {
        let data = try Data(contentsOf: URL(fileURLWithPath: run + "/privacy-audit.json"))
        let report = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        return (report, report["canaries"] as! [[String: Any]])
    }

    func testPlantedCanariesAreExposedAndControlsAreNot() throws {
        let (result, run) = try audit(try TrainingRun(self, "privacy-audit"))
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.stdout.contains("mean exposure, planted 20x"), result.stdout)
        let (report, canaries) = try canaries(run)
        XCTAssertEqual(report["exhaustive"] as? Bool, true)
        XCTAssertEqual(report["space_size"] as? Int, 1000)
        XCTAssertEqual(report["max_exposure_bits"] as! Double, log2(1000.0), accuracy: 1e-9)
        func bits(_ insertions: Int) -> [Double] {
            canaries.filter { $0["insertions"] as! Int == insertions }.map { $0["exposure_bits"] as! Double }
        }
        let planted = bits(20), controls = bits(0)
        let training = report["training"] as! [String: Any]
        XCTAssertNil(training["privacy"], "trained without DP")
        XCTAssertGreaterThan(training["validation_loss"] as! Double, 0)
        XCTAssertTrue(result.stdout.contains("DP-SGD: off"), result.stdout)
        XCTAssertEqual(planted.count, 3)
        XCTAssertEqual(controls.count, 6)
        let plantedMean = planted.reduce(0, +) / 3, controlMean = controls.reduce(0, +) / 6
        XCTAssertGreaterThan(plantedMean, 6.0, "planted exposures \(planted)\n\(result.stdout)")
        XCTAssertGreaterThan(planted.min()!, 4.5, "planted exposures \(planted)\n\(result.stdout)")
        XCTAssertLessThan(controlMean, 3.0, "control exposures \(controls)\n\(result.stdout)")
        // Every secret of the format is ranked, so an exposure is log2 1000 - log2 rank exactly.
        for canary in canaries {
            let rank = Double(canary["higher_candidates"] as! Int + 1)
            XCTAssertEqual(canary["exposure_bits"] as! Double, log2(1000.0) - log2(rank), accuracy: 1e-9)
        }
    }

    /// Under mpirun rank 0 prepares and scores, both ranks train the same global batches: the
    /// same ranks as one process, up to a tie broken differently by rounding.
    func testTwoRanksGiveTheExposuresOfOne() throws {
        let (one, runOne) = try audit(try TrainingRun(self, "privacy-audit-1"))
        XCTAssertEqual(one.status, 0, one.output)
        let (two, runTwo) = try audit(try TrainingRun(self, "privacy-audit-2"), ranks: 2)
        XCTAssertEqual(two.status, 0, two.output)
        let higherOne = try canaries(runOne).canaries.map { $0["higher_candidates"] as! Int }
        let higherTwo = try canaries(runTwo).canaries.map { $0["higher_candidates"] as! Int }
        XCTAssertEqual(higherOne.count, 9)
        for (x, y) in zip(higherOne, higherTwo) {
            XCTAssertLessThanOrEqual(abs(x - y), 1, "candidates above each canary: 1 rank \(higherOne), "
                                                    + "2 ranks \(higherTwo)")
        }
    }

    /// With DP-SGD (`--set privacy.*`, the example a window) the report and table carry the
    /// guarantee: epsilon just under privacy.target_epsilon after the run's steps.
    func testPrivateAuditRecordsEpsilon() throws {
        let (result, run) = try audit(try TrainingRun(self, "privacy-audit-dp"), steps: 30, extra: [
            "--set", "privacy.enabled=true", "--set", "privacy.target_epsilon=8", "--set", "optimizer.grad_clip=0",
        ])
        XCTAssertEqual(result.status, 0, result.output)
        let privacy = (try canaries(run).report["training"] as! [String: Any])["privacy"] as! [String: Any]
        XCTAssertLessThanOrEqual(privacy["epsilon"] as! Double, 8)
        XCTAssertGreaterThan(privacy["epsilon"] as! Double, 7.9)
        XCTAssertTrue(result.stdout.contains("DP-SGD: epsilon "), result.stdout)
    }

    func testRefusesADatasetOfItsOwnAndTooSmallASpace() throws {
        let work = try TrainingRun(self, "privacy-audit-bad")
        let dataset = try Launcher.run("swift-llm-train", ["privacy-audit", "--config", "Configs/tiny.yaml",
                                                           "--set", "data.dataset=/nonexistent", "--run-dir",
                                                           work.path + "/a"], directory: repositoryRoot)
        XCTAssertNotEqual(dataset.status, 0)
        XCTAssertTrue(dataset.stderr.contains("give the corpus files with --input"), dataset.stderr)
        let small = try Launcher.run("swift-llm-train", ["privacy-audit", "--config", "Configs/tiny.yaml",
                                                         "--digits", "1", "--run-dir", work.path + "/b"],
                                     directory: repositoryRoot)
        XCTAssertNotEqual(small.status, 0)
        XCTAssertTrue(small.stderr.contains("do not fit a space of 10 secrets; use more digits"), small.stderr)
    }
}
