import CLLMKernels

/// Squared L2 norms of each example's own gradient, gathered during one batched backward
/// (`GPT.perExampleNorms`), without a backward pass per example ("ghost clipping", Li et al.
/// 2021), and the clipped sum of the examples' gradients from that same backward ("book-keeping",
/// Bu et al. 2022, "Differentially private optimization on large model at small cost").
///
/// Book-keeping: with a collector set, the backward propagates input gradients only (they do not
/// depend on the clip factors: the backward is linear in each example's upstream gradient, and
/// examples do not mix). Each parameter gradient's output gradient (e.g. a linear layer's G) is
/// kept in this collector's book instead, with the step that forms the parameter gradient from it.
/// Once all norms are known, `addClippedWeightGradients` scales each example's rows of every kept
/// output gradient by its clip factor c_b and runs the steps: A^T (c . G) = sum_b c_b A_b^T G_b,
/// one product per layer as in the plain backward. A DP-SGD micro-batch so costs one forward,
/// one input-gradient backward, the norms and the weight products; the price is the book's
/// memory, per position 11 C floats a block plus 2 C (ln_f, embeddings), and the LM head's
/// (B, T, V) logit gradients in place (GPT-2 small at 4 x 1024: 1.7 GB). The kept steps read the
/// forward's activations, so the backward must not recompute them (`train.recompute: none`).
///
/// The backward hands every layer's saved input and output gradient to this collector; each
/// layer's share of example b's squared norm has a small rule:
/// - linear, W (in, out): the example's gradient is A^T G, with A (T, in) its inputs and G
///   (T, out) its output gradients. ||A^T G||^2 = sum_{t,s} (A A^T)_{ts} (G G^T)_{ts} costs
///   T^2 (in + out); forming A^T G costs T in out. Each layer takes the cheaper one.
///   Its bias: ||sum_t G_t||^2.
/// - LayerNorm: gain sum_t G_t * xhat_t and shift sum_t G_t, xhat from the saved mean and rstd.
/// - position embedding: each position is its own row, so sum_t ||G_t||^2.
/// - token embedding: rows are shared by equal tokens, so sum over distinct tokens of
///   ||sum_{t: token_t = v} G_t||^2.
/// - tied LM head (language-model DP-SGD, `tiedHead` set): wte's gradient is also the head's,
///   sum_t g_t h_t^T (g_t: logit gradients, h_t: final hidden state), so the token embedding's
///   term gains ||head||^2 = sum_{t,t'} (g_t . g_t')(h_t . h_t') and the cross term
///   2 <head, emb> = 2 sum_{t,s} g_t[x_s] (h_t . e_s) (e_s: the embedding's output gradient at s,
///   x_s its token), both from T x T Gram matrices instead of a V x C gradient per example.
/// Padding positions after a post (causal attention) have zero gradients and add nothing.
/// Sums are in Double (the Gram and gradient products' in Float blocks of 4096, vectorised): the
/// norms decide clipping, and a few thousand terms of mixed sign add up.
public final class PerExampleGradientNorms {
    /// Example b's squared gradient norm so far, over the layers seen since `reset`.
    public private(set) var squaredNorms: [Double] = []
    private var batch = 0, time = 0
    private var scratch: [Float] = []
    /// The book: copies of the output gradients handed to `keep` (grown as needed, then reused),
    /// and the steps that form the parameter gradients from them, in the backward's order.
    private var book: [Float] = []
    private var bookUsed = 0
    private var kept: [Kept] = []
    private struct Kept {
        /// Where the output gradient is: the book at `offset`, or the caller's own buffer.
        var offset: Int
        var external: UnsafeMutablePointer<Float>?
        var rowsPerExample, width: Int
        var step: (UnsafePointer<Float>) -> Void
    }

    /// Set around a language-model backward (`GPT.backward(windowWeights:)`): the
    /// logit gradients (B, T, V) and final hidden states (B, T, C) of the tied head.
    var tiedHead: (dlogits: UnsafePointer<Float>, hidden: UnsafePointer<Float>, vocab: Int)?

    public init() {}

    /// Starts a backward over `batch` examples of `time` positions each.
    func reset(batch: Int, time: Int) {
        self.batch = batch
        self.time = time
        squaredNorms = [Double](repeating: 0, count: batch)
        bookUsed = 0
        kept = []
    }

