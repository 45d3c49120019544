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

    func testUnknownConfigFieldIsNamed() throws {
        let run = try TrainingRun(self, "typo")
        let result = try train(run, ["--set", "optimizer.lr=0.1"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("unknown field 'optimizer.lr'"), result.output)
    }

    func testResumeRefusesADifferentTokenizer() throws {
        let run = try TrainingRun(self, "tokenizer")
        XCTAssertEqual(try train(run, ["--steps", "2"]).status, 0)
        // Same vocabulary and ids, but not the same file: the checkpoint's tokens came from another.
        let other = run.directory.appendingPathComponent("other-tokenizer.json")
        var text = try String(contentsOf: run.directory.appendingPathComponent("data/tokenizer.json"), encoding: .utf8)
        text += "\n"
        try text.write(to: other, atomically: true, encoding: .utf8)
        let result = try train(run, ["--steps", "4", "--resume", "--set", "data.tokenizer=\(other.path)"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("tokenizer sha256"), result.output)
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
