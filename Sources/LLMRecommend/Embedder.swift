import Foundation
import LLMComm
import LLMData
import LLMModel
import LLMTasks
import LLMTrain

/// Post embeddings from a checkpoint: the last hidden state (after the final layer norm)
/// pooled over the post's tokens (`mean`, the default, or the `last` token, its
/// `<|endoftext|>`), L2-normalised so that a dot product is a cosine. A language model is
/// opened by `SavedModel`; a fine-tuned classifier by `TrainedTask` (its trunk, the head unused),
/// whose hidden states were trained to separate its labels.
public final class Embedder {
    public let model: GPT
    public let pooling: TaskSpec.Pooling
    public let tokenizer: BPETokenizer
    public let tokenizerSHA256: String
    /// sha256 of the checkpoint's model.safetensors (from its manifest): what an index records.
    public let modelSHA256: String
    public let padID: Int32
    public var dimension: Int { model.config.modelDim }
    private let normalizer: TextNormalizer
    private let inputs: UnsafeMutablePointer<Int32>

    /// `batchSize`: posts per forward for a language model (a classifier keeps its micro-batch).
    public init(path: String, pooling: TaskSpec.Pooling = .mean, batchSize: Int = 16) throws {
        let trained = try TrainedModel(path: path, verifying: [ModelCheckpoint.modelFile])
        guard let entry = try trained.checkpoint.manifest().files.first(where: { $0.name == ModelCheckpoint.modelFile }) else {
            throw TrainingError("\(trained.checkpoint.directory.path): the manifest lists no "
                                + "\(ModelCheckpoint.modelFile)")
        }
        modelSHA256 = entry.sha256
        self.pooling = pooling
        tokenizerSHA256 = trained.state.tokenizerSHA256
        if trained.state.task != nil {
            let task = try TrainedTask(path: path)
            model = task.model
            tokenizer = task.tokenizer
            normalizer = task.normalizer
        } else {
            let saved = try SavedModel(path: path)
            model = saved.model(batchSize: batchSize, sequenceLength: saved.config.contextLength)
            tokenizer = saved.tokenizer
            normalizer = TextNormalizer(config: saved.normalizer)
        }
        padID = tokenizer.endOfTextID
        inputs = .allocate(capacity: model.batchSize * model.sequenceLength)
    }

    deinit { inputs.deallocate() }

    /// A post as the model reads it: normalised as its training data was, tokenised, cut to
    /// the context less one token, `<|endoftext|>` appended. `truncated` says whether it was cut.
    public func encode(_ text: String) -> (ids: [Int32], truncated: Bool) {
        let ids = tokens(text)
        let room = model.sequenceLength - 1
        return (Array(ids.prefix(room)) + [padID], ids.count > room)
    }

    /// `text` normalised as the model's training data was, then tokenised (nothing cut or added).
    public func tokens(_ text: String) -> [Int32] { tokenizer.encode(normalizer.normalize(text)) }

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
