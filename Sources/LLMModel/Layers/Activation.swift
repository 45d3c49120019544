import CLLMKernels

/// GPT-2's GELU, tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
/// The forward can also store gelu'(x): it needs the same tanh, so the backward is one multiply
/// instead of a second tanh per element (the tanh dominates both passes).
public enum GELU {
    /// out = gelu(inp) and, unless `derivative` is nil, derivative = gelu'(inp); distinct buffers.
    /// `out` has the same bits either way.
    public static func forward(out: UnsafeMutablePointer<Float>, derivative: UnsafeMutablePointer<Float>?,
                               inp: UnsafePointer<Float>, count: Int) {
        // The tanh is a rational minimax fit (Eigen's), within a few ulp of libm and branch-free,
        // so it vectorises: libm's tanhf alone was ~17% of a training step. See CLLMKernels.
        Parallel.chunks(count, minChunk: 1 << 14) { range in
            llmk_gelu_forward(out + range.lowerBound, derivative.map { $0 + range.lowerBound }, inp + range.lowerBound,
                              range.count)
        }
    }

    /// dinp = dout * gelu'(inp), from the derivative the forward stored. Distinct buffers (the
    /// kernel's pointers are `restrict`).
    public static func backward(dinp: UnsafeMutablePointer<Float>, derivative: UnsafePointer<Float>,
                                dout: UnsafePointer<Float>, count: Int) {
        Parallel.chunks(count, minChunk: 1 << 14) { range in
            llmk_multiply(dinp + range.lowerBound, derivative + range.lowerBound, dout + range.lowerBound, range.count)
        }
    }
}

/// ReLU, max(0, x); the gradient at exactly 0 is taken as 0.
public enum ReLU {
    public static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
        Parallel.chunks(count, minChunk: 1 << 14) { range in
            for i in range { out[i] = max(inp[i], 0) }
        }
    }

    /// dinp = dout where inp > 0, else 0.
    public static func backward(dinp: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
                                dout: UnsafePointer<Float>, count: Int) {
        Parallel.chunks(count, minChunk: 1 << 14) { range in
            for i in range { dinp[i] = inp[i] > 0 ? dout[i] : 0 }
        }
    }
}
