import CLLMKernels

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
                llmk_causal_softmax(p, T, r0, r1 - r0, r1, rowStats + 2 * r0, 0)
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
            let rowStats = UnsafeMutablePointer(mutating: stats) + bh * T * 2  // read only (recompute: 1)
            for t in 0..<T {
                (dk + t * 3 * C).update(repeating: 0, count: hs)
                (dv + t * 3 * C).update(repeating: 0, count: hs)
            }
            for r0 in stride(from: 0, to: T, by: block) {
                let r1 = min(r0 + block, T), rows = r1 - r0
                scores(p, ldp: T, q: q, rows: r0..<r1, channels: C, headSize: hs)
                llmk_causal_softmax(p, T, r0, rows, r1, rowStats + 2 * r0, 1)
                sgemm(transB: true, m: rows, n: r1, k: hs, a: dy + r0 * C, lda: C, b: v, ldb: 3 * C, beta: 0,
                      c: ds, ldc: T, parallel: false)
                llmk_causal_softmax_backward(ds, p, T, r0, rows, r1, scale)
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
            let q = qkv + b * T * 3 * C + h * hs, a = att + bh * T * T
            let rowStats = UnsafeMutablePointer(mutating: stats) + bh * T * 2  // read only (recompute: 1)
            for r0 in stride(from: 0, to: T, by: block) {
                let r1 = min(r0 + block, T)
                scores(a + r0 * T, ldp: T, q: q, rows: r0..<r1, channels: C, headSize: hs)
                llmk_causal_softmax(a + r0 * T, T, r0, r1 - r0, T, rowStats + 2 * r0, 1)
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

    /// Softmax of row[0..<valid] in place: one decoding step's query against the keys so far,
    /// with the training forward's arithmetic (`llmk_causal_softmax` on its last row).
    static func causalSoftmaxRow(_ row: UnsafeMutablePointer<Float>, valid: Int) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2) { stats in
            llmk_causal_softmax(row, valid, valid - 1, 1, valid, stats.baseAddress!, 0)
        }
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
