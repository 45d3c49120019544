/// Causal multi-head self-attention on a fused (B, T, 3C) qkv buffer laid out [q | k | v] per
/// position, head h owning channels h*hs ..< (h+1)*hs of each part (hs = C / heads).
/// Per (batch, head) it is GEMMs with strided operands, so nothing is transposed or copied:
///   att = softmax_causal(q k^T / sqrt(hs))   (T, T), kept for the backward
///   y   = att v                              written into (B, T, C) at the head's channels
/// The GEMMs go in blocks of `block` query rows that stop at the block's last key (or, for the
/// transposed products, start at its first), skipping most of the masked upper triangle:
/// 62% of the full work at T = 256, 75% at T = 128.
public enum Attention {
    static let block = 64

    /// out (B, T, C), att (B, heads, T, T) with zeros above the diagonal.
    public static func forward(out: UnsafeMutablePointer<Float>, att: UnsafeMutablePointer<Float>,
                               qkv: UnsafePointer<Float>, batch: Int, time T: Int, channels C: Int, heads: Int) {
        let hs = C / heads
        let scale = 1 / Float(hs).squareRoot()
        acrossHeads(batch * heads) { _, bh in
            let b = bh / heads, h = bh % heads
            let q = qkv + b * T * 3 * C + h * hs, k = q + C, v = q + 2 * C
            let a = att + (b * heads + h) * T * T
            let y = out + b * T * C + h * hs
            for r0 in stride(from: 0, to: T, by: block) {
                let r1 = min(r0 + block, T)
                // Rows r0..<r1 of q k^T need keys 0..<r1 only.
                sgemm(transB: true, m: r1 - r0, n: r1, k: hs, alpha: scale, a: q + r0 * 3 * C, lda: 3 * C,
                      b: k, ldb: 3 * C, beta: 0, c: a + r0 * T, ldc: T, parallel: false)
                for t in r0..<r1 { causalSoftmaxRow(a + t * T, valid: t + 1, width: T) }
                sgemm(m: r1 - r0, n: hs, k: r1, a: a + r0 * T, lda: T, b: v, ldb: 3 * C, beta: 0,
                      c: y + r0 * C, ldc: C, parallel: false)
            }
        }
    }

    /// Floats of backward scratch for sequence length T.
    public static func scratchCount(time T: Int) -> Int { Parallel.cores * T * T }

    @inline(__always)
    static func causalSoftmaxRow(_ row: UnsafeMutablePointer<Float>, valid: Int, width: Int) {
        // The exp runs over whole 16-lane groups: on these short rows a scalar tail of up to 15
        // would cost as much as the vector part. The masked lanes become -inf, whose exp (~1e-38
        // after fastExp's clamp) vanishes next to the max's e^0 = 1; they are zeroed below.
        let padded = min((valid + 15) & ~15, width)
        let shift = vectorMax(row, valid)
        for j in valid..<padded { row[j] = -.infinity }
        let inv = 1 / expShiftedInPlace(row, padded, shift: shift)
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
            for r0 in stride(from: 0, to: T, by: block) {
                let r1 = min(r0 + block, T)
                // d(att) = dy v^T, rows r0..<r1, keys 0..<r1 (the rest is masked).
                sgemm(transB: true, m: r1 - r0, n: r1, k: hs, a: dy + r0 * C, lda: C, b: v, ldb: 3 * C, beta: 0,
                      c: scratch + r0 * T, ldc: T, parallel: false)
                // Softmax backward, folding in the 1/sqrt(hs) of the forward:
                // d(pre)[i, j] = scale * att[i, j] * (d(att)[i, j] - sum_k att[i, k] d(att)[i, k]).
                for t in r0..<r1 {
                    let ar = a + t * T, dr = scratch + t * T
                    let dot = vectorDot(ar, dr, t + 1)
                    for j in 0...t { dr[j] = scale * ar[j] * (dr[j] - dot) }
                    for j in (t + 1)..<T { dr[j] = 0 }
                }
                // dq = d(pre) k for the same rows.
                sgemm(m: r1 - r0, n: hs, k: r1, a: scratch + r0 * T, lda: T, b: k, ldb: 3 * C, beta: 0,
                      c: dq + r0 * 3 * C, ldc: 3 * C, parallel: false)
            }
            // Keys c0..<c1 receive from queries c0..<T only: dv = att^T dy, dk = d(pre)^T q.
            for c0 in stride(from: 0, to: T, by: block) {
                let c1 = min(c0 + block, T)
                sgemm(transA: true, m: c1 - c0, n: hs, k: T - c0, a: a + c0 * T + c0, lda: T, b: dy + c0 * C, ldb: C,
                      beta: 0, c: dv + c0 * 3 * C, ldc: 3 * C, parallel: false)
                sgemm(transA: true, m: c1 - c0, n: hs, k: T - c0, a: scratch + c0 * T + c0, lda: T, b: q + c0 * 3 * C,
                      ldb: 3 * C, beta: 0, c: dk + c0 * 3 * C, ldc: 3 * C, parallel: false)
            }
        }
    }

    /// Runs `body(worker, bh)` for every (batch, head) pair, the pairs split over the workers.
    /// The per-head GEMMs are small (at most T x T x hs), so each runs whole in its worker
    /// (`parallel: false`) rather than split.
    @inline(__always)
    static func acrossHeads(_ pairs: Int, _ body: (Int, Int) -> Void) {
        Parallel.indexedChunks(pairs, minChunk: 1) { worker, range in
            for bh in range { body(worker, bh) }
        }
    }
}
