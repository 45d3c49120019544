import Foundation
import LLMComm
import LLMData
import LLMTestSupport
import LLMTrain
import XCTest

/// The trainer at world sizes above 1 inside one process (ranks as threads), so sharding,
/// checkpoints and resume are unit-tested without mpirun; the end-to-end tests repeat the
/// important cases with the real binary under mpirun.
final class InProcessTrainingTests: XCTestCase {
    /// A small prepared dataset (tokenizer of 300 tokens), made once for the whole class.
    nonisolated(unsafe) static var dataset: TemporaryDirectory?

    override class func tearDown() { dataset = nil }

    func datasetDirectory() throws -> URL {
        if let dataset = Self.dataset { return dataset.url }
        let directory = try TemporaryDirectory()
        let posts = try ShippedCorpus.posts().enumerated().filter { $0.offset % 20 == 0 }.map(\.element)
        let tokenizer = try BPETrainer.train(texts: posts.filter { $0.split == .train }.map(\.text), vocabSize: 300)
        _ = try DatasetPreparer.prepare(posts: posts, sources: ["test"], tokenizer: tokenizer, output: directory.url)
        Self.dataset = directory
        return directory.url
    }

    func config(steps: Int = 6, shard: Bool = true) throws -> TrainConfig {
        var config = TrainConfig()
        config.model = .init(vocabSize: 300, contextLength: 16, layers: 1, heads: 2, modelDim: 32)
        config.data.dataset = try datasetDirectory().path
        config.train.steps = steps
        config.train.globalBatch = 8
        config.train.microBatch = 2
        config.train.sequenceLength = 16
        config.train.logEvery = 1
        config.train.threads = 1
        config.train.shardOptimizer = shard
        config.optimizer.warmupSteps = 2
        config.eval.every = 0
        config.eval.sequences = 8
        config.checkpoint.every = 3
        return config
    }

    /// Trains on `worldSize` in-process ranks and returns the logged (step, loss) pairs.
    @discardableResult
    func train(_ config: TrainConfig, worldSize: Int, runDirectory: URL, resume: ResumeRequest? = nil,
               untilStep: Int? = nil) throws -> [Double] {
        try InProcessCommunicator.run(worldSize: worldSize) { comm in
            var options = TrainOptions(config: config, runDirectory: runDirectory, resume: resume)
            options.untilStep = untilStep
            try Trainer(options: options, comm: comm).run()
        }
        let text = try String(contentsOf: runDirectory.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        return text.split(separator: "\n").compactMap { line in
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return object?["event"] as? String == "train" ? object?["train_loss"] as? Double : nil
        }
    }

    func testTwoAndFourRanksFollowTheOneRankRun() throws {
        let config = try config()
        let runs = try (0..<3).map { _ in try TemporaryDirectory() }
        let one = try train(config, worldSize: 1, runDirectory: runs[0].url)
        XCTAssertEqual(one.count, 6)
        for (ranks, run) in zip([2, 4], runs.dropFirst()) {
            let many = try train(config, worldSize: ranks, runDirectory: run.url)
            assertClose(many.map(Float.init), one.map(Float.init), absolute: 1e-4, relative: 1e-4, "losses at \(ranks) ranks")
        }
    }

    func testShardedAndReplicatedUpdatesAgree() throws {
        let a = try TemporaryDirectory(), b = try TemporaryDirectory()
        let sharded = try train(try config(shard: true), worldSize: 2, runDirectory: a.url)
        let replicated = try train(try config(shard: false), worldSize: 2, runDirectory: b.url)
        assertClose(sharded.map(Float.init), replicated.map(Float.init), absolute: 1e-5, relative: 1e-5, "losses")
    }

    /// Stopped after step 3 and resumed at the same world size, the run is the uninterrupted one
    /// bit for bit: losses and the final weights.
    func testResumeAtTwoRanksIsBitIdentical() throws {
        let config = try config()
        let whole = try TemporaryDirectory(), split = try TemporaryDirectory()
        let wholeLosses = try train(config, worldSize: 2, runDirectory: whole.url)
        try train(config, worldSize: 2, runDirectory: split.url, untilStep: 3)
        let splitLosses = try train(config, worldSize: 2, runDirectory: split.url, resume: .latest)
        assertBitIdentical(splitLosses.map(Float.init), wholeLosses.map(Float.init), "losses")
        let weights = "checkpoints/step-000006/model.safetensors"
        XCTAssertEqual(try Data(contentsOf: split.url.appendingPathComponent(weights)),
                       try Data(contentsOf: whole.url.appendingPathComponent(weights)), "final weights")
    }

    /// A failure on one rank (here: rank 0 refuses a run directory that already has checkpoints)
    /// reaches every rank instead of leaving them waiting.
    func testAnErrorOnTheCoordinatorEndsEveryRank() throws {
        let config = try config(steps: 3)
        let run = try TemporaryDirectory()
        try train(config, worldSize: 2, runDirectory: run.url)
        XCTAssertThrowsError(try train(config, worldSize: 2, runDirectory: run.url)) { error in
            XCTAssertTrue("\(error)".contains("already holds checkpoints"), "\(error)")
        }
    }
}

extension InProcessTrainingTests {
    func records(_ run: URL, event: String) throws -> [[String: Any]] {
        let text = try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        return text.split(separator: "\n").compactMap { line in
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return object?["event"] as? String == event ? object : nil
        }
    }

