import Foundation
import LLMComm
import LLMTestSupport
@testable import LLMTrain
import XCTest

/// checkpoint.async: saves written by a background thread while training goes on.
extension InProcessTrainingTests {
    func config(asynchronous: Bool) throws -> TrainConfig {
        var config = try config(steps: 6)
        config.checkpoint.every = 2
        config.checkpoint.asynchronous = asynchronous
        return config
    }

    /// Background saves hold the same bytes as synchronous ones, and a run stopped and resumed
    /// from one is the uninterrupted run bit for bit.
    func testAsyncSavesMatchSyncSavesAndResumeIsBitIdentical() throws {
        let sync = try TemporaryDirectory(), whole = try TemporaryDirectory(), split = try TemporaryDirectory()
        let syncLosses = try train(try config(asynchronous: false), worldSize: 2, runDirectory: sync.url)
        let wholeLosses = try train(try config(asynchronous: true), worldSize: 2, runDirectory: whole.url)
        assertBitIdentical(wholeLosses.map(Float.init), syncLosses.map(Float.init), "async vs sync losses")
        try train(try config(asynchronous: true), worldSize: 2, runDirectory: split.url, untilStep: 3)
        let splitLosses = try train(try config(asynchronous: true), worldSize: 2, runDirectory: split.url,
                                    resume: .latest)
        assertBitIdentical(splitLosses.map(Float.init), wholeLosses.map(Float.init), "resumed losses")
        for step in ["step-000004", "step-000006"] {
            for file in ["model.safetensors", "optimizer.safetensors"] {
                let path = "checkpoints/\(step)/\(file)"
                let reference = try Data(contentsOf: sync.url.appendingPathComponent(path))
                let written = try Data(contentsOf: whole.url.appendingPathComponent(path))
                XCTAssertEqual(written, reference, "async \(path)")
                XCTAssertEqual(try Data(contentsOf: split.url.appendingPathComponent(path)), reference, "resumed \(path)")
            }
        }
        XCTAssertEqual(try Checkpoint(step: 6, directory: whole.url.appendingPathComponent("checkpoints/step-000006"))
            .verify().step, 6)
        // One checkpoint event per save, stall and write timed, in both modes.
        for (run, asynchronous) in [(sync.url, 0.0), (whole.url, 1.0)] {
            let events = try records(run, event: "checkpoint")
            XCTAssertEqual(events.map { $0["step"] as? Double }, [2, 4, 6])
            XCTAssertTrue(events.allSatisfy { $0["async"] as? Double == asynchronous && $0["stall_s"] is Double
                && ($0["write_s"] as? Double ?? -1) > 0 })
        }
        let overlapped = try records(whole.url, event: "checkpoint").map { $0["overlapped_steps"] as? Double }
        XCTAssertEqual(overlapped.last, 0, "the last save is waited for at the end: no step overlaps it")
    }

    /// A background write that fails (here: `checkpoints` turned into a plain file under the
    /// trainer) fails the run with the path, instead of being lost with its thread.
    func testABackgroundWriteErrorFailsTheRunNamingThePath() throws {
        let run = try TemporaryDirectory()
        let config = try config(asynchronous: true)
        let checkpoints = run.url.appendingPathComponent("checkpoints")
        XCTAssertThrowsError(try InProcessCommunicator.run(worldSize: 2) { comm in
            let trainer = try Trainer(options: TrainOptions(config: config, runDirectory: run.url), comm: comm)
            if comm.isCoordinator {
                try FileManager.default.removeItem(at: checkpoints)
                try Data("not a directory".utf8).write(to: checkpoints)
            }
            try trainer.run()
        }) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("checkpoint of step 2, written in the background, failed"), message)
            XCTAssertTrue(message.contains(checkpoints.path + "/step-000002.tmp-"), message)
        }
        let losses = try records(run.url, event: "train").map { $0["step"] as? Double }
        XCTAssertLessThan(losses.count, 6, "the run stops at the failure, not at its end")
    }

    /// The writer thread's outcome, success or error, reaches the waiter (and a poll).
    func testBackgroundWriteReportsItsOutcome() throws {
        let failing = BackgroundWrite(name: "test") { throw CheckpointError.io(path: "/x/y", operation: "write",
                                                                               reason: "disk full") }
        guard case .failure(let failure) = failing.wait().result else { return XCTFail("the error was lost") }
        XCTAssertTrue(failure.description.contains("/x/y"), failure.description)
        XCTAssertNotNil(failing.finishedOutcome, "a poll after the wait sees the outcome too")
        let checkpoint = Checkpoint(step: 3, directory: URL(fileURLWithPath: "/tmp/step-000003"))
        let succeeding = BackgroundWrite(name: "test") { checkpoint }
        guard case .success(let written) = succeeding.wait().result else { return XCTFail("expected success") }
        XCTAssertEqual(written, checkpoint)
    }
}
