import Foundation
import XCTest

/// What a user sees when something is wrong: each case fails with a message naming the file or
/// field and what to do, and no good checkpoint is lost.
final class TrainingFailureTests: XCTestCase {
    private func train(_ run: TrainingRun, _ extra: [String]) throws -> Launcher.Result {
        try Launcher.run("swift-llm-train", ["train"] + quickRun + ["--run-dir", run.path] + extra, directory: repositoryRoot)
    }

    func testResumeRefusesADifferentModelShape() throws {
        let run = try TrainingRun(self, "shape")
        XCTAssertEqual(try train(run, ["--steps", "2"]).status, 0)
        let result = try train(run, ["--steps", "4", "--resume", "--set", "model.layers=3"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("saved for model 2 layers"), result.output)
        XCTAssertTrue(result.stderr.contains("3 layers"), result.output)
    }

    func testCorruptCheckpointIsNamedAndFallbackOnlyWhenAsked() throws {
        let run = try TrainingRun(self, "corrupt")
        XCTAssertEqual(try train(run, ["--steps", "4", "--set", "checkpoint.every=2"]).status, 0)
        let latest = try run.latestCheckpoint()
        XCTAssertEqual(latest.lastPathComponent, "step-000004")
        // Flip one byte in the newest weights.
        let weights = latest.appendingPathComponent("model.safetensors")
        var bytes = try Data(contentsOf: weights)
        bytes[bytes.count - 3] ^= 0xFF
        try bytes.write(to: weights)

        let refused = try train(run, ["--steps", "6", "--resume"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("model.safetensors"), refused.output)

        let fallback = try train(run, ["--steps", "6", "--resume", "--allow-fallback"])
        XCTAssertEqual(fallback.status, 0, fallback.output)
        XCTAssertTrue(fallback.output.contains("step-000002"), fallback.output)
    }

    func testNonFiniteLossStopsWithACheckpointOfTheLastGoodState() throws {
        let run = try TrainingRun(self, "nan")
        let result = try train(run, ["--steps", "50", "--set", "optimizer.learning_rate=1e30",
                                     "--set", "optimizer.min_learning_rate=1e30", "--set", "optimizer.grad_clip=0",
                                     "--set", "optimizer.warmup_steps=0", "--set", "train.max_bad_steps=2"])
        XCTAssertNotEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("non-finite"), result.output)
        XCTAssertTrue(result.stderr.contains("train.max_bad_steps=2"), result.output)
        XCTAssertTrue(FileManager.default.fileExists(atPath: try run.latestCheckpoint().path))
    }

    /// A resumed run must optimise what the saved one did: a changed seed is refused, naming the
    /// field and both values, unless --allow-config-change, which logs the change.
    func testResumeRefusesAChangedSeedUnlessAllowed() throws {
        let run = try TrainingRun(self, "seed")
        XCTAssertEqual(try train(run, ["--steps", "2"]).status, 0)
        let refused = try train(run, ["--steps", "4", "--resume", "--set", "train.seed=7"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("train.seed: 1337 -> 7"), refused.output)
        XCTAssertTrue(refused.stderr.contains("--allow-config-change"), refused.output)
        XCTAssertEqual(try run.trainLosses().last?.step, 2, "a refused resume trains nothing")
        // --resume=PATH (the run directory) with the flag after it: both spellings parse.
        let allowed = try train(run, ["--steps", "4", "--resume=\(run.path)", "--allow-config-change", "--set", "train.seed=7"])
        XCTAssertEqual(allowed.status, 0, allowed.output)
        XCTAssertTrue(allowed.output.contains("continuing with changed settings: train.seed: 1337 -> "
                                              + "7"), allowed.output)
        XCTAssertEqual(try run.records(event: "config_change").first?["changes"] as? [String], ["train.seed: 1337 -> 7"])
        XCTAssertEqual(try run.trainLosses().last?.step, 4)
    }

    /// The first Ctrl-C asks for a checkpoint at the next step; a second one ends the process at
    /// once, leaving the last complete checkpoint in place.
    func testSecondInterruptExitsAtOnce() throws {
        let run = try TrainingRun(self, "sigint")
        // Steps of ~0.1 s or more, so the second signal lands while the first one's step runs
        // (two signals sent back to back would merge into one pending signal).
        let bigger = ["--set", "model.d_model=256", "--set", "model.heads=4", "--set", "model.layers=4"]
        XCTAssertEqual(try train(run, ["--steps", "2"] + bigger).status, 0)
        let metrics = run.directory.appendingPathComponent("metrics.jsonl")
        let before = try String(contentsOf: metrics, encoding: .utf8).split(separator: "\n").count
        let arguments = ["train"] + quickRun + bigger + ["--run-dir", run.path, "--resume", "--steps", "100000"]
        var delivered = false
        let result = try Launcher.run(try Launcher.binary("swift-llm-train"), arguments, environment: Launcher.mpiEnvironment,
                                      timeout: 120, directory: repositoryRoot) { process in
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline,
                  ((try? String(contentsOf: metrics, encoding: .utf8))?.split(separator: "\n").count ?? 0) < before + 3 {
                usleep(20_000)
            }
            delivered = kill(process.processIdentifier, SIGINT) == 0
            usleep(30_000)
            delivered = delivered && kill(process.processIdentifier, SIGINT) == 0
        }
        XCTAssertTrue(delivered)
        XCTAssertEqual(result.status, 128 + SIGINT, result.output)
        XCTAssertTrue(result.stderr.contains("second stop signal"), result.output)
        XCTAssertEqual(try run.latestCheckpoint().lastPathComponent, "step-000002", "the saved checkpoint stays latest")
    }

    func testUnknownConfigFieldIsNamed() throws {
        let run = try TrainingRun(self, "typo")
        let result = try train(run, ["--set", "optimizer.lr=0.1"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("unknown field 'optimizer.lr'"), result.output)
    }

    func testResumeRefusesADifferentTokenizer() throws {
        let run = try TrainingRun(self, "tokenizer")
        XCTAssertEqual(try train(run, ["--steps", "2"]).status, 0)
        let data = run.directory.appendingPathComponent("data")
        // The same tokenizer reformatted is the same tokenizer: accepted.
        let copy = run.directory.appendingPathComponent("copy-tokenizer.json")
        try (try String(contentsOf: data.appendingPathComponent("tokenizer.json"), encoding: .utf8) + "\n")
            .write(to: copy, atomically: true, encoding: .utf8)
        XCTAssertEqual(try train(run, ["--steps", "3", "--resume", "--set", "data.tokenizer=\(copy.path)"]).status, 0)
        // Another tokenizer of the same size: refused, and the run's prepared data is left alone.
        let other = run.directory.appendingPathComponent("other-tokenizer.json")
        let trained = try Launcher.run("swift-llm-train", ["tokenizer", "train", "--vocab-size", "512", "--output", other.path,
                                                           "Configs/tiny.yaml"], directory: repositoryRoot)
        XCTAssertEqual(trained.status, 0, trained.output)
        let manifestBefore = try Data(contentsOf: data.appendingPathComponent("manifest.json"))
        let result = try train(run, ["--steps", "4", "--resume", "--set", "data.tokenizer=\(other.path)"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("data.tokenizer: \(other.path) is not the tokenizer"), result.output)
        XCTAssertEqual(try Data(contentsOf: data.appendingPathComponent("manifest.json")), manifestBefore)
    }

    /// A failure on the coordinator alone (it owns the checkpoints) must end every rank, with the
    /// rank and the cause in the message, not leave the others waiting forever.
    func testAFailureOnOneRankEndsAllRanksWithTheCause() throws {
        let run = try TrainingRun(self, "onerank")
        XCTAssertEqual(try train(run, ["--steps", "2"]).status, 0)
        let result = try Launcher.mpirun(2, "swift-llm-train", ["train"] + quickRun + ["--run-dir", run.path, "--steps", "4"],
                                         timeout: 60, directory: repositoryRoot)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.output.contains("rank 0 of 2"), result.output)
        XCTAssertTrue(result.output.contains("already holds checkpoints"), result.output)
    }

    func testDebugModeChecksLayersAndLogsEveryMicroBatch() throws {
        let run = try TrainingRun(self, "debug")
        let result = try train(run, ["--steps", "2", "--debug"])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.stderr.contains("[debug] rank 0 step 2 micro 7: samples 30..<32"), result.output)
    }
}

extension TrainingFailureTests {
    /// Replicas that drift apart (here: one weight of rank 1 nudged by the test-only fault
    /// injector) are caught at the next drift check, which names the rank and ends every rank.
    func testReplicaDriftIsCaughtAndNamesTheRank() throws {
        let run = try TrainingRun(self, "drift")
        let result = try Launcher.run(URL(fileURLWithPath: "/usr/bin/mpirun"),
                                      ["-n", "2", try Launcher.binary("swift-llm-train").path, "train"] + quickRun
                                      + ["--run-dir", run.path, "--steps", "10", "--set", "train.drift_check_every=2"],
                                      environment: Launcher.mpiEnvironment.merging(["SWIFT_LLM_TRAIN_FAULT": "rank:1,step:4,kind:drift"]) { $1 },
                                      timeout: 120, directory: repositoryRoot)
        XCTAssertNotEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("replica drift at step 4: rank 1's parameter checksum"), result.output)
        XCTAssertEqual(try run.trainLosses().last?.step, 4, "training must stop at the check that failed")
    }

    func testMalformedFaultVariableIsAnError() throws {
        let run = try TrainingRun(self, "fault")
        let result = try Launcher.run("swift-llm-train", ["train"] + quickRun + ["--run-dir", run.path, "--steps", "2"],
                                      environment: ["SWIFT_LLM_TRAIN_FAULT": "step:x"], directory: repositoryRoot)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("SWIFT_LLM_TRAIN_FAULT=step:x"), result.output)
    }
}
