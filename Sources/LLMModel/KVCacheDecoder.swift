import COpenBLAS

/// Inference-only forward pass with a key/value cache, for generation: each new token costs one
/// position (its own projections plus attention over the cached keys and values), not a forward
/// of the whole prefix. Reads the GPT's flat parameters through `ParameterLayout` and runs the
/// same layer kernels as `GPT.forward` (LayerNorm, Matmul, GELU/ReLU, the causal softmax), so a
/// cached step gives the full forward's logits up to GEMM-versus-GEMV rounding (tested).
///
///   let decoder = KVCacheDecoder(config: cfg, parameters: weights, slots: 4)
///   let logits = decoder.forward(slots: [0, 0, 0, 1], tokens: [a, b, c, d])   // (4, V)
///
/// A slot is one sequence being generated. `forward` takes any number of rows (up to
/// `maxRows`), each appending one token to its slot at the slot's next position; rows of the same
/// slot must be in order (a prompt is fed as consecutive rows, then one row per new token). The
/// K and V of every row are written to the cache before any row attends, so row p of a slot sees
/// positions 0...p. The cache (layers x slots x context x C, for K and V) and all activations are
/// allocated and touched once, in init; `forward` allocates nothing.
///
/// `parameters` is borrowed, not copied: it must outlive the decoder and not change while
/// cached positions are in use.
public final class KVCacheDecoder {
    public let config: GPTConfig
    public let slotCount: Int
    public let maxRows: Int
    /// Positions filled in each slot's cache.
    public private(set) var lengths: [Int]

    let layout: ParameterLayout
    let parameters: UnsafePointer<Float>
    let keys, values: UnsafeMutablePointer<Float>
    let arena: UnsafeMutableBufferPointer<Float>
    let residual, normed, mean, rstd, qkv, attended: UnsafeMutablePointer<Float>
    let hidden, activated, logits, scores: UnsafeMutablePointer<Float>

    public init(config: GPTConfig, parameters: UnsafeBufferPointer<Float>, slots: Int, maxRows: Int = 64) {
        layout = ParameterLayout(config: config)
        precondition(parameters.count >= layout.count, "parameter buffer smaller than the model")
        precondition(slots >= 1 && maxRows >= 1 && config.modelDim % config.heads == 0)
        self.config = config
        self.parameters = parameters.baseAddress!
        slotCount = slots
        self.maxRows = maxRows
        lengths = Array(repeating: 0, count: slots)

        let C = config.modelDim, N = maxRows, T = config.contextLength
        let cacheCount = config.layers * slots * T * C
        keys = .allocate(capacity: cacheCount)
        keys.initialize(repeating: 0, count: cacheCount)
        values = .allocate(capacity: cacheCount)
        values.initialize(repeating: 0, count: cacheCount)
        let total = N * C * 3 + N * 2 + N * 3 * C + N * 4 * C * 2 + N * config.vocabSize
            + Parallel.cores * T
        arena = .allocate(capacity: total)
        arena.initialize(repeating: 0)
        var cursor = arena.baseAddress!
        func take(_ n: Int) -> UnsafeMutablePointer<Float> { defer { cursor += n }; return cursor }
        residual = take(N * C)
        normed = take(N * C)
        attended = take(N * C)
        mean = take(N)
        rstd = take(N)
        qkv = take(N * 3 * C)
        hidden = take(N * 4 * C)
        activated = take(N * 4 * C)
        logits = take(N * config.vocabSize)
        scores = take(Parallel.cores * T)
        precondition(cursor - arena.baseAddress! == total)
    }

    /// Borrows `model`'s parameters; the model must stay alive and unchanged while decoding.
    public convenience init(model: GPT, slots: Int, maxRows: Int = 64) {
        self.init(config: model.config, parameters: UnsafeBufferPointer(model.parameters), slots: slots, maxRows: maxRows)
    }

    deinit {
        keys.deallocate()
        values.deallocate()
        arena.deallocate()
    }

    /// Empties one slot (its cached positions are overwritten by the next rows).
    public func reset(slot: Int) { lengths[slot] = 0 }

    public func resetAll() { lengths = Array(repeating: 0, count: slotCount) }

