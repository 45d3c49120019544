import CLLMKernels
import COpenBLAS
import Dispatch
import Glibc

/// Row-major single-precision GEMM: C = alpha * op(A) * op(B) + beta * C, with op(A) m x k and
/// op(B) k x n. Every matrix product in the model goes through here. Large products are cut into
/// parts by rows of C (or columns, when C is wide), one single-threaded OpenBLAS call per part,
/// and the parts are shared out over the workers.
///
/// The cut depends on the shape alone, never on the thread count: OpenBLAS kernels may round a
/// block differently by its size (its AVX2 "Haswell" kernel, used on AMD Zen 2/3, does), so
/// the same calls of the same shapes on the same pointers are what makes 1 and 2 threads
/// bit-identical on every CPU. `parallel: false` for callers already inside a worker.
///
/// beta = 0 (C overwritten) is run as a memset of C and beta = 1: OpenBLAS otherwise clears C
/// first in a pass of its own (`sgemm_beta`), which on Zen 3 ran at a fraction of memset's speed
/// (~1.9% of a bench-i step). The product is accumulated onto zeros either way, so the bits are
/// the same. (On Zen 5 the two clear large products equally fast, and OpenBLAS's small-matrix
/// kernels write the attention's tiles without reading C, but bench-ii moved less than its noise.)
@inline(__always)
public func sgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
           a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
           beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, parallel: Bool = true) {
    let product = GEMM(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                       beta: beta, c: c, ldc: ldc)
    guard parallel else { return product.run(part: 0, of: 1) }
    let parts = GEMMPartition.parts(m: m, n: n, k: k)
    GEMM.runTasks(parts) { product.run(part: $0, of: parts) }
}

/// One product of `sgemm`, to be run whole or by parts.
struct GEMM {
    let transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float
    let a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int
    let beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int

    /// Part i of `parts`: rows boundary(i)..<boundary(i + 1) of C, or columns when C is wide.
    @inline(__always)
    func run(part i: Int, of parts: Int) {
        let splitRows = m >= n, extent = splitRows ? m : n
        let lo = GEMMPartition.boundary(i, of: parts, extent: extent)
        let hi = GEMMPartition.boundary(i + 1, of: parts, extent: extent)
        if splitRows {
            call(hi - lo, n, transA ? a + lo : a + lo * lda, b, c + lo * ldc)
        } else {
            call(m, hi - lo, a, transB ? b + lo * ldb : b + lo, c + lo)
        }
    }

    @inline(__always)
    private func call(_ m: Int, _ n: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                      _ c: UnsafeMutablePointer<Float>) {
        if beta == 0 {
            if ldc == n {
                memset(c, 0, m * n * MemoryLayout<Float>.stride)
            } else {
                for r in 0..<m { memset(c + r * ldc, 0, n * MemoryLayout<Float>.stride) }
            }
        }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta == 0 ? 1 : beta, c,
                    Int32(ldc))
    }

    /// Two independent products, each in `parts` parts, interleaved so that two workers take one
    /// product each (a layer's input and weight gradients: equal FLOPs, no cut paid on one thread).
    static func runSideBySide(_ first: GEMM, _ second: GEMM, parts: Int) {
        runTasks(2 * parts) { t in (t % 2 == 0 ? first : second).run(part: t / 2, of: parts) }
    }

    /// Runs tasks 0..<count, worker w taking w, w + workers, ...: the tasks, not their owners, fix
    /// the arithmetic. Tasks write disjoint blocks, so sharing the pointers across workers is safe.
    @inline(__always)
    static func runTasks(_ count: Int, _ task: (Int) -> Void) {
        let workers = min(Parallel.workers, count)
        if workers <= 1 {
            for i in 0..<count { task(i) }
            return
        }
        withoutActuallyEscaping(task) { task in
            nonisolated(unsafe) let task = task
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                for i in stride(from: w, to: count, by: workers) { task(i) }
            }
        }
    }
}

/// How `sgemm` cuts a product, from its shape alone.
enum GEMMPartition {
    /// Enough parts to keep up to `maxParts` workers busy on big products: each at least 512
    /// rows/columns and ~32 MFLOP, since every part packs the shared operand again (OpenBLAS packs
    /// B once per call): with smaller parts a single thread ran bench-ii ~10-20% slower. A power of
    /// two, so that two workers share the parts evenly (three parts of bench-ii's mlp.c_fc left one
    /// worker twice the other's work).
    static let maxParts = 4

    static func parts(m: Int, n: Int, k: Int) -> Int {
        let enough = max(1, min(maxParts, max(m, n) / 512, m * n * k / (1 << 24)))
        return 1 << (Int.bitWidth - 1 - enough.leadingZeroBitCount)
    }