    /// Keeps a parameter gradient for `addClippedWeightGradients`: `step` forms it from the output
    /// gradient (the batch's rows, `rowsPerExample` per example, `width` floats each), which is
    /// copied into the book, or with `copy: false` scaled in place later (the caller must leave the
    /// buffer alone until then).
    func keep(_ gradient: UnsafeMutablePointer<Float>, rowsPerExample: Int, width: Int, copy: Bool,
              step: @escaping (UnsafePointer<Float>) -> Void) {
        let count = batch * rowsPerExample * width
        var entry = Kept(offset: bookUsed, external: copy ? nil : gradient, rowsPerExample: rowsPerExample,
                         width: width, step: step)
        if copy {
            if book.count < bookUsed + count {
                book.append(contentsOf: repeatElement(0, count: max(bookUsed + count, 2 * book.count) - book.count))
            }
            book.withUnsafeMutableBufferPointer { ($0.baseAddress! + bookUsed).update(from: gradient, count: count) }
            bookUsed += count
        } else {
            entry.offset = -1
        }
        kept.append(entry)
    }

    /// Adds the clipped sum of the last backward's per-example gradients, sum_b factors[b] g_b, into
    /// the model's gradients: each kept output gradient's rows of example b scaled by factors[b],
    /// then the kept steps run. Forgets the book.
    public func addClippedWeightGradients(factors: [Float]) {
        precondition(factors.count == batch, "one clip factor per example of the last backward")
        book.withUnsafeMutableBufferPointer { buffer in
            for entry in kept {
                let gradient = entry.external ?? buffer.baseAddress! + entry.offset
                let run = entry.rowsPerExample * entry.width
                for b in 0..<batch where factors[b] != 1 {
                    let rows = gradient + b * run, factor = factors[b]
                    for i in 0..<run { rows[i] *= factor }
                }
                entry.step(gradient)
            }
        }
        bookUsed = 0
        kept = []
    }

    /// Adds a term for every example (the task head's, which the trunk's backward does not see).
    public func add(_ squares: [Double]) {
        precondition(squares.count == batch, "one term per example of the last backward")
        for b in 0..<batch { squaredNorms[b] += squares[b] }
    }

    /// Examples run concurrently (each on one thread, in a fixed order: the same sums on any
    /// thread count); each worker has its own scratch.
    func linear(input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>, inChannels I: Int,
                outChannels O: Int) {
        let T = time, B = batch
        let ghost = T * (I + O) < I * O
        let need = ghost ? 2 * T * T : I * O
        if scratch.count < need * Parallel.workers { scratch = [Float](repeating: 0, count: need * Parallel.workers) }
        var sums = [Double](repeating: 0, count: B)
        scratch.withUnsafeMutableBufferPointer { buffer in
            sums.withUnsafeMutableBufferPointer { out in
                let base = buffer.baseAddress!, o = out.baseAddress!
                Parallel.indexedChunks(B, minChunk: 1) { worker, examples in
                    let s = base + worker * need
                    for b in examples {
                        let A = input + b * T * I, G = outputGradient + b * T * O
                        let sum: Double
                        if ghost {
                            sgemm(transB: true, m: T, n: T, k: I, a: A, lda: I, b: A, ldb: I, beta: 0, c: s, ldc: T,
                                  parallel: false)
                            sgemm(transB: true, m: T, n: T, k: O, a: G, lda: O, b: G, ldb: O, beta: 0, c: s + T * T,
                                  ldc: T, parallel: false)
                            sum = Self.dot(s, s + T * T, T * T)
                        } else {
                            sgemm(transA: true, m: I, n: O, k: T, a: A, lda: I, b: G, ldb: O, beta: 0, c: s, ldc: O,
                                  parallel: false)
                            sum = Self.dot(s, s, I * O)
                        }
                        o[b] = sum + Self.squaredColumnSums(G, rows: T, columns: O)
                    }
                }
            }
        }
        for b in 0..<B { squaredNorms[b] += sums[b] }
    }

