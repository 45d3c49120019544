/// One named view into the flat parameter (and gradient, and AdamW m/v) buffer.
/// `decays` follows nanoGPT: every tensor of rank >= 2 (weight matrices and both embeddings)
/// gets weight decay; rank-1 tensors (biases, LayerNorm gains and shifts) do not.
public struct ParameterTensor: Equatable, Sendable {
    public var name: String
    public var shape: [Int]
    public var offset: Int
    public var count: Int
    public var decays: Bool

    public init(name: String, shape: [Int], offset: Int, count: Int, decays: Bool) {
        self.name = name
        self.shape = shape
        self.offset = offset
        self.count = count
        self.decays = decays
    }
}

extension ParameterTensor {
    /// The named views of a model of this shape, in layout order (what `GPT.tensors` holds), for
    /// code that reads or writes weights without building a model.
    public static func layout(for config: GPTConfig) -> [ParameterTensor] { ParameterLayout(config: config).tensors }

    /// Floats in the flat parameter buffer of a model of this shape.
    public static func parameterCount(for config: GPTConfig) -> Int { ParameterLayout(config: config).count }
}

/// Offsets of one transformer block's tensors in the flat buffer.
struct BlockOffsets {
    var ln1w = 0, ln1b = 0, qkvw = 0, qkvb = 0, projw = 0, projb = 0
    var ln2w = 0, ln2b = 0, fcw = 0, fcb = 0, fcprojw = 0, fcprojb = 0
}

/// The flat parameter layout, in Hugging Face GPT-2 names (without the `transformer.` prefix) and
/// Conv1D shapes, in this order:
///   wte.weight [V, C], wpe.weight [contextLength, C],
///   for i in 0..<layers: h.i.ln_1.weight [C], h.i.ln_1.bias [C],
///     h.i.attn.c_attn.weight [C, 3C], h.i.attn.c_attn.bias [3C],
///     h.i.attn.c_proj.weight [C, C], h.i.attn.c_proj.bias [C],
///     h.i.ln_2.weight [C], h.i.ln_2.bias [C],
///     h.i.mlp.c_fc.weight [C, 4C], h.i.mlp.c_fc.bias [4C],
///     h.i.mlp.c_proj.weight [4C, C], h.i.mlp.c_proj.bias [C],
///   ln_f.weight [C], ln_f.bias [C].
/// Matrices are (in, out) row-major, so a layer computes x @ W + b. The LM head is wte itself
/// (logits = x @ wte^T), so there is no lm_head tensor.
struct ParameterLayout {
    var tensors: [ParameterTensor] = []
    var count = 0
    var wte = 0, wpe = 0, lnfw = 0, lnfb = 0
    var blocks: [BlockOffsets] = []

    /// The trunk's tensors, then `extraTensors` (a task head) after ln_f.
    init(config: GPTConfig, extraTensors: [(name: String, shape: [Int])]) {
        self.init(config: config)
        for extra in extraTensors { _ = add(extra.name, extra.shape) }
    }

    init(config: GPTConfig) {
        let V = config.vocabSize, C = config.modelDim
        wte = add("wte.weight", [V, C])
        wpe = add("wpe.weight", [config.contextLength, C])
        for i in 0..<config.layers {
            let p = "h.\(i)."
            var o = BlockOffsets()
            o.ln1w = add(p + "ln_1.weight", [C])
            o.ln1b = add(p + "ln_1.bias", [C])
            o.qkvw = add(p + "attn.c_attn.weight", [C, 3 * C])
            o.qkvb = add(p + "attn.c_attn.bias", [3 * C])
            o.projw = add(p + "attn.c_proj.weight", [C, C])
            o.projb = add(p + "attn.c_proj.bias", [C])
            o.ln2w = add(p + "ln_2.weight", [C])
            o.ln2b = add(p + "ln_2.bias", [C])
            o.fcw = add(p + "mlp.c_fc.weight", [C, 4 * C])
            o.fcb = add(p + "mlp.c_fc.bias", [4 * C])
            o.fcprojw = add(p + "mlp.c_proj.weight", [4 * C, C])
            o.fcprojb = add(p + "mlp.c_proj.bias", [C])
            blocks.append(o)
        }
        lnfw = add("ln_f.weight", [C])
        lnfb = add("ln_f.bias", [C])
    }

    mutating func add(_ name: String, _ shape: [Int]) -> Int {
        let n = shape.reduce(1, *)
        tensors.append(ParameterTensor(name: name, shape: shape, offset: count, count: n, decays: shape.count >= 2))
        count += n
        return count - n
    }
}
