import Foundation
import XCTest

/// Real training runs of the release binary, alone and under mpirun, compared through what they
/// leave in their run directories (metrics.jsonl, checkpoints).
final class DistributedTrainingTests: XCTestCase {
    private func dataset() throws -> [String] { try SharedDataset.arguments() }

    private func train(_ ranks: Int, _ run: TrainingRun, _ extra: [String], expectSuccess: Bool = true,
                       file: StaticString = #filePath, line: UInt = #line) throws -> Launcher.Result {
        let arguments = ["train"] + quickRun + (try dataset()) + ["--run-dir", run.path] + extra
        let result = ranks == 0
            ? try Launcher.run("swift-llm-train", arguments, directory: repositoryRoot)
            : try Launcher.mpirun(ranks, "swift-llm-train", arguments, directory: repositoryRoot)
        if expectSuccess { XCTAssertEqual(result.status, 0, result.output, file: file, line: line) }
        return result
    }

    private func assertClose(_ a: [(step: Int, loss: Double)], _ b: [(step: Int, loss: Double)], tolerance: Double,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.map(\.step), b.map(\.step), file: file, line: line)
        for (x, y) in zip(a, b) {
            XCTAssertEqual(x.loss, y.loss, accuracy: tolerance * max(1, abs(x.loss)), "step \(x.step)", file: file, line: line)
        }
    }

    /// The config fixes the global batch, so 1, 2 and 8 ranks solve the same problem, with the
    /// optimiser sharded or not: only the order of floating-point sums differs.
    func testOneTwoAndEightRanksAgree() throws {
        let single = try TrainingRun(self, "n1"), two = try TrainingRun(self, "n2"), eight = try TrainingRun(self, "n8")
        _ = try train(0, single, ["--steps", "20"])
        _ = try train(2, two, ["--steps", "20"])
        _ = try train(8, eight, ["--steps", "20"])
        let unsharded = try TrainingRun(self, "n2-unsharded")
        _ = try train(2, unsharded, ["--steps", "20", "--set", "train.shard_optimizer=false"])
        let reference = try single.trainLosses()
        XCTAssertEqual(reference.count, 20)
        XCTAssertLessThan(reference.last!.loss, reference.first!.loss, "the loss must fall")
        assertClose(try two.trainLosses(), reference, tolerance: 1e-4)
        assertClose(try eight.trainLosses(), reference, tolerance: 1e-4)
        assertClose(try unsharded.trainLosses(), reference, tolerance: 1e-4)
        // The gradient norm is global in both modes (each square counted once).
        let norms = { (run: TrainingRun) in try run.records(event: "train").map { $0["grad_norm"] as! Double } }
        for (a, b) in zip(try norms(unsharded), try norms(single)) { XCTAssertEqual(a, b, accuracy: 1e-3 * b) }
        for (a, b) in zip(try norms(two), try norms(single)) { XCTAssertEqual(a, b, accuracy: 1e-3 * b) }
    }

    /// The gradient reduction's wait for the slowest rank is logged apart (comm_wait_share):
    /// when rank 1 stalls 2 s after step 3, rank 0 spends most of step 4 waiting, more than in
    /// any other step; every wait lies within its step's communication time.
    func testWaitForTheSlowestRankIsLoggedApart() throws {
        let run = try TrainingRun(self, "stall")
        let arguments = ["-n", "2", try Launcher.binary("swift-llm-train").path, "train"] + quickRun + (try dataset())
            + ["--run-dir", run.path, "--steps", "6"]
        let result = try Launcher.run(URL(fileURLWithPath: "/usr/bin/mpirun"), arguments,
                                      environment: Launcher.mpiEnvironment.merging(
                                          ["SWIFT_LLM_TRAIN_FAULT": "rank:1,step:3,kind:stall"]) { $1 },
                                      timeout: 120, directory: repositoryRoot)
        XCTAssertEqual(result.status, 0, result.output)
        let records = try run.records(event: "train")
        XCTAssertEqual(records.count, 6)
        var waits: [Int: Double] = [:]
        for record in records {
            let step = Int(record["step"] as! Double)
            let wait = try XCTUnwrap(record["comm_wait_share"] as? Double, "step \(step) logs no comm_wait_share")
            XCTAssertLessThanOrEqual(wait, record["comm_share"] as! Double, "step \(step)")
            waits[step] = wait
        }
        XCTAssertGreaterThan(waits[4] ?? 0, 0.5, "step 4 waited 2 s for rank 1: \(waits)")
        XCTAssertEqual(waits.max { $0.value < $1.value }?.key, 4, "\(waits)")
        // One process has no one to wait for, and says nothing about it.
        let single = try TrainingRun(self, "stall-n1")
        _ = try train(0, single, ["--steps", "2"])
        XCTAssertTrue(try single.records(event: "train").allSatisfy { $0["comm_wait_share"] == nil })
    }

    /// 20 steps straight versus 10, stop, resume, 10 more: identical losses and identical final
    /// weights and AdamW moments, bit for bit.
    func testResumeAtSameWorldSizeIsBitIdentical() throws {
        let straight = try TrainingRun(self, "straight"), split = try TrainingRun(self, "split")
        _ = try train(2, straight, ["--steps", "20"])
        _ = try train(2, split, ["--steps", "20", "--until-step", "10"])
        XCTAssertEqual(try split.trainLosses().count, 10)
        XCTAssertTrue(try split.latestCheckpoint().lastPathComponent.hasSuffix("10"))
        let resumed = try train(2, split, ["--steps", "20", "--resume"])
        XCTAssertTrue(resumed.output.contains("resumed from"), resumed.output)
        let a = try straight.trainLosses(), b = try split.trainLosses()
        XCTAssertEqual(a.map(\.step), b.map(\.step))
        XCTAssertEqual(a.map(\.loss), b.map(\.loss), "resumed losses must equal the uninterrupted run's exactly")
        let final = (try straight.checksums(try straight.latestCheckpoint()), try split.checksums(try split.latestCheckpoint()))
        XCTAssertEqual(final.0["model.safetensors"], final.1["model.safetensors"])
        XCTAssertEqual(final.0["optimizer.safetensors"], final.1["optimizer.safetensors"])
    }

    /// Saved by 8 ranks, resumed by 2 (and by 1): same global data order and batch, so the losses
    /// follow the uninterrupted 2-rank run to fp tolerance.
    func testResumeAtDifferentWorldSizeContinuesTheSameRun() throws {
        let straight = try TrainingRun(self, "straight2"), eight = try TrainingRun(self, "from8")
        _ = try train(2, straight, ["--steps", "16"])
        _ = try train(8, eight, ["--steps", "16", "--until-step", "8"])
        // --resume with a run directory (rather than bare) means that run's latest checkpoint.
        let resumed = try train(2, eight, ["--steps", "16", "--resume", eight.path])
        XCTAssertTrue(resumed.output.contains("saved with 8 ranks, now 2"), resumed.output)
        assertClose(try eight.trainLosses(), try straight.trainLosses(), tolerance: 1e-4)
    }

    /// Starts a 2-rank run with an unreachable step budget and calls `interrupt` while it trains;
    /// `interrupt` waits for what it needs and returns whether it delivered its signal.
    private func interruptedRun(_ run: TrainingRun, _ extra: [String],
                                interrupt: @escaping (Process) -> Bool) throws -> Launcher.Result {
        let arguments = ["-n", "2", try Launcher.binary("swift-llm-train").path, "train"] + quickRun + (try dataset())
            + ["--run-dir", run.path, "--steps", "100000"] + extra
        var delivered = false
        let result = try Launcher.run(URL(fileURLWithPath: "/usr/bin/mpirun"), arguments, environment: Launcher.mpiEnvironment,
                                      timeout: 120, directory: repositoryRoot) { delivered = interrupt($0) }
        XCTAssertTrue(delivered, "the run was never interrupted: \(result.output)")
        return result
    }

    /// The ranks: mpirun's child processes.
    private func children(of process: Process) -> [Int32] {
        let pid = process.processIdentifier
        let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        return text.split(separator: " ").compactMap { Int32($0) }
    }

    private func waitFor(_ condition: () -> Bool) {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, !condition() { usleep(50_000) }
    }

    /// SIGTERM to one rank (as a scheduler sends it) stops every rank after the same step: the
    /// flag rides in the per-step all-reduce. The coordinator saves, all exit cleanly, and a
    /// --resume run finishes the budget.
    func testSigtermStopsAllRanksWithACheckpoint() throws {
        let run = try TrainingRun(self, "sigterm")
        let metrics = run.directory.appendingPathComponent("metrics.jsonl")
        let result = try interruptedRun(run, []) { process in
            self.waitFor { ((try? String(contentsOf: metrics, encoding: .utf8))?.split(separator: "\n").count ?? 0) >= 5 }
            guard let rank = self.children(of: process).last else { return false }
            return kill(rank, SIGTERM) == 0
        }
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("stopped after step"), result.output)
        XCTAssertFalse(result.output.contains("MPI_ABORT"), result.output)
        let stopStep = try run.trainLosses().last!.step
        XCTAssertTrue(try run.latestCheckpoint().lastPathComponent.hasSuffix(String(format: "%06d", stopStep)))
        _ = try train(2, run, ["--steps", "\(stopStep + 3)", "--resume"])
        XCTAssertEqual(try run.trainLosses().last!.step, stopStep + 3)
    }

    /// kill -9 of one rank mid-run ends the job; relaunching with --resume continues from the
    /// last checkpoint and finishes.
    func testKillOneRankThenResumeFinishes() throws {
        let run = try TrainingRun(self, "kill9")
        let latest = run.checkpoints.appendingPathComponent("latest")
        let result = try interruptedRun(run, ["--set", "checkpoint.every=3"]) { process in
            self.waitFor { FileManager.default.fileExists(atPath: latest.path) }
            usleep(300_000)
            guard let rank = self.children(of: process).last else { return false }
            return kill(rank, SIGKILL) == 0
        }
        XCTAssertNotEqual(result.status, 0, "killing a rank must fail the job: \(result.output)")
        let checkpoint = try run.latestCheckpoint()
        let savedStep = Int(checkpoint.lastPathComponent.dropFirst("step-".count))!
        XCTAssertGreaterThanOrEqual(savedStep, 3)
        let resumed = try train(2, run, ["--steps", "\(savedStep + 4)", "--resume"])
        XCTAssertTrue(resumed.output.contains("resumed from \(checkpoint.path)") || resumed.output.contains("at step \(savedStep)"), resumed.output)
        XCTAssertEqual(try run.trainLosses().last!.step, savedStep + 4)
    }
}