    /// 5 validation windows in micro-batches of 2 leave a short last batch at every world size
    /// (1: 2+2+1, 2: 2+1 | 2, 3: 2 | 2 | 1); each window must count once, so all agree.
    func testValidationLossCountsEveryWindowOnceAtAnyWorldSize() throws {
        var config = try config(steps: 2)
        config.train.globalBatch = 12
        config.eval.sequences = 5
        config.eval.every = 1
        let runs = try (0..<3).map { _ in try TemporaryDirectory() }
        let losses = try zip([1, 2, 3], runs).map { ranks, run -> [Float] in
            try train(config, worldSize: ranks, runDirectory: run.url)
            let evals = try records(run.url, event: "eval")
            XCTAssertEqual(evals.map { $0["val_sequences"] as? Double }, [5, 5])
            return evals.map { Float($0["val_loss"] as! Double) }
        }
        XCTAssertEqual(losses[0].count, 2)
        assertClose(losses[1], losses[0], absolute: 1e-5, relative: 1e-5, "2 ranks vs 1")
        assertClose(losses[2], losses[0], absolute: 1e-5, relative: 1e-5, "3 ranks vs 1")
    }

    /// checkpoint.keep_last keeps the newest N, plus the best by validation loss, which `best` names.
    func testRetentionKeepsTheLastAndTheBest() throws {
        var config = try config(steps: 6)
        config.checkpoint.every = 1
        config.checkpoint.keepLast = 2
        config.eval.every = 1
        config.optimizer.learningRate = 0.3  // large, so the validation loss goes up and down
        config.optimizer.minLearningRate = 0.3
        let run = try TemporaryDirectory()
        try train(config, worldSize: 2, runDirectory: run.url)
        let evals = try records(run.url, event: "eval")
        let best = evals.min { ($0["val_loss"] as! Double) < ($1["val_loss"] as! Double) }!["step"] as! Double
        let bestName = String(format: "step-%06d", Int(best))
        let directory = run.url.appendingPathComponent("checkpoints")
        let kept = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("step-") }
        XCTAssertEqual(Set(kept), Set(["step-000005", "step-000006", bestName]))
        XCTAssertEqual(try String(contentsOf: directory.appendingPathComponent("best"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines), bestName)
    }
}

extension InProcessTrainingTests {
    /// `--resume auto`: one command line for the first launch and every relaunch.
    func testResumeAutoStartsFreshThenResumes() throws {
        let run = try TemporaryDirectory()
        let config = try config(steps: 6)
        let first = try train(config, worldSize: 2, runDirectory: run.url, resume: .auto, untilStep: 3)
        XCTAssertEqual(first.count, 3, "an empty run directory starts fresh")
        let again = try train(config, worldSize: 2, runDirectory: run.url, resume: .auto)
        XCTAssertEqual(again.count, 6, "a run with checkpoints continues from step 3")
        let whole = try TemporaryDirectory()
        let reference = try train(config, worldSize: 2, runDirectory: whole.url)
        assertBitIdentical(again.map(Float.init), reference.map(Float.init), "resumed by --resume auto")
    }
}
