/// Causal multi-head self-attention on a fused (B, T, 3C) qkv buffer laid out [q | k | v] per
/// position, head h owning channels h*hs ..< (h+1)*hs of each part (hs = C / heads):
///   y = softmax_causal(q k^T / sqrt(hs)) v      written into (B, T, C) at the head's channels.
/// FlashAttention's recipe on a CPU: the (T, T) probabilities are never stored. Per (batch, head)
/// the queries go in tiles of `block` rows; a tile's scores against keys 0..<r1 (its last row's
/// causal reach: the masked tiles are skipped whole) are one strip of block x T floats in the
/// worker's scratch, small enough to stay in L2. Because the strip holds whole rows, the softmax
/// is exact in one pass (no online rescaling); the forward keeps, per row, the max and 1/sum
/// (the log-sum-exp, in the two parts the forward used), and the backward recomputes each
/// tile's probabilities from them, bit for bit the forward's. The tile products are strided
/// GEMMs on qkv (nothing transposed or copied), each whole in its worker (`parallel: false`).
/// Memory: 2 floats per (row, head) instead of T; compute: one more q k^T in the backward.
public enum Attention {
    static let block = 64

    /// Floats of the per-row statistics the forward keeps for the backward: (B, heads, T, 2).
    public static func statsCount(batch: Int, time T: Int, heads: Int) -> Int { batch * heads * T * 2 }

    /// Floats of per-worker scratch (two block x T strips each) for forward and backward.
    public static func scratchCount(time T: Int) -> Int { Parallel.cores * 2 * block * T }

    /// out (B, T, C); stats (B, heads, T, 2) per row: the score max and 1/sum of the exponentials.
    public static func forward(out: UnsafeMutablePointer<Float>, stats: UnsafeMutablePointer<Float>,
                               scratch: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>,
                               batch: Int, time T: Int, channels C: Int, heads: Int) {
        let hs = C / heads
        acrossHeads(batch * heads) { worker, bh in
            let b = bh / heads, h = bh % heads
            let q = qkv + b * T * 3 * C + h * hs, v = q + 2 * C
            let p = scratch + worker * 2 * block * T
            let rowStats = stats + bh * T * 2
            let y = out + b * T * C + h * hs
            for r0 in stride(from: 0, to: T, by: block) {
                let r1 = min(r0 + block, T)
                scores(p, ldp: T, q: q, rows: r0..<r1, channels: C, headSize: hs)
                for t in r0..<r1 {
                    (rowStats[2 * t], rowStats[2 * t + 1]) = causalSoftmaxRow(p + (t - r0) * T, valid: t + 1, width: r1)
                }
                sgemm(m: r1 - r0, n: hs, k: r1, a: p, lda: T, b: v, ldb: 3 * C, beta: 0, c: y + r0 * C, ldc: C,
                      parallel: false)
            }
        }
    }

    /// Given dout (B, T, C), overwrites dqkv (B, T, 3C). Per query tile, recomputed:
    ///   P = the forward's probabilities, dP = dy v^T,
    ///   dS[i, j] = scale * P[i, j] * (dP[i, j] - sum_k P[i, k] dP[i, k])   (softmax backward, 1/sqrt(hs) folded in)
    /// then dq(tile) = dS k, and keys 0..<r1 accumulate dk += dS^T q(tile), dv += P^T dy(tile),
    /// tile after tile in order, so the sums do not depend on the thread count.
    public static func backward(dqkv: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                                dout: UnsafePointer<Float>, qkv: UnsafePointer<Float>, stats: UnsafePointer<Float>,
                                batch: Int, time T: Int, channels C: Int, heads: Int) {
        let hs = C / heads
        let scale = 1 / Float(hs).squareRoot()
        acrossHeads(batch * heads) { worker, bh in
            let b = bh / heads, h = bh % heads
            let q = qkv + b * T * 3 * C + h * hs, k = q + C, v = q + 2 * C
            let dq = dqkv + b * T * 3 * C + h * hs, dk = dq + C, dv = dq + 2 * C
            let dy = dout + b * T * C + h * hs
            let p = scratch + worker * 2 * block * T, ds = p + block * T
            let rowStats = stats + bh * T * 2
            for t in 0..<T {
                (dk + t * 3 * C).update(repeating: 0, count: hs)
                (dv + t * 3 * C).update(repeating: 0, count: hs)
            }
            for r0 in stride(from: 0, to: T, by: block) {
                let r1 = min(r0 + block, T), rows = r1 - r0
                scores(p, ldp: T, q: q, rows: r0..<r1, channels: C, headSize: hs)
                for t in r0..<r1 {
                    softmaxRow(p + (t - r0) * T, valid: t + 1, width: r1, shift: rowStats[2 * t],
                               inverseSum: rowStats[2 * t + 1])
                }
                sgemm(transB: true, m: rows, n: r1, k: hs, a: dy + r0 * C, lda: C, b: v, ldb: 3 * C, beta: 0,
                      c: ds, ldc: T, parallel: false)
                for t in r0..<r1 {
                    let pr = p + (t - r0) * T, dr = ds + (t - r0) * T
                    let dot = vectorDot(pr, dr, t + 1)
                    for j in 0...t { dr[j] = scale * pr[j] * (dr[j] - dot) }
                    for j in (t + 1)..<r1 { dr[j] = 0 }
                }
                sgemm(m: rows, n: hs, k: r1, a: ds, lda: T, b: k, ldb: 3 * C, beta: 0, c: dq + r0 * 3 * C, ldc: 3 * C,
                      parallel: false)
                sgemm(transA: true, m: r1, n: hs, k: rows, a: ds, lda: T, b: q + r0 * 3 * C, ldb: 3 * C, beta: 1,
                      c: dk, ldc: 3 * C, parallel: false)
                sgemm(transA: true, m: r1, n: hs, k: rows, a: p, lda: T, b: dy + r0 * C, ldb: C, beta: 1,
                      c: dv, ldc: 3 * C, parallel: false)
            }
        }
    }

