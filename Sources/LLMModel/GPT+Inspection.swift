/// Read access to what a forward computed, for explanations (attention maps, attributions).
/// Kept apart from GPT.swift: the training path never needs it.
extension GPT {
    /// Layer `layer`'s attention probabilities from the last forward of b rows of t tokens:
    /// (b, heads, t, t) row-major, row i the query at position i; each row sums to 1 over keys
    /// 0...i and is zero above the diagonal (causal). Recomputed from the layer's q, k and the
    /// row statistics the forward kept (training never stores these maps).
    public func attentionProbabilities(layer: Int) -> [Float] {
        precondition(blocks.indices.contains(layer), "layer \(layer) out of 0..<\(blocks.count)")
        precondition(recompute == .none || layer == blocks.count - 1, "attention maps need a model built with recompute none")
        let B = lastBatch, T = lastTime, NH = config.heads
        precondition(B * T > 0, "attentionProbabilities needs a forward first")
        let a = blocks[layer]
        return [Float](unsafeUninitializedCapacity: B * NH * T * T) { buffer, count in
            Attention.probabilities(att: buffer.baseAddress!, qkv: a.qkv, stats: a.attStats, batch: B, time: T,
                                    channels: config.modelDim, heads: NH)
            count = B * NH * T * T
        }
    }
}
