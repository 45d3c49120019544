import Foundation
import XCTest

/// DP-SGD for language-model training (`train` with `privacy.enabled`; the example is a window),
/// on the pre-training run's prepared data, mirroring PrivateFinetuneTests.
extension FinetuneTests {
    @discardableResult
    func trainPrivately(_ ranks: Int, _ run: TrainingRun, _ extra: [String],
                        file: StaticString = #filePath, line: UInt = #line) throws -> Launcher.Result {
        let arguments = ["train"] + quickRun + ["--set", "data.dataset=\(try pretrainedRun().directory.path)/data",
                                                "--run-dir", run.path] + Self.privately + extra
        let result = ranks == 0
            ? try Launcher.run("swift-llm-train", arguments, directory: repositoryRoot)
            : try Launcher.mpirun(ranks, "swift-llm-train", arguments, directory: repositoryRoot)
        XCTAssertEqual(result.status, 0, result.output, file: file, line: line)
        return result
    }

    /// Noise off: 1 and 2 ranks take the same Poisson sample of windows and clip the same ones.
    func testPrivateTrainOneAndTwoRanksAgreeWithoutNoise() throws {
        let extra = ["--set", "privacy.noise_multiplier=0", "--set", "privacy.noise_seed=7", "--steps", "4"]
        let one = try TrainingRun(self, "dplm-n1"), two = try TrainingRun(self, "dplm-n2")
        try trainPrivately(0, one, extra)
        try trainPrivately(2, two, extra)
        let a = try one.trainLosses(), b = try two.trainLosses()
        XCTAssertEqual(a.count, 4)
        for (x, y) in zip(a, b) {
            XCTAssertEqual(x.loss, y.loss, accuracy: 1e-4 * max(1, abs(y.loss)), "step \(x.step)")
        }
        let evalA = try one.records(event: "eval").last!, evalB = try two.records(event: "eval").last!
        XCTAssertEqual(evalA["val_loss"] as! Double, evalB["val_loss"] as! Double, accuracy: 1e-4)
        XCTAssertNil((try state(one)["privacy"] as! [String: Any])["epsilon"])
    }

    /// Noise on, seed drawn and saved: stopped and resumed is bit-identical to a straight run
    /// with the saved seed, and epsilon is logged.
    func testPrivateTrainResumeIsBitIdentical() throws {
        let extra = ["--set", "privacy.noise_multiplier=1.1", "--steps", "4"]
        let split = try TrainingRun(self, "dplm-split"), straight = try TrainingRun(self, "dplm-straight")
        try trainPrivately(2, split, extra + ["--until-step", "2"])
        let resumed = try trainPrivately(2, split, extra + ["--resume"])
        XCTAssertTrue(resumed.output.contains("resumed from"), resumed.output)
        XCTAssertTrue(resumed.output.contains("| ε "), resumed.output)
        struct Saved: Decodable { struct Privacy: Decodable { var noiseSeed: UInt64 }; var privacy: Privacy }
        let saved = try JSONDecoder().decode(Saved.self, from: Data(contentsOf: try split.latestCheckpoint()
            .appendingPathComponent("state.json")))
        let seed = Int64(bitPattern: saved.privacy.noiseSeed)
        try trainPrivately(2, straight, extra + ["--set", "privacy.noise_seed=\(seed)"])
        XCTAssertEqual(try straight.trainLosses().map(\.loss), try split.trainLosses().map(\.loss))
        let a = try straight.checksums(try straight.latestCheckpoint())
        let b = try split.checksums(try split.latestCheckpoint())
        XCTAssertEqual(a["model.safetensors"], b["model.safetensors"])
        let privacy = try state(split)["privacy"] as! [String: Any]
        XCTAssertGreaterThan(privacy["epsilon"] as! Double, 0)
    }
}
