/// LayerNorm over the last dimension (C) of `rows` positions, eps 1e-5 as in GPT-2.
/// The forward keeps each row's mean and 1/std so the backward need not recompute them.
public enum LayerNorm {
    public static let eps: Float = 1e-5

    public static func forward(out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
                               rstd: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
                               weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, rows: Int, channels: Int) {
        let invC = 1 / Float(channels)
        Parallel.chunks(rows, minChunk: 32) { range in
            for r in range {
                let x = inp + r * channels
                let m = vectorSum(x, channels) * invC
                // Two-pass variance: the one-pass E[x^2]-E[x]^2 form loses precision on the residual stream.
                let s = 1 / (sumOfSquaredDeviations(x, channels, mean: m) * invC + eps).squareRoot()
                let o = out + r * channels
                for i in 0..<channels { o[i] = (x[i] - m) * s * weight[i] + bias[i] }
                mean[r] = m
                rstd[r] = s
            }
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
        Parallel.chunks(rows, minChunk: 32) { range in
            for r in range {
                let x = inp + r * channels, d = dout + r * channels, dx = dinp + r * channels
                let m = mean[r], s = rstd[r]
                let (gSum, gnSum) = gradientMeans(x, d, weight, channels, mean: m, rstd: s)
                let gMean = gSum * invC, gnMean = gnSum * invC
                for i in 0..<channels {
                    let n = (x[i] - m) * s
                    dx[i] += s * (weight[i] * d[i] - gMean - n * gnMean)
                }
            }
        }
        // The parameter gradients sum over rows: split by channel so no two threads share one.
        Parallel.chunks(channels, minChunk: 64) { range in
            for r in 0..<rows {
                let x = inp + r * channels, d = dout + r * channels
                let m = mean[r], s = rstd[r]
                for i in range {
                    dbias[i] += d[i]
                    dweight[i] += (x[i] - m) * s * d[i]
                }
            }
        }
    }

    @inline(__always)
    static func sumOfSquaredDeviations(_ x: UnsafePointer<Float>, _ n: Int, mean: Float) -> Float {
        var acc = Lanes(repeating: 0)
        let m = Lanes(repeating: mean)
        var i = 0
        while i + Lanes.scalarCount <= n { let d = loadLanes(x + i) - m; acc += d * d; i += Lanes.scalarCount }
        var sq = acc.sum()
        while i < n { let d = x[i] - mean; sq += d * d; i += 1 }
        return sq
    }

    /// (sum of weight * dout, sum of weight * dout * normalised x) over one row.
    @inline(__always)
    static func gradientMeans(_ x: UnsafePointer<Float>, _ d: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ n: Int,
                              mean: Float, rstd: Float) -> (Float, Float) {
        var accG = Lanes(repeating: 0), accGN = Lanes(repeating: 0)
        let m = Lanes(repeating: mean), s = Lanes(repeating: rstd)
        var i = 0
        while i + Lanes.scalarCount <= n {
            let g = loadLanes(w + i) * loadLanes(d + i)
            accG += g
            accGN += g * ((loadLanes(x + i) - m) * s)
            i += Lanes.scalarCount
        }
        var g = accG.sum(), gn = accGN.sum()
        while i < n { let gi = w[i] * d[i]; g += gi; gn += gi * ((x[i] - mean) * rstd); i += 1 }
        return (g, gn)
    }
}
