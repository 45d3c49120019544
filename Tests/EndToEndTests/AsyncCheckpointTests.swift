import Foundation
import XCTest

/// checkpoint.async with the real binary under mpirun.
final class AsyncCheckpointTests: XCTestCase {
    private func arguments(_ run: TrainingRun, _ extra: [String]) -> [String] {
        ["train"] + quickRun + ["--run-dir", run.path, "--steps", "6", "--set", "checkpoint.every=2",
                                "--set", "checkpoint.async=true"] + extra
    }

    /// The coordinator SIGKILLed by its own background writer midway through the checkpoint of
    /// step 4 (test-only fault `kill9_in_save`, after model.safetensors, before the optimizer
    /// file, state and manifest): `latest` stays on step 2, which verifies, the half-written
    /// staging directory is never published, and a resume from step 2 ends where an
    /// uninterrupted run does, bit for bit.
    func testKill9OfTheCoordinatorMidSaveLeavesLatestOnThePreviousCheckpoint() throws {
        let killed = try TrainingRun(self, "kill-in-save"), straight = try TrainingRun(self, "straight-async")
        let binary = try Launcher.binary("swift-llm-train").path
        let crash = try Launcher.run(URL(fileURLWithPath: "/usr/bin/mpirun"),
                                     ["-n", "2", binary] + arguments(killed, []), environment: Launcher.mpiEnvironment.merging(
                                         ["SWIFT_LLM_TRAIN_FAULT": "rank:0,step:4,kind:kill9_in_save"]) { $1 },
                                     timeout: 300, directory: repositoryRoot)
        XCTAssertNotEqual(crash.status, 0, crash.output)
        XCTAssertEqual(try killed.latestCheckpoint().lastPathComponent, "step-000002", crash.output)
        let names = try FileManager.default.contentsOfDirectory(atPath: killed.checkpoints.path)
        XCTAssertFalse(names.contains("step-000004"), "a half-written checkpoint was published: \(names)")
        let staging = try XCTUnwrap(names.first { $0.hasPrefix("step-000004.tmp-") },
                                    "the kill came mid-save: \(names)")
        let staged = try FileManager.default.contentsOfDirectory(
            atPath: killed.checkpoints.appendingPathComponent(staging).path)
        XCTAssertEqual(staged, ["model.safetensors"], "killed between the weights and the optimizer file")

        let resumed = try Launcher.mpirun(2, "swift-llm-train", arguments(killed, ["--resume", "auto"]), timeout: 300,
                                          directory: repositoryRoot)
        XCTAssertEqual(resumed.status, 0, resumed.output)
        XCTAssertTrue(resumed.output.contains("step-000002 at step 2"), resumed.output)
        XCTAssertEqual(try Launcher.mpirun(2, "swift-llm-train", arguments(straight, []), timeout: 300,
                                           directory: repositoryRoot).status, 0)
        let final = (try straight.checksums(try straight.latestCheckpoint()),
                     try killed.checksums(try killed.latestCheckpoint()))
        XCTAssertEqual(try killed.latestCheckpoint().lastPathComponent, "step-000006")
        XCTAssertEqual(final.1["model.safetensors"], final.0["model.safetensors"])
        XCTAssertEqual(final.1["optimizer.safetensors"], final.0["optimizer.safetensors"])
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: killed.checkpoints.path)
            .contains { $0.contains(".tmp-") }, "the next save cleans the staging directory up")
    }
}
