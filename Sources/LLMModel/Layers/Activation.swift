import Foundation

/// GPT-2's GELU, tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
public enum GELU {
    static let scale: Float = (2 / Float.pi).squareRoot()

    public static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
        for i in 0..<count {
            let x = inp[i]
            out[i] = 0.5 * x * (1 + Foundation.tanh(scale * (x + 0.044715 * x * x * x)))
        }
    }

    /// dinp = dout * gelu'(inp); `dinp` may alias `dout` (the model runs it in place).
    public static func backward(dinp: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
                                dout: UnsafePointer<Float>, count: Int) {
        for i in 0..<count {
            let x = inp[i]
            let th = Foundation.tanh(scale * (x + 0.044715 * x * x * x))
            let sech2 = 1 - th * th
            let local = 0.5 * (1 + th) + 0.5 * x * sech2 * scale * (1 + 3 * 0.044715 * x * x)
            dinp[i] = local * dout[i]
        }
    }
}

/// ReLU, max(0, x); the gradient at exactly 0 is taken as 0.
public enum ReLU {
    public static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { out[i] = max(inp[i], 0) }
    }

    /// dinp = dout where inp > 0, else 0; `dinp` may alias `dout`.
    public static func backward(dinp: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
                                dout: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { dinp[i] = inp[i] > 0 ? dout[i] : 0 }
    }
}
