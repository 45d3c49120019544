import Foundation
import XCTest
import LLMTrain
import Yams

final class ConfigTests: XCTestCase {
    private func write(_ text: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("config-\(UUID().uuidString).yaml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    private func assertConfigError(_ body: @autoclosure () throws -> Any, contains parts: [String],
                                   file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            let text = "\(error)"
            for part in parts { XCTAssertTrue(text.contains(part), "'\(text)' lacks '\(part)'", file: file, line: line) }
        }
    }

    func testShippedPresetsLoad() throws {
        let configs = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Configs")
        let benchI = try TrainConfig.load(path: configs.appendingPathComponent("bench-i.yaml").path)
        XCTAssertEqual([benchI.model.layers, benchI.model.modelDim, benchI.model.heads, benchI.model.vocabSize,
                        benchI.model.contextLength, benchI.train.globalBatch], [4, 256, 4, 4096, 128, 8])
        let benchII = try TrainConfig.load(path: configs.appendingPathComponent("bench-ii.yaml").path)
        XCTAssertEqual([benchII.model.layers, benchII.model.modelDim, benchII.model.heads, benchII.model.vocabSize,
                        benchII.model.contextLength, benchII.train.globalBatch], [6, 384, 6, 8192, 256, 4])
        let tiny = try TrainConfig.load(path: configs.appendingPathComponent("tiny.yaml").path)
        XCTAssertEqual(tiny.train.steps, 300)
    }

    func testFileOverridesDefaultsAndSetOverridesFile() throws {
        let path = try write("optimizer:\n  learning_rate: 1.0e-3\ntrain:\n  steps: 7\n")
        let config = try TrainConfig.load(path: path, overrides: ["train.steps=9", "model.activation=relu",
                                                                  "data.dataset=/tmp/x", "optimizer.beta2=0.99"])
        XCTAssertEqual(config.optimizer.learningRate, 1e-3)
        XCTAssertEqual(config.train.steps, 9)
        XCTAssertEqual(config.model.activation, .relu)
        XCTAssertEqual(config.data.dataset, "/tmp/x")
        XCTAssertEqual(config.optimizer.beta2, 0.99)
        XCTAssertEqual(config.train.globalBatch, TrainConfig().train.globalBatch, "untouched fields keep defaults")
    }

    func testConfigRoundTripsThroughYAML() throws {
        var config = TrainConfig()
        config.train.steps = 1234
        config.model.activation = .relu
        let path = try write(try config.yaml())
        XCTAssertEqual(try TrainConfig.load(path: path), config)
    }

    func testBadInputNamesFileAndField() throws {
        let typo = try write("optimizer:\n  lerning_rate: 0.1\n")
        assertConfigError(try TrainConfig.load(path: typo), contains: [typo, "optimizer.lerning_rate", "learning_rate"])
        let wrongType = try write("train:\n  steps: many\n")
        assertConfigError(try TrainConfig.load(path: wrongType), contains: [wrongType, "train.steps"])
        assertConfigError(try TrainConfig.load(path: "/nonexistent/x.yaml"), contains: ["/nonexistent/x.yaml", "cannot read"])
        let broken = try write("train: [unclosed\n")
        assertConfigError(try TrainConfig.load(path: broken), contains: [broken, "YAML"])
        assertConfigError(try TrainConfig.load(path: nil, overrides: ["train.stepz=3"]), contains: ["--set train.stepz=3", "unknown field"])
        assertConfigError(try TrainConfig.load(path: nil, overrides: ["novalue"]), contains: ["--set novalue", "section.key=value"])
        assertConfigError(try TrainConfig.load(path: nil, overrides: ["model.heads=3"]), contains: ["model.d_model", "model.heads"])
        assertConfigError(try TrainConfig.load(path: nil, overrides: ["train.sequence_length=65"]), contains: ["train.sequence_length"])
        let dp = ["privacy.enabled=true"]
        assertConfigError(try TrainConfig.load(path: nil, overrides: dp + ["privacy.max_grad_norm=0"]),
                          contains: ["privacy.max_grad_norm"])
        assertConfigError(try TrainConfig.load(path: nil, overrides: dp + ["privacy.delta=1"]), contains: ["privacy.delta"])
        assertConfigError(try TrainConfig.load(path: nil, overrides: dp + ["privacy.target_epsilon=-1"]),
                          contains: ["privacy.target_epsilon"])
        // Off, the section is not checked: its defaults stay valid whatever it holds.
        XCTAssertNoThrow(try TrainConfig.load(path: nil, overrides: ["privacy.max_grad_norm=0"]))
    }

