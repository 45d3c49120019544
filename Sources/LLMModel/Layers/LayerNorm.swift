import CLLMKernels

/// LayerNorm over the last dimension (C) of `rows` positions, eps 1e-5 as in GPT-2.
/// The forward keeps each row's mean and 1/std so the backward need not recompute them.
public enum LayerNorm {
    public static let eps: Float = 1e-5

    public static func forward(out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
                               rstd: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
                               weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, rows: Int, channels: Int) {
        Parallel.chunks(rows, minChunk: 32) { range in
            let lo = range.lowerBound
            llmk_layernorm_forward(out + lo * channels, mean + lo, rstd + lo, inp + lo * channels, weight, bias,
                                   range.count, channels, eps)
        }
    }

    /// Rows per block of the parameter-gradient partial sums (see `backward`).
    static let rowBlock = 32

    /// Floats of backward scratch for `rows` positions: a (dweight, dbias) partial per row block.
    public static func scratchCount(rows: Int, channels: Int) -> Int {
        (rows + rowBlock - 1) / rowBlock * 2 * channels
    }

    /// Adds the input gradient into `dinp` (the residual stream accumulates), and accumulates
    /// dweight/dbias (skipped when nil: DP-SGD's clipping forms them later, `backwardWeights`).
    /// With n = (x - mean) * rstd and g = weight * dout: dx = rstd * (g - mean(g) - n * mean(g * n)).
    /// One pass over the activations: each fixed block of `rowBlock` rows also sums its rows'
    /// dweight/dbias terms into its own partial in `scratch` (`scratchCount` floats), and the
    /// partials are added in block order at the end, so the sums do not depend on the thread count.
    public static func backward(dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>?,
                                dbias: UnsafeMutablePointer<Float>?, scratch: UnsafeMutablePointer<Float>,
                                dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, rows: Int, channels: Int) {
        let blocks = (rows + rowBlock - 1) / rowBlock
        Parallel.chunks(blocks, minChunk: 1) { range in
            for block in range {
                let pw = scratch + block * 2 * channels, pb = pw + channels
                pw.update(repeating: 0, count: 2 * channels)
                let lo = block * rowBlock, n = min(rowBlock, rows - lo)
                llmk_layernorm_backward(dinp + lo * channels, pw, pb, dout + lo * channels, inp + lo * channels,
                                        weight, mean + lo, rstd + lo, n, channels)
            }
        }
        guard let dweight, let dbias else { return }
        // The partials (rows of 2C: dweight's, then dbias's) summed in block order.
        llmk_column_sums_add(dweight, scratch, blocks, channels, 2 * channels)
        llmk_column_sums_add(dbias, scratch + channels, blocks, channels, 2 * channels)
    }

    /// dweight += sum over rows of dout * n, dbias += sum of dout, alone (no input gradient), in
    /// the same fixed row blocks as `backward`.
    public static func backwardWeights(dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>,
                                       scratch: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                                       inp: UnsafePointer<Float>, mean: UnsafePointer<Float>,
                                       rstd: UnsafePointer<Float>, rows: Int, channels C: Int) {
        let blocks = (rows + rowBlock - 1) / rowBlock
        Parallel.chunks(blocks, minChunk: 1) { range in
            for block in range {
                let pw = scratch + block * 2 * C, pb = pw + C
                pw.update(repeating: 0, count: 2 * C)
                for r in (block * rowBlock)..<min((block + 1) * rowBlock, rows) {
                    let x = inp + r * C, d = dout + r * C, m = mean[r], s = rstd[r]
                    for j in 0..<C {
                        pw[j] += (x[j] - m) * s * d[j]
                        pb[j] += d[j]
                    }
                }
            }
        }
        llmk_column_sums_add(dweight, scratch, blocks, C, 2 * C)
        llmk_column_sums_add(dbias, scratch + C, blocks, C, 2 * C)
    }
}
