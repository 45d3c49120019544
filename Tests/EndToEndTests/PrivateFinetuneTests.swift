import Foundation
import XCTest

/// DP-SGD fine-tuning (`privacy.enabled`) of the release binary, on FinetuneTests' task.
extension FinetuneTests {
    static let privately = ["--set", "privacy.enabled=true", "--set", "privacy.max_grad_norm=0.5",
                            "--set", "optimizer.grad_clip=0"]

    func state(_ run: RunDirectoryReading) throws -> [String: Any] {
        let data = try Data(contentsOf: try run.latestCheckpoint().appendingPathComponent("state.json"))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    /// Noise off (clipping only), the same seed: 1 and 2 ranks take the same Poisson batches
    /// and clip the same examples, so losses and validation agree to float tolerance.
    func testPrivateOneAndTwoRanksAgreeWithoutNoise() throws {
        let extra = Self.privately + ["--set", "privacy.noise_multiplier=0", "--set", "privacy.noise_seed=7",
                                      "--steps", "5"]
        let one = try TrainingRun(self, "dp-n1"), two = try TrainingRun(self, "dp-n2")
        try finetune(0, one, extra)
        try finetune(2, two, extra)
        let a = try one.trainLosses(), b = try two.trainLosses()
        XCTAssertEqual(a.count, 5)
        for (x, y) in zip(a, b) { XCTAssertEqual(x.loss, y.loss, accuracy: 1e-4 * max(1, abs(y.loss)), "step \(x.step)") }
        let evalA = try one.records(event: "eval").last!, evalB = try two.records(event: "eval").last!
        XCTAssertEqual(evalA["val_loss"] as! Double, evalB["val_loss"] as! Double, accuracy: 1e-4)
        // Without noise there is no finite epsilon: none is logged or saved.
        XCTAssertNil(try one.records(event: "train").last!["epsilon"])
        XCTAssertNil((try state(one)["privacy"] as! [String: Any])["epsilon"])
    }

    /// Noise on, its seed drawn at random and saved: stopped at step 3 and resumed, the run
    /// continues the same noise stream, bit for bit the same as a straight run with that seed.
    /// The epsilon logged and saved is the accountant's (`privacy-epsilon`) for the run's q, sigma, steps.
    func testPrivateResumeIsBitIdenticalAndEpsilonIsTheAccountants() throws {
        let extra = Self.privately + ["--set", "privacy.noise_multiplier=1.2", "--steps", "6"]
        let split = try TrainingRun(self, "dp-split"), straight = try TrainingRun(self, "dp-straight")
        try finetune(2, split, extra + ["--until-step", "3"])
        let resumed = try finetune(2, split, extra + ["--resume"])
        XCTAssertTrue(resumed.output.contains("resumed from"), resumed.output)
        XCTAssertTrue(resumed.output.contains("| ε "), resumed.output)
        let privacy = try state(split)["privacy"] as! [String: Any]
        // Decoded as UInt64 (JSONSerialization could round a seed above 2^63 through Double).
        struct Saved: Decodable { struct Privacy: Decodable { var noiseSeed: UInt64 }; var privacy: Privacy }
        let saved = try JSONDecoder().decode(Saved.self, from: Data(contentsOf: try split.latestCheckpoint()
            .appendingPathComponent("state.json")))
        let seed = Int64(bitPattern: saved.privacy.noiseSeed)
        try finetune(2, straight, extra + ["--set", "privacy.noise_seed=\(seed)"])
        XCTAssertEqual(try straight.trainLosses().map(\.loss), try split.trainLosses().map(\.loss))
        let a = try straight.checksums(try straight.latestCheckpoint()), b = try split.checksums(try split.latestCheckpoint())
        XCTAssertEqual(a["model.safetensors"], b["model.safetensors"])

        let q = privacy["sampleRate"] as! Double, delta = privacy["delta"] as! Double
        XCTAssertEqual(privacy["noiseMultiplier"] as! Double, 1.2)
        let accountant = try Launcher.run("swift-llm-train", ["privacy-epsilon", "--sample-rate", "\(q)", "--noise", "1.2",
                                                              "--steps", "6", "--delta", "\(delta)"], directory: repositoryRoot)
        let expected = Double(accountant.output.split(separator: " ")[1])!
        XCTAssertEqual(privacy["epsilon"] as! Double, expected, accuracy: 1e-9 * expected)
        XCTAssertEqual(try split.records(event: "train").last!["epsilon"] as! Double, expected, accuracy: 1e-9 * expected)
    }

    /// task.trainable=last_blocks:1 (of tiny.yaml's 2 blocks) with noise, on 2 ranks (ZeRO
    /// shards): the frozen tensors keep the pre-trained bytes exactly (no gradient, noise or
    /// weight decay reached them); every trained one moved.
    func testFrozenTensorsKeepThePretrainedWeightsUnderNoise() throws {
        let run = try TrainingRun(self, "dp-frozen")
        try finetune(2, run, Self.privately + ["--set", "privacy.noise_multiplier=1", "--set", "task.trainable=last_blocks:1",
                                               "--steps", "3"])
        let before = try tensors(try pretrainedRun().latestCheckpoint().appendingPathComponent("model.safetensors"))
        let after = try tensors(try run.latestCheckpoint().appendingPathComponent("model.safetensors"))
        let trained = after.keys.filter { $0.hasPrefix("h.1.") || $0.hasPrefix("ln_f.") || $0 == "score.weight" }
        XCTAssertEqual(trained.count, 12 + 2 + 1)
        for (name, tensor) in after where !trained.contains(name) {
            XCTAssertEqual(tensor.bytes, before[name]?.bytes, "frozen \(name) changed")
        }
        for name in trained where name != "score.weight" {
            XCTAssertNotEqual(after[name]!.bytes, before[name]!.bytes, "trained \(name) did not move")
        }
    }

    /// target_epsilon picks the noise for train.steps: the run ends at (just under) the target.
    func testTargetEpsilonIsReachedAtTheLastStep() throws {
        let run = try TrainingRun(self, "dp-target")
        try finetune(0, run, Self.privately + ["--set", "privacy.target_epsilon=3", "--steps", "4"])
        let privacy = try state(run)["privacy"] as! [String: Any]
        XCTAssertLessThanOrEqual(privacy["epsilon"] as! Double, 3)
        XCTAssertGreaterThan(privacy["epsilon"] as! Double, 2.98)
    }
}
