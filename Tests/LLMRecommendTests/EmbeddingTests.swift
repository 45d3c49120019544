import Foundation
import XCTest
import LLMComm
import LLMData
import LLMModel
import LLMSupport
import LLMTestSupport
import LLMTasks
import LLMTrain
@testable import LLMRecommend

/// Embeddings of a random small model: unit norms, the same vector whatever batch a post is
/// in, 2 ranks equal to 1, and the index file round trip with its refusals.
final class EmbeddingTests: XCTestCase {
    var root: URL!
    let config = GPTConfig(vocabSize: 300, contextLength: 64, layers: 2, heads: 2, modelDim: 8, activation: .gelu)
    let texts = ["hello world", "great day @user", "质量很好", "hello", "a much longer post about the great world day",
                 "world", "day day day", "很好"]

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("recommend-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    func makeCheckpoint(_ name: String, seed: UInt64) throws -> URL {
        let tokenizer = try BPETrainer.train(texts: texts, vocabSize: 300)
        let count = ParameterTensor.parameterCount(for: config)
        var rng = SplitMix64(seed: seed)
        var weights = [Float](repeating: 0, count: count)
        weights.withUnsafeMutableBufferPointer { rng.fillNormal($0.baseAddress!, count: count, std: 0.2) }
        let run = root.appendingPathComponent(name)
        _ = try weights.withUnsafeBufferPointer {
            try SavedModel.writeFreshCheckpoint(config: config, parameters: $0, tokenizerJSON: Data(tokenizer.tokenizerJSON().utf8),
                                                normalizer: nil, runDirectory: run, metadata: ["format": "pt"])
        }
        return run
    }

    func testUnitNormsAndTheSameVectorWhateverTheBatch() throws {
        let run = try makeCheckpoint("run", seed: 3)
        for pooling in [TaskSpec.Pooling.mean, .last] {
            let batched = try Embedder(path: run.path, pooling: pooling, batchSize: 4)
            let single = try Embedder(path: run.path, pooling: pooling, batchSize: 1)
            let posts = texts.map { batched.encode($0).ids }
            let all = try batched.embed(posts, comm: try alone())
            var one: [Float] = []
            for post in posts { one += try single.embed([post], comm: try alone()) }
            assertClose(all, one, absolute: 1e-5, "\(pooling): batched (padded) vs one post at a time")
            let C = batched.dimension
            for i in posts.indices {
                var sum = 0.0
                for c in 0..<C { sum += Double(all[i * C + c]) * Double(all[i * C + c]) }
                let norm = sum.squareRoot()
                XCTAssertEqual(norm, 1, accuracy: 1e-5, "post \(i) norm")
            }
            // Reversed input order: each post's vector follows it.
            let reversed = try batched.embed(posts.reversed(), comm: try alone())
            var back: [Float] = []
            for i in (0..<posts.count).reversed() { back += reversed[(i * C)..<((i + 1) * C)] }
            assertClose(back, all, absolute: 1e-5, "\(pooling): reversed input")
        }
    }

    func testTwoRanksEmbedAsOne() throws {
        let run = try makeCheckpoint("run", seed: 4)
        let single = try Embedder(path: run.path, batchSize: 4)
        let posts = texts.map { single.encode($0).ids }
        let reference = try single.embed(posts, comm: try alone())
        let results = ResultBox()
        try InProcessCommunicator.run(worldSize: 2) { comm in
            let embedder = try Embedder(path: run.path, batchSize: 4)
            results.set(comm.rank, try embedder.embed(posts, comm: comm))
        }
        for rank in 0..<2 { assertClose(results.get(rank), reference, absolute: 1e-5, "rank \(rank) of 2 vs 1 rank") }
    }