    func layerNorm(input: UnsafePointer<Float>, mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                   outputGradient: UnsafePointer<Float>, channels C: Int) {
        var gain = [Double](repeating: 0, count: C), shift = [Double](repeating: 0, count: C)
        for b in 0..<batch {
            for c in 0..<C { gain[c] = 0; shift[c] = 0 }
            for t in 0..<time {
                let row = b * time + t, x = input + row * C, g = outputGradient + row * C
                let m = Double(mean[row]), r = Double(rstd[row])
                for c in 0..<C {
                    gain[c] += Double(g[c]) * (Double(x[c]) - m) * r
                    shift[c] += Double(g[c])
                }
            }
            squaredNorms[b] += (0..<C).reduce(0.0) { $0 + gain[$1] * gain[$1] + shift[$1] * shift[$1] }
        }
    }

    func embeddings(tokens: UnsafePointer<Int32>, outputGradient: UnsafePointer<Float>, channels C: Int) {
        for b in 0..<batch {
            let G = outputGradient + b * time * C
            var positions = 0.0
            for i in 0..<(time * C) { positions += Double(G[i]) * Double(G[i]) }
            // Positions grouped by token: each group's summed gradient is one row of d(wte).
            let order = (0..<time).sorted { (tokens[b * time + $0], $0) < (tokens[b * time + $1], $1) }
            var rows = 0.0, start = 0
            var row = [Double](repeating: 0, count: C)
            while start < time {
                var end = start
                for c in 0..<C { row[c] = 0 }
                while end < time && tokens[b * time + order[end]] == tokens[b * time + order[start]] {
                    for c in 0..<C { row[c] += Double(G[order[end] * C + c]) }
                    end += 1
                }
                rows += row.reduce(0) { $0 + $1 * $1 }
                start = end
            }
            squaredNorms[b] += positions + rows
        }
        if let tiedHead { tiedHeadTerms(tiedHead, tokens: tokens, embeddingGradient: outputGradient, channels: C) }
    }

    /// ||head_b||^2 + 2 <head_b, emb_b> for every example (see the type's comment).
    private func tiedHeadTerms(_ head: (dlogits: UnsafePointer<Float>, hidden: UnsafePointer<Float>, vocab: Int),
                               tokens: UnsafePointer<Int32>, embeddingGradient: UnsafePointer<Float>, channels C: Int) {
        let T = time, B = batch, V = head.vocab, need = 3 * T * T
        if scratch.count < need * Parallel.workers { scratch = [Float](repeating: 0, count: need * Parallel.workers) }
        var sums = [Double](repeating: 0, count: B)
        scratch.withUnsafeMutableBufferPointer { buffer in
            sums.withUnsafeMutableBufferPointer { out in
                let base = buffer.baseAddress!, o = out.baseAddress!
                Parallel.indexedChunks(B, minChunk: 1) { worker, examples in
                    let gg = base + worker * need, hh = gg + T * T, he = hh + T * T
                    for b in examples {
                        let G = head.dlogits + b * T * V, H = head.hidden + b * T * C
                        let E = embeddingGradient + b * T * C, x = tokens + b * T
                        sgemm(transB: true, m: T, n: T, k: V, a: G, lda: V, b: G, ldb: V, beta: 0, c: gg, ldc: T,
                              parallel: false)
                        sgemm(transB: true, m: T, n: T, k: C, a: H, lda: C, b: H, ldb: C, beta: 0, c: hh, ldc: T,
                              parallel: false)
                        // he[t, s] = h_t . e_s
                        sgemm(transB: true, m: T, n: T, k: C, a: H, lda: C, b: E, ldb: C, beta: 0, c: he, ldc: T,
                              parallel: false)
                        var cross = 0.0
                        let headSquares = Self.dot(gg, hh, T * T)
                        for t in 0..<T {
                            for s in 0..<T { cross += Double(G[t * V + Int(x[s])]) * Double(he[t * T + s]) }
                        }
                        o[b] = headSquares + 2 * cross
                    }
                }
            }
        }
        for b in 0..<B { squaredNorms[b] += sums[b] }
    }

    /// sum_i a[i] b[i]: vectorised Float dot products of blocks of 4096, added in Double.
    private static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Double {
        var total = 0.0
        for start in stride(from: 0, to: n, by: 4096) { total += Double(llmk_dot(a + start, b + start, min(4096, n - start))) }
        return total
    }

    private static func squaredColumnSums(_ G: UnsafePointer<Float>, rows T: Int, columns O: Int) -> Double {
        var total = 0.0
        for o in 0..<O {
            var s = 0.0
            for t in 0..<T { s += Double(G[t * O + o]) }
            total += s * s
        }
        return total
    }
}
