/// What the backward recomputes rather than keeps from the forward (`train.recompute`), trading
/// compute for memory. The recomputation runs the forward's kernels on the same inputs, so the
/// gradients are bit-identical whichever is chosen.
public enum Recompute: String, Codable, Sendable, CaseIterable {
    /// Every block keeps all its activations but the MLP activation's output (and GELU's
    /// derivative), which every mode recomputes from the kept c_fc output: elementwise, cheap.
    case none
    /// Every block keeps its input and its MLP half; ln_1, c_attn and the attention output are
    /// recomputed (one shared block's worth) in the backward: a fifth of the forward's matmuls.
    case attention
    /// Every block keeps only its input (the previous block's output); the backward recomputes
    /// the block up to the MLP activation into one shared block's worth of buffers: about
    /// two thirds of the forward's matmuls again.
    case blocks
}