    func testIndexRoundTripsAndRefusesAnotherModelOrAForeignSidecar() throws {
        let run = try makeCheckpoint("run", seed: 5), other = try makeCheckpoint("other", seed: 6)
        let embedder = try Embedder(path: run.path, batchSize: 4)
        let vectors = try embedder.embed(texts.map { embedder.encode($0).ids }, comm: try alone())
        let index = EmbeddingIndex(vectors: vectors, dimension: embedder.dimension,
                                   posts: texts.enumerated().map { .init(id: "\($0)", text: $1) },
                                   modelSHA256: embedder.modelSHA256, pooling: "mean", modelPath: run.path)
        let url = root.appendingPathComponent("emb.safetensors")
        try index.write(to: url)
        let back = try EmbeddingIndex.load(url: url, expectModel: embedder.modelSHA256)
        XCTAssertEqual(back.posts, index.posts)
        XCTAssertEqual(back.modelPath, run.path)
        assertBitIdentical(back.vectors, vectors, "vectors after the round trip")
        let otherSHA = try Embedder(path: other.path).modelSHA256
        XCTAssertNotEqual(otherSHA, embedder.modelSHA256)
        XCTAssertThrowsError(try EmbeddingIndex.load(url: url, expectModel: otherSHA)) {
            XCTAssertTrue("\($0)".contains("not the --model given"), "\($0)")
        }
        try Data("{\"id\":\"0\",\"text\":\"edited\"}\n".utf8).write(to: EmbeddingIndex.sidecarURL(url))
        XCTAssertThrowsError(try EmbeddingIndex.load(url: url)) { XCTAssertTrue("\($0)".contains("sha256 differs"), "\($0)") }
    }

    /// The batched, padded likelihood of a tag after a post against one exact-length forward per tag.
    func testBatchedLikelihoodEqualsOneSequenceAtATime() throws {
        let embedder = try Embedder(path: try makeCheckpoint("run", seed: 8).path)
        let likelihood = HashtagLikelihood(embedder: embedder)
        let post = "great day with friends", tags = ["#fun", "#world", "#hello", "#day"]
        let batched = likelihood.logLikelihoods(post: post, candidates: tags)
        for (c, tag) in tags.enumerated() {
            let prefix = [embedder.padID] + embedder.tokens(post), tagIDs = embedder.tokens(" " + tag)
            let sequence = prefix + tagIDs
            let model = GPT(config: embedder.model.config, batchSize: 1, sequenceLength: sequence.count - 1, seed: 0)
            model.parameters.baseAddress!.update(from: embedder.model.parameters.baseAddress!, count: model.parameterCount)
            let inputs = Array(sequence.dropLast()), targets = Array(sequence.dropFirst())
            model.forward(inputs: inputs, targets: targets)
            // -log p of the tag's tokens: the positions that predict them, plain Double sums.
            var expected = 0.0
            for i in (prefix.count - 1)..<(sequence.count - 1) { expected -= Double(model.losses[i]) }
            XCTAssertEqual(batched[c], expected, accuracy: 1e-3, tag)
        }
        XCTAssertEqual(Set(likelihood.rank(post: post, candidates: tags)), Set(tags))
        XCTAssertEqual(likelihood.rank(post: post, candidates: tags).first, tags[batched.indices.max { batched[$0] < batched[$1] }!])
    }

    func testALongPostIsCutToTheContext() throws {
        let embedder = try Embedder(path: try makeCheckpoint("run", seed: 7).path)
        let long = embedder.encode(String(repeating: "hello world ", count: 100))
        XCTAssertTrue(long.truncated)
        XCTAssertEqual(long.ids.count, config.contextLength)
        XCTAssertEqual(long.ids.last, embedder.padID)
        XCTAssertFalse(embedder.encode("hello").truncated)
    }
}

/// A world of one rank (the collective calls return at once).
func alone() throws -> Communicator {
    let box = CommBox()
    try InProcessCommunicator.run(worldSize: 1) { box.comm = $0 }
    return box.comm!
}

final class CommBox: @unchecked Sendable { var comm: Communicator? }

/// Per-rank results collected from the in-process ranks' threads.
final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int: [Float]] = [:]
    func set(_ rank: Int, _ value: [Float]) { lock.lock(); values[rank] = value; lock.unlock() }
    func get(_ rank: Int) -> [Float] { lock.lock(); defer { lock.unlock() }; return values[rank] ?? [] }
}
