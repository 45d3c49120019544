/// tanh as a clamped [13/6] rational polynomial (the minimax fit Eigen uses), within a few
/// ulp of libm. Unlike a call to tanhf it has no branches or calls, so the GELU loops vectorise;
/// libm's tanhf alone was ~17% of a training step.
@inline(__always)
func fastTanh(_ x: Float) -> Float {
    let c = min(max(x, -7.90531110763549805), 7.90531110763549805)
    let x2 = c * c
    var p: Float = -2.76076847742355e-16
    p = p * x2 + 2.00018790482477e-13
    p = p * x2 - 8.60467152213735e-11
    p = p * x2 + 5.12229709037114e-08
    p = p * x2 + 1.48572235717979e-05
    p = p * x2 + 6.37261928875436e-04
    p = p * x2 + 4.89352455891786e-03
    var q: Float = 1.19825839466702e-06
    q = q * x2 + 1.18534705686654e-04
    q = q * x2 + 2.26843463243900e-03
    q = q * x2 + 4.89352518554385e-03
    return c * p / q
}

/// `fastTanh` on 16 lanes, the same operations in the same order (the same bits for any non-NaN
/// input), so a loop can mix it with the scalar form for its tail. Four independent 4-wide
/// chains instead of the one LLVM makes of the scalar loop: ~25% faster.
@inline(__always)
func fastTanh(_ x: Lanes) -> Lanes {
    let lo = Lanes(repeating: -7.90531110763549805), hi = Lanes(repeating: 7.90531110763549805)
    var c = x.replacing(with: lo, where: x .< lo)
    c = c.replacing(with: hi, where: c .> hi)
    let x2 = c * c
    var p = Lanes(repeating: -2.76076847742355e-16)
    p = p * x2 + 2.00018790482477e-13
    p = p * x2 - 8.60467152213735e-11
    p = p * x2 + 5.12229709037114e-08
    p = p * x2 + 1.48572235717979e-05
    p = p * x2 + 6.37261928875436e-04
    p = p * x2 + 4.89352455891786e-03
    var q = Lanes(repeating: 1.19825839466702e-06)
    q = q * x2 + 1.18534705686654e-04
    q = q * x2 + 2.26843463243900e-03
    q = q * x2 + 4.89352518554385e-03
    return c * p / q
}

/// GPT-2's GELU, tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
/// The forward also stores gelu'(x): it needs the same tanh, so the backward is one multiply
/// instead of a second tanh per element (the tanh dominates both passes).
public enum GELU {
    static let scale: Float = (2 / Float.pi).squareRoot()

    /// out = gelu(inp), derivative = gelu'(inp); three distinct buffers.
    public static func forward(out: UnsafeMutablePointer<Float>, derivative: UnsafeMutablePointer<Float>,
                               inp: UnsafePointer<Float>, count: Int) {
        let a: Float = 0.044715, a3: Float = 3 * 0.044715, halfScale: Float = 0.5 * scale, s = scale
        Parallel.chunks(count, minChunk: 1 << 14) { range in
            // 16 lanes at a time, then the tail: the same operations, so chunk boundaries do not
            // change any result.
            var i = range.lowerBound
            while i + Lanes.scalarCount <= range.upperBound {
                let x = loadLanes(inp + i), x2 = x * x
                let th = fastTanh(s * x * (1 + a * x2))
                let half = 0.5 * (1 + th)
                storeLanes(x * half, out + i)
                storeLanes(half + halfScale * x * (1 - th * th) * (1 + a3 * x2), derivative + i)
                i += Lanes.scalarCount
            }
            while i < range.upperBound {
                let x = inp[i], x2 = x * x
                let th = fastTanh(s * x * (1 + a * x2))
                let half = 0.5 * (1 + th)
                out[i] = x * half
                derivative[i] = half + halfScale * x * (1 - th * th) * (1 + a3 * x2)
                i += 1
            }
        }
    }

    /// dinp = dout * gelu'(inp), from the derivative the forward stored. Distinct buffers: in
    /// place, LLVM's overlap check fails and the loop runs scalar.
    public static func backward(dinp: UnsafeMutablePointer<Float>, derivative: UnsafePointer<Float>,
                                dout: UnsafePointer<Float>, count: Int) {
        Parallel.chunks(count, minChunk: 1 << 14) { range in
            for i in range { dinp[i] = derivative[i] * dout[i] }
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
