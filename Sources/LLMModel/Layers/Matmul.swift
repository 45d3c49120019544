import COpenBLAS
import Dispatch

/// Row-major single-precision GEMM: C = alpha * op(A) * op(B) + beta * C, with op(A) m x k and
/// op(B) k x n. Every matrix product in the model goes through here. Large products are split
/// over the workers by rows of C (or columns, when C is wide), one single-threaded OpenBLAS call
/// per part; every element of C still comes from one call with the same k-blocking, so the
/// result does not depend on the split. `parallel: false` for callers already inside a worker.
@inline(__always)
func sgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
           a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
           beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, parallel: Bool = true) {
    @inline(__always)
    func call(_ m: Int, _ n: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>) {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    let splitRows = m >= n
    let extent = splitRows ? m : n
    // Parts of at least 32 rows/columns and ~1 MFLOP each, boundaries on multiples of 16.
    let parts = parallel ? min(Parallel.workers, extent / 32, m * n * k / (1 << 19)) : 1
    if parts <= 1 {
        call(m, n, a, b, c)
        return
    }
    DispatchQueue.concurrentPerform(iterations: parts) { i in
        let lo = (extent * i / parts) & ~15
        let hi = i == parts - 1 ? extent : (extent * (i + 1) / parts) & ~15
        if splitRows {
            call(hi - lo, n, transA ? a + lo : a + lo * lda, b, c + lo * ldc)
        } else {
            call(m, hi - lo, a, transB ? b + lo * ldb : b + lo, c + lo)
        }
    }
}

/// A dense layer `out = inp @ weight + bias` over `rows` positions. `weight` is (inChannels,
/// outChannels) row-major: the Hugging Face GPT-2 `Conv1D` layout, so checkpoints map one to one.
public enum Matmul {
    /// out (rows, OC) = inp (rows, C) @ weight (C, OC) + bias (OC).
    /// With `residual` (rows, OC), writes residual + inp @ weight + bias instead, which fuses the
    /// transformer's residual add into the GEMM (beta = 1) and saves a buffer and a pass.
    public static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
                               weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                               residual: UnsafePointer<Float>? = nil,
                               rows: Int, inChannels: Int, outChannels: Int) {
        // Seed the output with bias (+ residual), then accumulate the product onto it.
        Parallel.chunks(rows, minChunk: 32) { range in
            for r in range {
                let o = out + r * outChannels
                if let residual {
                    let res = residual + r * outChannels
                    for j in 0..<outChannels { o[j] = res[j] + bias[j] }
                } else {
                    for j in 0..<outChannels { o[j] = bias[j] }
                }
            }
        }
        sgemm(m: rows, n: outChannels, k: inChannels, a: inp, lda: inChannels,
              b: weight, ldb: outChannels, beta: 1, c: out, ldc: outChannels)
    }

    /// Given dout (rows, OC): dinp = dout @ weight^T (overwritten, or added when `accumulateInput`),
    /// dweight += inp^T @ dout, dbias += column sums of dout.
    public static func backward(dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>,
                                dbias: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                                inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                rows: Int, inChannels: Int, outChannels: Int, accumulateInput: Bool = false) {
        sgemm(transB: true, m: rows, n: inChannels, k: outChannels, a: dout, lda: outChannels,
              b: weight, ldb: outChannels, beta: accumulateInput ? 1 : 0, c: dinp, ldc: inChannels)
        sgemm(transA: true, m: inChannels, n: outChannels, k: rows, a: inp, lda: inChannels,
              b: dout, ldb: outChannels, beta: 1, c: dweight, ldc: outChannels)
        Parallel.chunks(outChannels, minChunk: 64) { range in
            for r in 0..<rows {
                let d = dout + r * outChannels
                for j in range { dbias[j] += d[j] }
            }
        }
    }
}