    /// Runs `tokens.count` rows, row r appending `tokens[r]` to slot `slots[r]`, and returns the
    /// logits (rows, V) of every row. The buffer is reused by the next call.
    public func forward(slots rowSlots: [Int], tokens: [Int32]) -> UnsafeBufferPointer<Float> {
        let N = tokens.count, C = config.modelDim, V = config.vocabSize, T = config.contextLength
        precondition(N >= 1 && N <= maxRows && rowSlots.count == N, "rows must be in 1...maxRows, one slot each")
        // Each row's position, taken in order so several rows of one slot get consecutive ones.
        var positions = [Int](repeating: 0, count: N)
        for r in 0..<N {
            let s = rowSlots[r]
            precondition(s >= 0 && s < slotCount, "slot out of range")
            precondition(lengths[s] < T, "slot \(s) is full: the context holds \(T) positions")
            precondition(tokens[r] >= 0 && Int(tokens[r]) < V, "token out of range")
            positions[r] = lengths[s]
            lengths[s] += 1
        }
        let p = parameters
        for r in 0..<N {
            let o = residual + r * C, e = p + layout.wte + Int(tokens[r]) * C, w = p + layout.wpe + positions[r] * C
            for i in 0..<C { o[i] = e[i] + w[i] }
        }
        for l in 0..<config.layers {
            let w = layout.blocks[l]
            LayerNorm.forward(out: normed, mean: mean, rstd: rstd, inp: residual, weight: p + w.ln1w, bias: p + w.ln1b,
                              rows: N, channels: C)
            linear(out: qkv, inp: normed, weight: p + w.qkvw, bias: p + w.qkvb, rows: N, inChannels: C, outChannels: 3 * C)
            let layerKeys = keys + l * slotCount * T * C, layerValues = values + l * slotCount * T * C
            for r in 0..<N {
                let at = (rowSlots[r] * T + positions[r]) * C
                (layerKeys + at).update(from: qkv + r * 3 * C + C, count: C)
                (layerValues + at).update(from: qkv + r * 3 * C + 2 * C, count: C)
            }
            attend(layerKeys: layerKeys, layerValues: layerValues, slots: rowSlots, positions: positions)
            // Residual adds fused into the projections, in place: each element is read, then written.
            linear(out: residual, inp: attended, weight: p + w.projw, bias: p + w.projb, residual: true,
                   rows: N, inChannels: C, outChannels: C)
            LayerNorm.forward(out: normed, mean: mean, rstd: rstd, inp: residual, weight: p + w.ln2w, bias: p + w.ln2b,
                              rows: N, channels: C)
            linear(out: hidden, inp: normed, weight: p + w.fcw, bias: p + w.fcb, rows: N, inChannels: C, outChannels: 4 * C)
            switch config.activation {
            case .gelu: GELU.forward(out: activated, derivative: nil, inp: hidden, count: N * 4 * C)
            case .relu: ReLU.forward(out: activated, inp: hidden, count: N * 4 * C)
            }
            linear(out: residual, inp: activated, weight: p + w.fcprojw, bias: p + w.fcprojb, residual: true,
                   rows: N, inChannels: 4 * C, outChannels: C)
        }
        LayerNorm.forward(out: normed, mean: mean, rstd: rstd, inp: residual, weight: p + layout.lnfw,
                          bias: p + layout.lnfb, rows: N, channels: C)
        if N == 1 {
            // logits = wte (V, C) @ x, split by vocabulary rows over the workers.
            let wte = p + layout.wte
            Parallel.chunks(V, minChunk: 1024) { range in
                cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(range.count), Int32(C), 1, wte + range.lowerBound * C, Int32(C),
                            normed, 1, 0, logits + range.lowerBound, 1)
            }
        } else {
            sgemm(transB: true, m: N, n: V, k: C, a: normed, lda: C, b: p + layout.wte, ldb: C, beta: 0, c: logits, ldc: V)
        }
        return UnsafeBufferPointer(start: logits, count: N * V)
    }

    /// `Matmul.forward`, in place on the residual stream when `residual` (out += inp @ W + b). One
    /// row (a decode step of one sequence) goes through GEMV: OpenBLAS's GEMM packs the whole
    /// weight matrix even for one row, which doubles the memory traffic that bounds a decode step.
    private func linear(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>, residual: Bool = false, rows: Int, inChannels: Int, outChannels: Int) {
        guard rows == 1 else {
            Matmul.forward(out: out, inp: inp, weight: weight, bias: bias, residual: residual ? UnsafePointer(out) : nil,
                           rows: rows, inChannels: inChannels, outChannels: outChannels)
            return
        }
        // out (OC) = W^T (OC, C) @ x + bias (+ out), split by output columns over the workers.
        Parallel.chunks(outChannels, minChunk: 256) { range in
            let o = out + range.lowerBound
            for j in 0..<range.count { o[j] = (residual ? o[j] : 0) + bias[range.lowerBound + j] }
            cblas_sgemv(CblasRowMajor, CblasTrans, Int32(inChannels), Int32(range.count), 1, weight + range.lowerBound,
                        Int32(outChannels), inp, 1, 1, o, 1)
        }
    }

    /// attended[r, head] = softmax(q k^T / sqrt(hs)) v over the cached positions 0...positions[r]
    /// of the row's slot: two GEMVs per (row, head) on the strided cache, no copies.
    private func attend(layerKeys: UnsafePointer<Float>, layerValues: UnsafePointer<Float>,
                        slots rowSlots: [Int], positions: [Int]) {
        let C = config.modelDim, T = config.contextLength, NH = config.heads, hs = C / NH
        let scale = 1 / Float(hs).squareRoot()
        Parallel.indexedChunks(positions.count * NH, minChunk: 2) { worker, range in
            let row = scores + worker * T
            for pair in range {
                let r = pair / NH, h = pair % NH
                let keysSeen = positions[r] + 1
                let q = qkv + r * 3 * C + h * hs
                let k = layerKeys + rowSlots[r] * T * C + h * hs, v = layerValues + rowSlots[r] * T * C + h * hs
                cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(keysSeen), Int32(hs), scale, k, Int32(C), q, 1, 0, row, 1)
                Attention.causalSoftmaxRow(row, valid: keysSeen)
                cblas_sgemv(CblasRowMajor, CblasTrans, Int32(keysSeen), Int32(hs), 1, v, Int32(C), row, 1, 0,
                            attended + r * C + h * hs, 1)
            }
        }
    }
}