    /// The probabilities of the forward that left `stats`, recomputed into att (B, heads, T, T),
    /// zeros above the diagonal: for inspection (attention maps), never on the training path.
    public static func probabilities(att: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>,
                                     stats: UnsafePointer<Float>, batch: Int, time T: Int, channels C: Int, heads: Int) {
        let hs = C / heads
        acrossHeads(batch * heads) { _, bh in
            let b = bh / heads, h = bh % heads
            let q = qkv + b * T * 3 * C + h * hs, a = att + bh * T * T, rowStats = stats + bh * T * 2
            for r0 in stride(from: 0, to: T, by: block) {
                let r1 = min(r0 + block, T)
                scores(a + r0 * T, ldp: T, q: q, rows: r0..<r1, channels: C, headSize: hs)
                for t in r0..<r1 {
                    softmaxRow(a + t * T, valid: t + 1, width: T, shift: rowStats[2 * t], inverseSum: rowStats[2 * t + 1])
                }
            }
        }
    }

    /// p[i - r0, j] = q_i . k_j / sqrt(hs) for queries i in `rows`, keys j < rows.upperBound.
    /// Forward and backward make the same call, so the recomputed scores are the forward's.
    @inline(__always)
    static func scores(_ p: UnsafeMutablePointer<Float>, ldp: Int, q: UnsafePointer<Float>, rows: Range<Int>,
                       channels C: Int, headSize hs: Int) {
        sgemm(transB: true, m: rows.count, n: rows.upperBound, k: hs, alpha: 1 / Float(hs).squareRoot(),
              a: q + rows.lowerBound * 3 * C, lda: 3 * C, b: q + C, ldb: 3 * C, beta: 0, c: p, ldc: ldp, parallel: false)
    }

    /// Softmax of row[0..<valid] in place, zeros in valid..<width; returns the max and 1/sum.
    @inline(__always) @discardableResult
    static func causalSoftmaxRow(_ row: UnsafeMutablePointer<Float>, valid: Int,
                                 width: Int) -> (shift: Float, inverseSum: Float) {
        let shift = vectorMax(row, valid)
        let inverseSum = 1 / maskedExp(row, valid: valid, width: width, shift: shift)
        for j in 0..<valid { row[j] *= inverseSum }
        return (shift, inverseSum)
    }

    /// The same probabilities from the statistics `causalSoftmaxRow` returned for these scores.
    @inline(__always)
    static func softmaxRow(_ row: UnsafeMutablePointer<Float>, valid: Int, width: Int, shift: Float, inverseSum: Float) {
        _ = maskedExp(row, valid: valid, width: width, shift: shift)
        for j in 0..<valid { row[j] *= inverseSum }
    }

    /// e^(row[j] - shift) for j < valid, zeros in valid..<width; returns the sum.
    @inline(__always)
    static func maskedExp(_ row: UnsafeMutablePointer<Float>, valid: Int, width: Int, shift: Float) -> Float {
        // The exp runs over whole 16-lane groups: on these short rows a scalar tail of up to 15
        // would cost as much as the vector part. The masked lanes become -inf, whose exp (~1e-38
        // after fastExp's clamp) vanishes next to the max's e^0 = 1; they are zeroed below.
        let padded = min((valid + 15) & ~15, width)
        for j in valid..<padded { row[j] = -.infinity }
        let sum = expShiftedInPlace(row, padded, shift: shift)
        for j in valid..<width { row[j] = 0 }
        return sum
    }

    /// Runs `body(worker, bh)` for every (batch, head) pair, the pairs split over the workers
    /// (each pair's arithmetic is the same whichever worker runs it).
    @inline(__always)
    static func acrossHeads(_ pairs: Int, _ body: (Int, Int) -> Void) {
        Parallel.indexedChunks(pairs, minChunk: 1) { worker, range in
            for bh in range { body(worker, bh) }
        }
    }
}