    /// Saved configs show floats as written (3e-3, not 3.00000002607703e-3) and read back exactly.
    func testSavedConfigKeepsFloatsShort() throws {
        let config = try TrainConfig.load(path: nil, overrides: ["optimizer.learning_rate=3e-3", "optimizer.beta2=0.95"])
        let yaml = try config.yaml()
        XCTAssertTrue(yaml.contains("learning_rate: 3e-3"), yaml)
        XCTAssertTrue(yaml.contains("beta2: 9.5e-1"), yaml)
        XCTAssertFalse(yaml.contains("0000000"), yaml)
        XCTAssertEqual(try YAMLDecoder().decode(TrainConfig.self, from: yaml), config)
    }

    func testBadValueFromSetIsBlamedOnSetNotTheFile() throws {
        let tiny = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Configs/tiny.yaml").path
        assertConfigError(try TrainConfig.load(path: tiny, overrides: ["optimizer.learning_rate=abc"]),
                          contains: ["--set optimizer.learning_rate=abc", "optimizer.learning_rate"])
    }

    /// Resume compares configs field by field; only the schedule-neutral fields may change freely.
    func testChangesNameEachDifferingField() throws {
        let saved = TrainConfig()
        var new = saved
        new.train.seed = 7
        new.train.steps = 900
        let changes = try new.changes(from: saved)
        XCTAssertEqual(changes.map(\.change), ["train.steps: 200 -> 900", "train.seed: 1337 -> 7"])
        XCTAssertEqual(changes.filter { !TrainConfig.resumableFields.contains($0.field) }.map(\.field), ["train.seed"])
    }

    func testBatchPlanKeepsTheGlobalBatchAtEveryWorldSize() throws {
        var config = TrainConfig()
        config.train.globalBatch = 16
        config.train.microBatch = 4
        XCTAssertEqual(try config.batchPlan(worldSize: 1), BatchPlan(worldSize: 1, sequencesPerRank: 16, microBatch: 4, accumulationSteps: 4))
        XCTAssertEqual(try config.batchPlan(worldSize: 2), BatchPlan(worldSize: 2, sequencesPerRank: 8, microBatch: 4, accumulationSteps: 2))
        XCTAssertEqual(try config.batchPlan(worldSize: 8), BatchPlan(worldSize: 8, sequencesPerRank: 2, microBatch: 2, accumulationSteps: 1))
        assertConfigError(try config.batchPlan(worldSize: 3), contains: ["train.global_batch (16)", "3"])
        config.train.microBatch = 3
        assertConfigError(try config.batchPlan(worldSize: 1), contains: ["train.micro_batch", "16"])
    }

    /// The trainer's slicing: at every world size the micro-batches of step s, taken rank by rank,
    /// are exactly global samples s*G ..< (s+1)*G, in order, each once.
    func testEveryWorldSizeTakesTheSameSamplesInTheSameOrder() throws {
        var config = TrainConfig()
        config.train.globalBatch = 48
        config.train.microBatch = 2
        for world in [1, 2, 3, 4, 6, 8] {
            let plan = try config.batchPlan(worldSize: world)
            for step in [0, 1, 7] {
                let taken = (0..<world).flatMap { rank in
                    (0..<plan.accumulationSteps).flatMap { plan.samples(step: step, rank: rank, micro: $0) }
                }
                XCTAssertEqual(taken, Array(step * 48..<(step + 1) * 48), "world size \(world), step \(step)")
            }
        }
    }
}
