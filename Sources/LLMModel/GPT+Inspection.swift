/// Read access to what a forward computed, for explanations (attention maps, attributions).
/// Kept apart from GPT.swift: the training path never needs it.
extension GPT {
    /// Layer `layer`'s attention probabilities from the last forward: (batchSize, heads, T, T)
    /// row-major, row t the query at position t; each row sums to 1 over keys 0...t and is zero
    /// above the diagonal (causal). Valid until the next forward.
    public func attentionProbabilities(layer: Int) -> UnsafeBufferPointer<Float> {
        precondition(blocks.indices.contains(layer), "layer \(layer) out of 0..<\(blocks.count)")
        return UnsafeBufferPointer(start: blocks[layer].att, count: batchSize * config.heads * sequenceLength * sequenceLength)
    }
}
