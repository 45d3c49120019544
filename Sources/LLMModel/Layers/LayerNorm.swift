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

    /// Rows per block of the parameter-gradient partial sums (see `backward`).
    static let rowBlock = 32

    /// Floats of backward scratch for `rows` positions: a (dweight, dbias) partial per row block.
    public static func scratchCount(rows: Int, channels: Int) -> Int {
        (rows + rowBlock - 1) / rowBlock * 2 * channels
    }

    /// Adds the input gradient into `dinp` (the residual stream accumulates), and accumulates
    /// dweight/dbias. With n = (x - mean) * rstd and g = weight * dout:
    /// dx = rstd * (g - mean(g) - n * mean(g * n)).
    /// One pass over the activations: each fixed block of `rowBlock` rows also sums its rows'
    /// dweight/dbias terms into its own partial in `scratch` (`scratchCount` floats), and the
    /// partials are added in block order at the end, so the sums do not depend on the thread count.
    public static func backward(dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>,
                                dbias: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                                dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, rows: Int, channels: Int) {
        let invC = 1 / Float(channels)
        let blocks = (rows + rowBlock - 1) / rowBlock
        Parallel.chunks(blocks, minChunk: 1) { range in
            for block in range {
                let pw = scratch + block * 2 * channels, pb = pw + channels
                pw.update(repeating: 0, count: 2 * channels)
                for r in (block * rowBlock)..<min((block + 1) * rowBlock, rows) {
                    let x = inp + r * channels, d = dout + r * channels, dx = dinp + r * channels
                    let m = mean[r], s = rstd[r]
                    let (gSum, gnSum) = gradientMeans(x, d, weight, channels, mean: m, rstd: s)
                    let gMean = gSum * invC, gnMean = gnSum * invC
                    // Explicit lanes: with three outputs LLVM gives up on the overlap checks.
                    let vm = Lanes(repeating: m), vs = Lanes(repeating: s)
                    let vg = Lanes(repeating: gMean), vgn = Lanes(repeating: gnMean)
                    var i = 0
                    while i + Lanes.scalarCount <= channels {
                        let di = loadLanes(d + i)
                        let n = (loadLanes(x + i) - vm) * vs
                        storeLanes(loadLanes(dx + i) + vs * (loadLanes(weight + i) * di - vg - n * vgn), dx + i)
                        storeLanes(loadLanes(pw + i) + n * di, pw + i)
                        storeLanes(loadLanes(pb + i) + di, pb + i)
                        i += Lanes.scalarCount
                    }
                    while i < channels {
                        let n = (x[i] - m) * s
                        dx[i] += s * (weight[i] * d[i] - gMean - n * gnMean)
                        pw[i] += n * d[i]
                        pb[i] += d[i]
                        i += 1
                    }
                }
            }
        }
        for block in 0..<blocks {
            let pw = scratch + block * 2 * channels, pb = pw + channels
            for i in 0..<channels {
                dweight[i] += pw[i]
                dbias[i] += pb[i]
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
