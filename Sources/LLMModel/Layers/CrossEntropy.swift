import CLLMKernels

/// Softmax + cross-entropy fused in place over the logits buffer, as in llm.c: the forward turns
/// each row of logits into probabilities and records the loss; the backward turns the
/// probabilities into dlogits. One (rows, V) buffer serves all three, so the largest activation
/// of small models is allocated once and touched three times.
public enum SoftmaxCrossEntropy {
    /// logits (rows, V) becomes probabilities; losses[r] = -log p[r, targets[r]].
    public static func forward(logitsToProbs: UnsafeMutablePointer<Float>, losses: UnsafeMutablePointer<Float>,
                               targets: UnsafePointer<Int32>, rows: Int, vocab: Int) {
        Parallel.chunks(rows, minChunk: 8) { range in
            // Max, exp in place with the sum, scale; the loss in log-sum-exp form, exact even
            // when the target's probability underflows.
            llmk_softmax_xent_forward(logitsToProbs + range.lowerBound * vocab, losses + range.lowerBound,
                                      targets + range.lowerBound, range.count, vocab)
        }
    }

    /// probs (rows, V) becomes dlogits = (probs - onehot(target)) * scale, where scale is
    /// lossScale / rows for the mean loss.
    public static func backward(probsToDlogits: UnsafeMutablePointer<Float>, targets: UnsafePointer<Int32>,
                                scale: Float, rows: Int, vocab: Int) {
        Parallel.chunks(rows, minChunk: 8) { range in
            llmk_softmax_xent_backward(probsToDlogits + range.lowerBound * vocab, targets + range.lowerBound, scale,
                                       range.count, vocab)
        }
    }
}
