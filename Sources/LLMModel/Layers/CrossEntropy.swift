import CLLMKernels

/// Softmax + cross-entropy fused in place over the logits buffer, as in llm.c: the forward turns
/// each row of logits into probabilities and records the loss; training turns them straight into
/// dlogits in the same pass. One (rows, V) buffer serves all three, so the largest activation of
/// small models is allocated once, and its rows are swept while they are in cache.
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

    /// The forward's losses, with logits (rows, V) becoming dlogits = (probs - onehot(target)) *
    /// scale (scale = lossScale / rows for the mean loss): the same bits as the forward followed
    /// by that scaling, without a second sweep over the buffer.
    public static func forwardBackward(logitsToDlogits: UnsafeMutablePointer<Float>, losses: UnsafeMutablePointer<Float>,
                                       targets: UnsafePointer<Int32>, scale: Float, rows: Int, vocab: Int) {
        Parallel.chunks(rows, minChunk: 8) { range in
            let lo = range.lowerBound
            llmk_softmax_xent_forward_backward(logitsToDlogits + lo * vocab, losses + lo, targets + lo, scale,
                                               range.count, vocab)
        }
    }
}
