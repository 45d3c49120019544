import LLMData
import LLMModel
import LLMTrain

/// log p(post) under a language model: the post normalised as the training data was, tokenised,
/// and scored after an `<|endoftext|>` (how every post starts in the training stream), summing
/// the per-position losses of batched forwards over a window as long as the longest post.
public final class SequenceScorer {
    let saved: SavedModel
    let normalizer: TextNormalizer
    let batchSize: Int

    public init(saved: SavedModel, batchSize: Int = 64) {
        self.saved = saved
        normalizer = TextNormalizer(config: saved.normalizer)
        self.batchSize = batchSize
    }

    /// The token ids the model is scored on (what training saw for this post).
    public func tokens(_ text: String) -> [Int32] {
        saved.tokenizer.encode(normalizer.normalize(text))
    }

    /// Natural-log likelihood of each tokenised post.
    public func logLikelihoods(_ posts: [[Int32]]) throws -> [Double] {
        let T = posts.map(\.count).max() ?? 1, B = batchSize
        guard T <= saved.config.contextLength else {
            throw TrainingError("a post of \(T) tokens does not fit after <|endoftext|> in the model's context of "
                                + "\(saved.config.contextLength); use fewer digits or a shorter prefix")
        }
        return SequenceScorer.logLikelihoods(posts, model: saved.model(batchSize: B, sequenceLength: T),
                                             endOfText: saved.tokenizer.endOfTextID)
    }

    /// With `model`'s batch and window (at least the longest post): row b holds `<|endoftext|>`
    /// then the post, position i predicts token i, and only the post's positions are summed.
    static func logLikelihoods(_ posts: [[Int32]], model: GPT, endOfText: Int32) -> [Double] {
        let B = model.batchSize, T = model.sequenceLength
        let inputs = UnsafeMutablePointer<Int32>.allocate(capacity: B * T)
        let targets = UnsafeMutablePointer<Int32>.allocate(capacity: B * T)
        defer { inputs.deallocate(); targets.deallocate() }
        var out: [Double] = []
        out.reserveCapacity(posts.count)
        for start in stride(from: 0, to: posts.count, by: B) {
            let chunk = posts[start..<min(start + B, posts.count)]
            inputs.update(repeating: endOfText, count: B * T)
            targets.update(repeating: 0, count: B * T)
            for (b, ids) in chunk.enumerated() {
                precondition(ids.count <= T, "a post longer than the scoring window")
                for (i, id) in ids.enumerated() {
                    targets[b * T + i] = id
                    if i + 1 < T { inputs[b * T + i + 1] = id }
                }
            }
            model.forward(inputs: inputs, targets: targets)
            for (b, ids) in chunk.enumerated() {
                out.append(-(0..<ids.count).reduce(0.0) { $0 + Double(model.losses[b * T + $1]) })
            }
        }
        return out
    }
}
