/// Causal multi-head self-attention on a fused (B, T, 3C) qkv buffer laid out [q | k | v] per
/// position, head h owning channels h*hs ..< (h+1)*hs of each part (hs = C / heads).
/// Per (batch, head) it is three GEMMs with strided operands, so nothing is transposed or copied:
///   att = softmax_causal(q k^T / sqrt(hs))   (T, T), kept for the backward
///   y   = att v                              written into (B, T, C) at the head's channels
public enum Attention {
    /// out (B, T, C), att (B, heads, T, T) with zeros above the diagonal.
    public static func forward(out: UnsafeMutablePointer<Float>, att: UnsafeMutablePointer<Float>,
                               qkv: UnsafePointer<Float>, batch: Int, time T: Int, channels C: Int, heads: Int) {
        let hs = C / heads
        let scale = 1 / Float(hs).squareRoot()
        acrossHeads(batch * heads) { _, bh in
            let b = bh / heads, h = bh % heads
            let q = qkv + b * T * 3 * C + h * hs, k = q + C, v = q + 2 * C
            let a = att + (b * heads + h) * T * T
            sgemm(transB: true, m: T, n: T, k: hs, alpha: scale, a: q, lda: 3 * C, b: k, ldb: 3 * C,
                  beta: 0, c: a, ldc: T)
            for t in 0..<T { causalSoftmaxRow(a + t * T, valid: t + 1, width: T) }
            sgemm(m: T, n: hs, k: T, a: a, lda: T, b: v, ldb: 3 * C, beta: 0,
                  c: out + b * T * C + h * hs, ldc: C)
        }
    }

    /// Floats of backward scratch for sequence length T.
    public static func scratchCount(time T: Int) -> Int { Parallel.cores * T * T }

    @inline(__always)
    static func causalSoftmaxRow(_ row: UnsafeMutablePointer<Float>, valid: Int, width: Int) {
        let sum = expShiftedInPlace(row, valid, shift: vectorMax(row, valid))
        let inv = 1 / sum
        for j in 0..<valid { row[j] *= inv }
        for j in valid..<width { row[j] = 0 }
    }

    /// Given dout (B, T, C), overwrites dqkv (B, T, 3C). `scratch` holds `scratchCount(time:)`
    /// floats: one head's d(att) per worker, so the backward needs no (B, heads, T, T) gradient buffer.
    public static func backward(dqkv: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                                dout: UnsafePointer<Float>, qkv: UnsafePointer<Float>, att: UnsafePointer<Float>,
                                batch: Int, time T: Int, channels C: Int, heads: Int) {
        let hs = C / heads
        let scale = 1 / Float(hs).squareRoot()
        acrossHeads(batch * heads) { worker, bh in
            let b = bh / heads, h = bh % heads
            let scratch = scratch + worker * T * T
            let q = qkv + b * T * 3 * C + h * hs, k = q + C, v = q + 2 * C
            let dq = dqkv + b * T * 3 * C + h * hs, dk = dq + C, dv = dq + 2 * C
            let a = att + (b * heads + h) * T * T
            let dy = dout + b * T * C + h * hs
            // d(att) = dy v^T ; dv = att^T dy
            sgemm(transB: true, m: T, n: T, k: hs, a: dy, lda: C, b: v, ldb: 3 * C, beta: 0, c: scratch, ldc: T)
            sgemm(transA: true, m: T, n: hs, k: T, a: a, lda: T, b: dy, ldb: C, beta: 0, c: dv, ldc: 3 * C)
            // Softmax backward, folding in the 1/sqrt(hs) of the forward:
            // d(pre)[i, j] = scale * att[i, j] * (d(att)[i, j] - sum_k att[i, k] d(att)[i, k]).
            for t in 0..<T {
                let ar = a + t * T, dr = scratch + t * T
                let dot = vectorDot(ar, dr, t + 1)
                for j in 0...t { dr[j] = scale * ar[j] * (dr[j] - dot) }
                for j in (t + 1)..<T { dr[j] = 0 }
            }
            // dq = d(pre) k ; dk = d(pre)^T q
            sgemm(m: T, n: hs, k: T, a: scratch, lda: T, b: k, ldb: 3 * C, beta: 0, c: dq, ldc: 3 * C)
            sgemm(transA: true, m: T, n: hs, k: T, a: scratch, lda: T, b: q, ldb: 3 * C, beta: 0, c: dk, ldc: 3 * C)
        }
    }

    /// Runs `body(worker, bh)` for every (batch, head) pair, the pairs split over the workers.
    /// The per-head GEMMs are small (T x T x hs), so one single-threaded GEMM per worker beats
    /// a multi-threaded GEMM per head; OpenBLAS is set to one thread meanwhile so concurrent
    /// calls stay in their calling threads.
    @inline(__always)
    static func acrossHeads(_ pairs: Int, _ body: (Int, Int) -> Void) {
        let threads = BLASThreads.current
        if threads > 1 { BLASThreads.set(1) }
        defer { if threads > 1 { BLASThreads.set(threads) } }
        Parallel.indexedChunks(pairs, minChunk: 1, workers: threads) { worker, range in
            for bh in range { body(worker, bh) }
        }
    }
}
