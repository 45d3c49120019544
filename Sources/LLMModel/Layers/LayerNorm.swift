/// LayerNorm over the last dimension (C) of `rows` positions, eps 1e-5 as in GPT-2.
/// The forward keeps each row's mean and 1/std so the backward need not recompute them.
public enum LayerNorm {
    public static let eps: Float = 1e-5

    public static func forward(out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
                               rstd: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
                               weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, rows: Int, channels: Int) {
        let invC = 1 / Float(channels)
        for r in 0..<rows {
            let x = inp + r * channels
            var sum: Float = 0
            for i in 0..<channels { sum += x[i] }
            let m = sum * invC
            // Two-pass variance: the one-pass E[x^2]-E[x]^2 form loses precision on the residual stream.
            var sq: Float = 0
            for i in 0..<channels { let d = x[i] - m; sq += d * d }
            let s = 1 / (sq * invC + eps).squareRoot()
            let o = out + r * channels
            for i in 0..<channels { o[i] = (x[i] - m) * s * weight[i] + bias[i] }
            mean[r] = m
            rstd[r] = s
        }
    }

    /// Adds the input gradient into `dinp` (the residual stream accumulates), and accumulates
    /// dweight/dbias. With n = (x - mean) * rstd and g = weight * dout:
    /// dx = rstd * (g - mean(g) - n * mean(g * n)).
    public static func backward(dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>,
                                dbias: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                                inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, rows: Int, channels: Int) {
        let invC = 1 / Float(channels)
        for r in 0..<rows {
            let x = inp + r * channels, d = dout + r * channels, dx = dinp + r * channels
            let m = mean[r], s = rstd[r]
            var gMean: Float = 0, gnMean: Float = 0
            for i in 0..<channels {
                let n = (x[i] - m) * s
                let g = weight[i] * d[i]
                gMean += g
                gnMean += g * n
            }
            gMean *= invC
            gnMean *= invC
            for i in 0..<channels {
                let n = (x[i] - m) * s
                let g = weight[i] * d[i]
                dbias[i] += d[i]
                dweight[i] += n * d[i]
                dx[i] += s * (g - gMean - n * gnMean)
            }
        }
    }
}
