import Foundation
import LLMComm
import LLMData
import LLMModel
import LLMTasks
import LLMTrain

/// Post embeddings from a language-model checkpoint: the last hidden state (after the final
/// layer norm) pooled over the post's tokens (`mean`, the default, or the `last` token, its
/// `<|endoftext|>`), L2-normalised so that a dot product is a cosine.
public final class Embedder {
    public let saved: SavedModel
    public let model: GPT
    public let pooling: TaskSpec.Pooling
    /// sha256 of the checkpoint's model.safetensors (from its manifest): what an index records.
    public let modelSHA256: String
    public let padID: Int32
    public var dimension: Int { model.config.modelDim }
    private let normalizer: TextNormalizer
    private let inputs: UnsafeMutablePointer<Int32>

    public init(path: String, pooling: TaskSpec.Pooling = .mean, batchSize: Int = 16) throws {
        saved = try SavedModel(path: path)
        guard let entry = try saved.checkpoint.manifest().files.first(where: { $0.name == ModelCheckpoint.modelFile }) else {
            throw TrainingError("\(saved.checkpoint.directory.path): the manifest lists no \(ModelCheckpoint.modelFile)")
        }
        modelSHA256 = entry.sha256
        self.pooling = pooling
        model = saved.model(batchSize: batchSize, sequenceLength: saved.config.contextLength)
        padID = saved.tokenizer.endOfTextID
        normalizer = TextNormalizer(config: saved.normalizer)
        inputs = .allocate(capacity: batchSize * saved.config.contextLength)
    }

    deinit { inputs.deallocate() }

    /// A post as the model reads it: normalised as its training data was, tokenised, cut to
    /// the context less one token, `<|endoftext|>` appended. `truncated` says whether it was cut.
    public func encode(_ text: String) -> (ids: [Int32], truncated: Bool) {
        let ids = saved.tokenizer.encode(normalizer.normalize(text))
        let room = model.sequenceLength - 1
        return (Array(ids.prefix(room)) + [padID], ids.count > room)
    }

    /// Collective: the unit vectors (count x dimension, row-major, in input order) of `posts`
    /// (token ids as `encode` makes them). Rank r embeds every worldSize-th post; the others'
    /// rows are zero, so the sum over ranks is exact and the same on every rank.
    public func embed(_ posts: [[Int32]], comm: Communicator) throws -> [Float] {
        let C = dimension
        var out = [Float](repeating: 0, count: posts.count * C)
        let mine = Array(stride(from: comm.rank, to: posts.count, by: comm.worldSize))
        out.withUnsafeMutableBufferPointer { buffer in
            for chunk in PostBatches.microBatches(mine, lengths: { posts[$0].count }, size: model.batchSize) {
                let batch = chunk.map { posts[$0] }
                let time = PaddedPosts.forward(model: model, posts: batch, padID: padID, inputs: inputs)
                for (b, index) in chunk.enumerated() {
                    let v = buffer.baseAddress! + index * C
                    PaddedPosts.pool(model: model, post: b, length: batch[b].count, time: time, pooling: pooling, into: v)
                    Self.normalize(v, count: C)
                }
            }
        }
        if comm.worldSize > 1 { try out.withUnsafeMutableBufferPointer { try comm.allReduce($0, .sum) } }
        return out
    }

    /// Scales `v` to unit length (a zero vector stays zero); the norm accumulates in Double.
    static func normalize(_ v: UnsafeMutablePointer<Float>, count: Int) {
        var sum = 0.0
        for c in 0..<count { sum += Double(v[c]) * Double(v[c]) }
        guard sum > 0 else { return }
        let scale = Float(1 / sum.squareRoot())
        for c in 0..<count { v[c] *= scale }
    }
}