    /// Parts of each of a dense layer's two backward products (`Matmul.backward`). They are
    /// independent and of equal FLOPs, so side by side they keep two workers busy uncut; each is
    /// cut in two only from 2^30 multiply-adds (GPT-2 small's 4 x 1024 rows), to keep four busy.
    /// Cutting costs one thread dearly at small sizes, each part packing the shared operand again:
    /// at bench-ii's shapes (1024 rows) a cut into `parts(m:n:k:)` ran those products 3-7% slower
    /// than whole calls on Zen 5's Cooperlake kernel, and 1-4% at GPT-2 small's.
    static func backwardParts(rows: Int, inChannels: Int, outChannels: Int) -> Int {
        rows * inChannels * outChannels >= 1 << 30 ? 2 : 1
    }

    /// Part i covers boundary(i)..<boundary(i + 1); inner boundaries on multiples of 16 (the
    /// kernels' register-block widths), the last one at `extent`.
    static func boundary(_ i: Int, of parts: Int, extent: Int) -> Int {
        i == parts ? extent : (extent * i / parts) & ~15
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
            let lo = range.lowerBound
            llmk_bias_seed(out + lo * outChannels, residual.map { $0 + lo * outChannels }, bias, range.count,
                           outChannels)
        }
        sgemm(m: rows, n: outChannels, k: inChannels, a: inp, lda: inChannels,
              b: weight, ldb: outChannels, beta: 1, c: out, ldc: outChannels)
    }

    /// Given dout (rows, OC): dinp = dout @ weight^T (overwritten),
    /// dweight += inp^T @ dout, dbias += column sums of dout. The two products run side by side,
    /// each in `GEMMPartition.backwardParts` parts (the same parts, and so the same bits, as
    /// `backwardInput` and `backwardWeights` apart).
    public static func backward(dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>,
                                dbias: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                                inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                rows: Int, inChannels: Int, outChannels: Int) {
        let parts = GEMMPartition.backwardParts(rows: rows, inChannels: inChannels, outChannels: outChannels)
        let input = inputGradient(dinp: dinp, dout: dout, weight: weight, rows: rows, inChannels: inChannels,
                                  outChannels: outChannels)
        let weights = weightGradient(dweight: dweight, dout: dout, inp: inp, rows: rows, inChannels: inChannels,
                                     outChannels: outChannels)
        GEMM.runSideBySide(input, weights, parts: parts)
        biasGradient(dbias: dbias, dout: dout, rows: rows, outChannels: outChannels)
    }

    /// dinp = dout @ weight^T (overwritten).
    public static func backwardInput(dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                                     weight: UnsafePointer<Float>, rows: Int, inChannels: Int, outChannels: Int) {
        let parts = GEMMPartition.backwardParts(rows: rows, inChannels: inChannels, outChannels: outChannels)
        let input = inputGradient(dinp: dinp, dout: dout, weight: weight, rows: rows, inChannels: inChannels,
                                  outChannels: outChannels)
        GEMM.runTasks(parts) { input.run(part: $0, of: parts) }
    }

    /// dweight += inp^T @ dout, dbias += column sums of dout.
    public static func backwardWeights(dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>,
                                       dout: UnsafePointer<Float>, inp: UnsafePointer<Float>,
                                       rows: Int, inChannels: Int, outChannels: Int) {
        let parts = GEMMPartition.backwardParts(rows: rows, inChannels: inChannels, outChannels: outChannels)
        let weights = weightGradient(dweight: dweight, dout: dout, inp: inp, rows: rows, inChannels: inChannels,
                                     outChannels: outChannels)
        GEMM.runTasks(parts) { weights.run(part: $0, of: parts) }
        biasGradient(dbias: dbias, dout: dout, rows: rows, outChannels: outChannels)
    }

    private static func inputGradient(dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                                      weight: UnsafePointer<Float>, rows: Int, inChannels: Int,
                                      outChannels: Int) -> GEMM {
        GEMM(transA: false, transB: true, m: rows, n: inChannels, k: outChannels, alpha: 1, a: dout, lda: outChannels,
             b: weight, ldb: outChannels, beta: 0, c: dinp, ldc: inChannels)
    }

    private static func weightGradient(dweight: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                                       inp: UnsafePointer<Float>, rows: Int, inChannels: Int,
                                       outChannels: Int) -> GEMM {
        GEMM(transA: true, transB: false, m: inChannels, n: outChannels, k: rows, alpha: 1, a: inp, lda: inChannels,
             b: dout, ldb: outChannels, beta: 1, c: dweight, ldc: outChannels)
    }

    private static func biasGradient(dbias: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, rows: Int,
                                     outChannels: Int) {
        Parallel.chunks(outChannels, minChunk: 64) { range in
            llmk_column_sums_add(dbias + range.lowerBound, dout + range.lowerBound, rows, range.count, outChannels)
        }
    }
}
