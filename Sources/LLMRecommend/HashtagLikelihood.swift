import LLMModel

/// Hashtag suggestions by the language model itself: each candidate tag is ranked by
/// log p(" #tag" | post), the summed log-probabilities of the tag's tokens after the post. A
/// forward with targets always runs its full batch x sequence, so the (post, tag) pairs run 40
/// at a time in 48 tokens (the post's last ones), on a copy of the trunk.
public final class HashtagLikelihood {
    let embedder: Embedder
    let model: GPT
    private let inputs, targets: UnsafeMutablePointer<Int32>

    public init(embedder: Embedder) {
        self.embedder = embedder
        let config = embedder.model.config
        model = GPT(config: config, batchSize: 40, sequenceLength: min(48, config.contextLength), seed: 0)
        // The trunk's tensors come first in both layouts (a classifier's head follows them).
        model.parameters.baseAddress!.update(from: embedder.model.parameters.baseAddress!,
                                             count: ParameterTensor.parameterCount(for: config))
        inputs = .allocate(capacity: model.batchSize * model.sequenceLength)
        targets = .allocate(capacity: model.batchSize * model.sequenceLength)
    }

    deinit { inputs.deallocate(); targets.deallocate() }

    /// `candidates` best first (ties by name).
    public func rank(post: String, candidates: [String]) -> [String] {
        let scores = logLikelihoods(post: post, candidates: candidates)
        return candidates.indices.sorted { (scores[$0], candidates[$1]) > (scores[$1], candidates[$0]) }
            .map { candidates[$0] }
    }

    /// log p(" " + tag | `<|endoftext|>` post) per candidate (the post cut from its start to fit).
    func logLikelihoods(post text: String, candidates: [String]) -> [Double] {
        let T = model.sequenceLength, B = model.batchSize
        let post = [embedder.padID] + embedder.tokens(text)
        var scores = [Double](repeating: 0, count: candidates.count)
        for start in stride(from: 0, to: candidates.count, by: B) {
            let chunk = start..<min(start + B, candidates.count)
            inputs.update(repeating: embedder.padID, count: B * T)
            targets.update(repeating: 0, count: B * T)
            var spans: [Range<Int>] = []
            for (b, c) in chunk.enumerated() {
                let tag = Array(embedder.tokens(" " + candidates[c]).prefix(T / 2))
                let sequence = Array(post.suffix(T + 1 - tag.count)) + tag
                for i in 0..<(sequence.count - 1) {
                    inputs[b * T + i] = sequence[i]
                    targets[b * T + i] = sequence[i + 1]
                }
                // Position i predicts token i + 1: these positions predict the tag's tokens.
                spans.append((sequence.count - 1 - tag.count)..<(sequence.count - 1))
            }
            model.forward(inputs: inputs, targets: targets)
            for (b, c) in chunk.enumerated() {
                scores[c] = -spans[b].reduce(0.0) { $0 + Double(model.losses[b * T + $1]) }
            }
        }
        return scores
    }
}
