import LLMModel
import LLMTasks

/// Integrated gradients of a fine-tuned model's head output for one label (a class logit, or
/// the rating of a regression head) over a post's input embeddings.
///
/// The baseline is the post with every token but the last replaced by `baselineToken` (`<pad>`):
/// the last one is the `<|endoftext|>` every post ends with, the position last-token pooling
/// reads, so it is kept. Its input equals its baseline, so its attribution is exactly 0 and the
/// post's own tokens share all of f(post) - f(baseline).
public struct ClassifierAttribution {
    /// The head's outputs for the post, one per label.
    public let logits: [Double]
    /// The explained output: the predicted class (the largest logit), or 0 for regression.
    public let label: Int
    /// One per token of the post, the `<|endoftext|>` last (always 0).
    public let perToken: [Double]
    public let result: IntegratedGradients
    public let baselineToken: Int32

    /// `model` holds the head's tensor and has room for one post of `tokens.count`.
    public init(model: GPT, head: ScoreHead, tokens: [Int32], baselineToken: Int32, steps: Int) {
        let K = head.spec.outputs
        head.forward(model: model, posts: [tokens], padID: baselineToken)
        let logits = (0..<K).map { Double(head.logits[$0]) }
        let label = head.spec.kind == .classification ? logits.indices.max { logits[$0] < logits[$1] }! : 0
        let oneHot = (0..<K).map { Float($0 == label ? 1 : 0) }
        let baseline = [Int32](repeating: baselineToken, count: tokens.count - 1) + [tokens.last!]
        let (perToken, result) = EmbeddingAttribution.integratedGradients(model: model, tokens: tokens, baseline: baseline,
                                                                           steps: steps) { inputs in
            head.forward(model: model, posts: [inputs], padID: baselineToken)
            let value = Double(head.logits[label])
            oneHot.withUnsafeBufferPointer { head.backward(model: model, dlogits: $0.baseAddress!) }
            return (value, 1)
        }
        (self.logits, self.label, self.perToken, self.result) = (logits, label, perToken, result)
        self.baselineToken = baselineToken
    }
}
