import Foundation
import LLMSupport

// GPT-2-style decoder-only transformer, fp32, hand-written forward and backward after llm.c's
// train_gpt2.c: activations (B, T, C) row-major, every matrix product a cblas_sgemm, the
// elementwise kernels plain loops over unsafe pointers (Layers/*.swift, each forward beside its
// backward). Public API, as the trainer uses it:
//
//   BLASThreads.set(1)                                   // compute threads: GEMM and elementwise (1 per MPI rank)
//   let model = GPT(config: cfg, batchSize: B, sequenceLength: T, seed: 42)   // allocates everything
//   model.parameters, model.gradients                    // UnsafeMutableBufferPointer<Float>, parameterCount each
//   model.tensors                                        // [ParameterTensor]: name, shape, offset, count, decays
//   model.rng.state                                      // PRNG state after init (checkpointable)
//   let optimizer = AdamW(parameterCount: model.parameterCount, config: AdamWConfig(...))
//   let schedule = LearningRateSchedule(maxLR:minLR:warmupSteps:totalSteps:)
//   model.zeroGradients()
//   for micro in 0..<k {                                 // gradient accumulation; x, y: B*T Int32, (B, T)
//       let loss = model.forwardBackward(inputs: x, targets: y, lossScale: 1 / Float(k))  // mean loss;
//   }                                                    // ADDS d(mean loss * lossScale) to gradients
//   (all-reduce model.gradients, divide by the number of ranks)
//   let norm = clipGradients(model.gradients, maxNorm: 1)   // pre-clip global L2 norm
//   optimizer.update(model: model, learningRate: schedule.rate(at: step))
//   checkpoint: model.parameters, optimizer.m, optimizer.v, optimizer.step, model.rng.state
//
// forward(inputs:targets: nil) computes the logits only (model.logits, (B, T, V)) and returns
// .nan. forward(inputs:targets:) returns the mean loss and fills model.losses (B, T). Training
// calls forwardBackward, which runs the tied LM head over chunks of positions and takes each
// chunk from logits to probabilities (fused cross-entropy) to its gradient at once, so the
// (B, T, V) logits, the largest activation of GPT-2 small (0.8 GB at 4 x 1024), never exist
// whole; `logits` is touched only by a logits-only forward, or when `keepsProbabilities` asks a
// forward with targets to leave the probabilities there (DP-SGD's window-weighted backward
// turns them into its logit gradients). Tokens outside 0..<vocabSize trap.
// Task heads (LLMTasks) use the trunk alone: forwardHidden(inputs:batch:time:) runs b <= B posts
// of t <= T tokens, (b, t) row-major, up to the final LayerNorm (model.hidden, (b, t, C)), and
// backwardHidden(_:) takes d(hidden) and runs the trunk backward. A head's weights are extra
// named tensors (e.g. score.weight [labels, C]) appended to the one flat buffer by init, so the
// optimiser, shards, all-reduce and checkpoints see a single buffer as before.
// With debugChecks on, each forward scans every activation and sets `nonFinite` to the first
// NaN/Inf (layer and tensor name), or nil; the trainer decides whether to stop.
// Memory: parameters, gradients, activations and backward scratch are allocated and touched
// once in init; forward and backward allocate nothing. Attention keeps no (T, T) matrix (see
// Attention); `recompute` (init) drops block activations the backward then recomputes. Parameter layout: see ParameterLayout.
// Results are bit-identical for the same seed on any thread count, on every CPU: GEMMs are cut
// into parts by rows/columns from their shape alone (never along k, never by thread count; see
// GEMMPartition), and each elementwise output is computed by one thread in a fixed order
// (ThreadingTests checks 1 vs 2 threads, also under OPENBLAS_CORETYPE=Haswell, Zen 3's kernel).

/// Where a debug check found a NaN or Inf. `layer` is nil for the embedding and the head.
public struct NonFiniteActivation: Error, Equatable, CustomStringConvertible {
    public var layer: Int?
    public var activation: String
    public var index: Int
    public var description: String {
        "non-finite value in \(layer.map { "layer \($0) " } ?? "")\(activation) at flat index \(index)"
    }
}

/// One block's activations: views into the activation arena, each either the block's own or,
/// for what `recompute` drops, into one block's worth of buffers all blocks share. The MLP
/// activation's output and GELU's derivative are always shared: the backward recomputes them
/// from the kept c_fc output, an elementwise pass (about 0.5% of a GPT-2-small step) that saves
/// 4 x B x T x d_model floats per block.
struct BlockActivations {
    var ln1, ln1Mean, ln1Rstd, qkv, atty, attStats, res2, ln2, ln2Mean, ln2Rstd, fch, fchAct, res3: UnsafeMutablePointer<Float>
    /// gelu'(fch), saved by the GELU forward for its backward (empty with ReLU).
    var fchGrad: UnsafeMutablePointer<Float>
}

public final class GPT {
    public let config: GPTConfig
    public let batchSize: Int, sequenceLength: Int
    public let parameterCount: Int
    public let parameters: UnsafeMutableBufferPointer<Float>
    public let gradients: UnsafeMutableBufferPointer<Float>
    public let tensors: [ParameterTensor]
    /// Whether `parameters` and `gradients` were allocated here (not passed in as `storage`).
    let ownsStorage: Bool
    /// What the backward recomputes instead of keeping (fixed at init: it sets the arena's size).
    public let recompute: Recompute
    /// (B, T, V): logits after forward(targets: nil); probabilities after a forward with targets
    /// when `keepsProbabilities` is set. Allocated apart from the arena and left untouched
    /// otherwise, so its pages become resident only when used.
    public let logits: UnsafeMutableBufferPointer<Float>
    /// When set, a forward with targets leaves the softmax probabilities (B, T, V) in `logits`.
    public var keepsProbabilities = false
    /// Whether `logits` holds the probabilities of the last forward (for `backward(windowWeights:)`).
    var keptProbabilities = false
    /// Per-position losses (B, T) of the last forward with targets.
    public let losses: UnsafeMutableBufferPointer<Float>
    /// The generator after drawing the initial weights; checkpoint its `state` to resume streams.
    public var rng: SplitMix64
    public var debugChecks = false
    /// Set by every forward when `debugChecks` is on: the first non-finite activation, or nil.
    public private(set) var nonFinite: NonFiniteActivation?
    /// When set (DP-SGD), `backwardHidden` gathers each example's squared gradient norm into it and
    /// leaves the parameter gradients to its book-keeping (see `backwardHidden`).
    public var perExampleNorms: PerExampleGradientNorms?
    /// Fine-tuning a subset (`task.trainable`): nil, `backwardHidden` reaches every tensor; K, only
    /// ln_f and the last K blocks, and it stops above them (0: none of the trunk). Frozen tensors
    /// keep zero gradients and add nothing to the per-example norms.
    public var trainedBlocks: Int?

    let layout: ParameterLayout
    let arena: UnsafeMutableBufferPointer<Float>
    let encoded, lnf, lnfMean, lnfRstd: UnsafeMutablePointer<Float>
    /// The head's logits, probabilities and their gradient for one chunk of positions.
    let headScratch: UnsafeMutablePointer<Float>
    /// The LM head runs over chunks of this many positions (fixed, so results do not depend on
    /// anything but the shapes). Each chunk packs all of wte again in its logits and input-gradient
    /// products, so taller chunks pay that less often: 512 rows ran the logits product 4-8% faster
    /// than 256 (`bench gemms`), for a chunk buffer of 512 x V floats (103 MB at GPT-2's vocabulary).
    public static let headChunk = 512
    let blocks: [BlockActivations]
    // Backward scratch, reused by every block: the residual-stream gradient, one (BT, C) buffer,
    // one (BT, 4C) buffer shared by dqkv and d(activation output), one (BT, 4C) for d(c_fc output)
    // (separate so the activation backward is not in place, which would defeat vectorisation),
    // the attention's per-thread tiles, and the LayerNorm backward's partial sums.
    let dresidual, dsmall, dbig, dhidden, attentionScratch, lnScratch: UnsafeMutablePointer<Float>
    let inputs, targets: UnsafeMutablePointer<Int32>
    /// (batch, time) of the last forward: the backward runs over the same rows.
    var lastBatch = 0, lastTime = 0
    /// The block whose activations the shared buffers hold: the last block after a forward, and
    /// whichever the backward recomputed last after it (so DP-SGD's kept weight steps, which run
    /// after the whole backward, and a second backward over the same forward find their block's).
    var sharedBlock = 0

    /// The final LayerNorm output (b, t, C) of the last forward, row-major from the start.
    public var hidden: UnsafePointer<Float> { UnsafePointer(lnf) }

    /// Floats in the flat parameter (and gradient) buffer of a model of this shape with `extraTensors`.
    public static func parameterCount(config: GPTConfig, extraTensors: [(name: String, shape: [Int])] = []) -> Int {
        ParameterLayout(config: config, extraTensors: extraTensors).count
    }

    /// `extraTensors` (a task head) are appended after ln_f and initialised like the trunk's
    /// tensors (matrices normal(0, 0.02), vectors 0), drawn after them so the trunk is unchanged.
    /// `storage` places the parameters and gradients in buffers of the caller's (each
    /// `parameterCount(config:extraTensors:)` floats, left to the caller to free), e.g. memory the
    /// data-parallel ranks of one host share; by default the model allocates its own.
    public init(config: GPTConfig, batchSize: Int, sequenceLength: Int, seed: UInt64,
                extraTensors: [(name: String, shape: [Int])] = [], recompute: Recompute = .none,
                storage: (parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeMutableBufferPointer<Float>)? = nil) {
        precondition(sequenceLength >= 1 && sequenceLength <= config.contextLength, "sequence length must be in "
                                                                                    + "1...contextLength")
        precondition(batchSize >= 1 && config.modelDim % config.heads == 0, "modelDim must be a multiple of heads")
        self.config = config
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
        self.recompute = recompute
        let layout = ParameterLayout(config: config, extraTensors: extraTensors)
        self.layout = layout
        tensors = layout.tensors
        parameterCount = layout.count
        precondition(storage.map { $0.parameters.count == layout.count && $0.gradients.count == layout.count } ?? true,
                     "storage must hold parameterCount floats for the parameters and for the gradients")
        ownsStorage = storage == nil
        parameters = storage?.parameters ?? .allocate(capacity: parameterCount)
        gradients = storage?.gradients ?? .allocate(capacity: parameterCount)
        gradients.initialize(repeating: 0)

        let B = batchSize, T = sequenceLength, C = config.modelDim, V = config.vocabSize
        let L = config.layers, NH = config.heads, BT = B * T
        let geluDerivative = config.activation == .gelu ? BT * 4 * C : 0
        let attention = BT * C * 2 + BT * 2 + BT * 3 * C + Attention.statsCount(batch: B, time: T, heads: NH)
        let mlp = BT * C * 2 + BT * 2 + BT * 4 * C
        let kept = BT * C + (recompute == .none ? attention + mlp : recompute == .attention ? mlp : 0)
        let shared = BT * 4 * C + geluDerivative
            + (recompute == .none ? 0 : recompute == .attention ? attention : attention + mlp)
        let headRows = min(BT, GPT.headChunk)
        let total = BT * C + BT * C + 2 * BT + headRows * V + BT + L * kept + shared + BT * C * 2 + BT * 4 * C * 2
            + Attention.scratchCount(time: T) + LayerNorm.scratchCount(rows: BT, channels: C)
        arena = .allocate(capacity: total)
        arena.initialize(repeating: 0)
        var cursor = arena.baseAddress!
        func take(_ n: Int) -> UnsafeMutablePointer<Float> { defer { cursor += n }; return cursor }
        encoded = take(BT * C)
        let sharedActivation = take(BT * 4 * C), sharedDerivative = take(geluDerivative)
        func attentionHalf(_ a: inout BlockActivations) {
            (a.ln1, a.ln1Mean, a.ln1Rstd, a.qkv) = (take(BT * C), take(BT), take(BT), take(BT * 3 * C))
            (a.atty, a.attStats) = (take(BT * C), take(Attention.statsCount(batch: B, time: T, heads: NH)))
        }
        func mlpHalf(_ a: inout BlockActivations) {
            (a.res2, a.ln2, a.ln2Mean, a.ln2Rstd) = (take(BT * C), take(BT * C), take(BT), take(BT))
            (a.fch, a.fchAct, a.fchGrad) = (take(BT * 4 * C), sharedActivation, sharedDerivative)
        }
        let unset = arena.baseAddress!
        var scratchBlock = BlockActivations(ln1: unset, ln1Mean: unset, ln1Rstd: unset, qkv: unset, atty: unset,
                                            attStats: unset, res2: unset, ln2: unset, ln2Mean: unset, ln2Rstd: unset,
                                            fch: unset, fchAct: unset, res3: unset, fchGrad: unset)
        if recompute != .none { attentionHalf(&scratchBlock) }
        if recompute == .blocks { mlpHalf(&scratchBlock) }
        blocks = (0..<L).map { _ in
            var a = scratchBlock
            if recompute == .none { attentionHalf(&a) }
            if recompute != .blocks { mlpHalf(&a) }
            a.res3 = take(BT * C)
            return a
        }
        lnf = take(BT * C)
        lnfMean = take(BT)
        lnfRstd = take(BT)
        logits = .allocate(capacity: BT * V)
        headScratch = take(headRows * V)
        losses = UnsafeMutableBufferPointer(start: take(BT), count: BT)
        dresidual = take(BT * C)
        dsmall = take(BT * C)
        dbig = take(BT * 4 * C)
        dhidden = take(BT * 4 * C)
        attentionScratch = take(Attention.scratchCount(time: T))
        lnScratch = take(LayerNorm.scratchCount(rows: BT, channels: C))
        precondition(cursor - arena.baseAddress! == total)
        inputs = .allocate(capacity: BT)
        inputs.initialize(repeating: 0, count: BT)
        targets = .allocate(capacity: BT)
        targets.initialize(repeating: 0, count: BT)

        rng = SplitMix64(seed: seed)
        initializeParameters()
    }

    deinit {
        if ownsStorage {
            parameters.deallocate()
            gradients.deallocate()
        }
        arena.deallocate()
        logits.deallocate()
        inputs.deallocate()
        targets.deallocate()
    }

    /// GPT-2 initialisation, drawn tensor by tensor in layout order from `rng`: matrices and
    /// embeddings normal(0, 0.02), the two residual projections (attn.c_proj, mlp.c_proj weights)
    /// scaled by 1/sqrt(2 * layers), biases 0, LayerNorm gains 1.
    func initializeParameters() {
        let p = parameters.baseAddress!
        let residualStd = 0.02 / Float(2 * config.layers).squareRoot()
        for t in tensors {
            if t.shape.count >= 2 {
                let isResidualProjection = t.name.hasSuffix("c_proj.weight")
                rng.fillNormal(p + t.offset, count: t.count, std: isResidualProjection ? residualStd : 0.02)
            } else {
                let isGain = t.name.hasSuffix("ln_1.weight") || t.name.hasSuffix("ln_2.weight") || t.name == "ln_f.weight"
                (p + t.offset).update(repeating: isGain ? 1 : 0, count: t.count)
            }
        }
    }

    /// The named parameter view, e.g. `tensor("h.0.attn.c_attn.weight")`.
    public func tensor(_ name: String) -> ParameterTensor? { tensors.first { $0.name == name } }

    public func zeroGradients() {
        gradients.update(repeating: 0)
    }

    /// inputs, targets: B*T token ids, row-major (B, T). Returns the mean loss, or .nan without targets.
    /// `batch` (default batchSize) rows: DP-SGD's Poisson micro-batches may be short.
    @discardableResult
    public func forward(inputs tokenInputs: UnsafePointer<Int32>, targets tokenTargets: UnsafePointer<Int32>?,
                        batch: Int? = nil) -> Float {
        let BT = (batch ?? batchSize) * sequenceLength, V = config.vocabSize
        runTrunk(inputs: tokenInputs, batch: batch ?? batchSize, time: sequenceLength)
        keptProbabilities = false
        guard let tokenTargets else {
            for rows in headChunks(BT) { headLogits(rows, into: logits.baseAddress! + rows.lowerBound * V) }
            return .nan
        }
        setTargets(tokenTargets, count: BT)
        for rows in headChunks(BT) { headProbabilities(rows) }
        keptProbabilities = keepsProbabilities
        return meanLoss(count: BT)
    }

    /// One training micro-batch: the forward with targets, then the gradient of
    /// (mean loss * lossScale) ADDED into `gradients`. Returns the mean loss. The head's backward
    /// runs chunk by chunk right after the chunk's forward, so no (B, T, V) buffer is needed.
    @discardableResult
    public func forwardBackward(inputs tokenInputs: UnsafePointer<Int32>, targets tokenTargets: UnsafePointer<Int32>,
                                lossScale: Float = 1) -> Float {
        let BT = batchSize * sequenceLength, C = config.modelDim, V = config.vocabSize
        runTrunk(inputs: tokenInputs, batch: batchSize, time: sequenceLength)
        keptProbabilities = false
        setTargets(tokenTargets, count: BT)
        let p = parameters.baseAddress!, g = gradients.baseAddress!
        for rows in headChunks(BT) {
            let dlogits = headScratch, n = rows.count, r0 = rows.lowerBound
            headLogits(rows, into: dlogits)
            SoftmaxCrossEntropy.forwardBackward(logitsToDlogits: dlogits, losses: losses.baseAddress! + r0,
                                                targets: targets + r0, scale: lossScale / Float(BT), rows: n, vocab: V)
            // dlnf = dlogits @ wte ; dwte += dlogits^T @ lnf: of equal FLOPs, side by side as a dense
            // layer's backward, each whole (cutting dlnf would pack dlogits or all of wte again per part).
            let input = GEMM(transA: false, transB: false, m: n, n: C, k: V, alpha: 1, a: dlogits, lda: V,
                             b: p + layout.wte, ldb: C, beta: 0, c: dsmall + r0 * C, ldc: C)
            let weights = GEMM(transA: true, transB: false, m: V, n: C, k: n, alpha: 1, a: dlogits, lda: V,
                               b: lnf + r0 * C, ldb: C, beta: 1, c: g + layout.wte, ldc: C)
            GEMM.runSideBySide(input, weights, parts: 1)
        }
        let loss = meanLoss(count: BT)
        backwardHidden(dsmall)
        return loss
    }

    private func setTargets(_ tokenTargets: UnsafePointer<Int32>, count: Int) {
        for i in 0..<count {
            precondition(tokenTargets[i] >= 0 && Int(tokenTargets[i]) < config.vocabSize, "target token out of range")
            targets[i] = tokenTargets[i]
        }
    }

    private func meanLoss(count: Int) -> Float {
        var sum: Float = 0
        for i in 0..<count { sum += losses[i] }
        return sum / Float(count)
    }

    /// The trunk alone over b <= batchSize rows of t <= sequenceLength tokens (positions 0..<t),
    /// leaving the final LayerNorm output in `hidden` (b, t, C). A following `backwardHidden`
    /// runs over the same rows.
    public func forwardHidden(inputs tokenInputs: UnsafePointer<Int32>, batch B: Int, time T: Int) {
        runTrunk(inputs: tokenInputs, batch: B, time: T)
        keptProbabilities = false
    }

    private func runTrunk(inputs tokenInputs: UnsafePointer<Int32>, batch B: Int, time T: Int) {
        precondition(B >= 1 && B <= batchSize && T >= 1 && T <= sequenceLength, "batch/time beyond the model's buffers")
        let C = config.modelDim, V = config.vocabSize, BT = B * T
        lastBatch = B
        lastTime = T
        for i in 0..<BT { inputs[i] = tokenInputs[i] }
        for i in 0..<BT { precondition(inputs[i] >= 0 && Int(inputs[i]) < V, "input token out of range") }
        let p = parameters.baseAddress!
        Encoder.forward(out: encoded, tokens: inputs, wte: p + layout.wte, wpe: p + layout.wpe, batch: B, time: T, channels: C)
        nonFinite = debugChecks ? findNonFinite(encoded, BT * C, nil, "embedding") : nil
        for l in blocks.indices {
            // Only the last block's activation stays in the shared buffers for the backward
            // (`sharedBlock`); the others' GELU derivative would be overwritten unread.
            forwardBlock(l, batch: B, time: T, through: .output, derivative: l == blocks.count - 1)
            // Checked block by block: with recompute the next block overwrites the shared buffers.
            if debugChecks && nonFinite == nil { nonFinite = findNonFinite(block: l, rows: BT) }
        }
        sharedBlock = blocks.count - 1
        LayerNorm.forward(out: lnf, mean: lnfMean, rstd: lnfRstd, inp: blockInput(blocks.count), weight: p + layout.lnfw,
                          bias: p + layout.lnfb, rows: BT, channels: C)
        if debugChecks && nonFinite == nil { nonFinite = findNonFinite(lnf, BT * C, nil, "ln_f") }
    }

    /// How far `forwardBlock` goes: the backward's recomputation stops short of what is kept.
    enum BlockStage: Int, Comparable {
        case attention, activation, output
        static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    }

    /// Block l's input: the embedding, or the previous block's output (always kept).
    func blockInput(_ l: Int) -> UnsafePointer<Float> { UnsafePointer(l == 0 ? encoded : blocks[l - 1].res3) }

    /// Block l's forward over (B, T) rows into its activation views, up to `stage`.
    /// `derivative: false` leaves GELU's derivative unformed (the backward recomputes it).
    private func forwardBlock(_ l: Int, batch B: Int, time T: Int, through stage: BlockStage, derivative: Bool = true) {
        let C = config.modelDim, NH = config.heads, BT = B * T
        let p = parameters.baseAddress!, a = blocks[l], w = layout.blocks[l], residual = blockInput(l)
        LayerNorm.forward(out: a.ln1, mean: a.ln1Mean, rstd: a.ln1Rstd, inp: residual, weight: p + w.ln1w,
                          bias: p + w.ln1b, rows: BT, channels: C)
        Matmul.forward(out: a.qkv, inp: a.ln1, weight: p + w.qkvw, bias: p + w.qkvb, rows: BT, inChannels: C, outChannels: 3 * C)
        Attention.forward(out: a.atty, stats: a.attStats, scratch: attentionScratch, qkv: a.qkv, batch: B, time: T,
                          channels: C, heads: NH)
        guard stage > .attention else { return }
        Matmul.forward(out: a.res2, inp: a.atty, weight: p + w.projw, bias: p + w.projb, residual: residual,
                       rows: BT, inChannels: C, outChannels: C)
        LayerNorm.forward(out: a.ln2, mean: a.ln2Mean, rstd: a.ln2Rstd, inp: a.res2, weight: p + w.ln2w,
                          bias: p + w.ln2b, rows: BT, channels: C)
        Matmul.forward(out: a.fch, inp: a.ln2, weight: p + w.fcw, bias: p + w.fcb, rows: BT, inChannels: C, outChannels: 4 * C)
        activationForward(a, rows: BT, derivative: derivative)
        guard stage > .activation else { return }
        Matmul.forward(out: a.res3, inp: a.fchAct, weight: p + w.fcprojw, bias: p + w.fcprojb, residual: a.res2,
                       rows: BT, inChannels: 4 * C, outChannels: C)
    }

    /// The head's chunks of positions: fixed by the row count alone.
    func headChunks(_ rows: Int) -> [Range<Int>] {
        stride(from: 0, to: rows, by: GPT.headChunk).map { $0..<min($0 + GPT.headChunk, rows) }
    }

    /// Tied LM head on positions `rows`: logits (rows, V) = lnf (rows, C) @ wte^T, into z.
    private func headLogits(_ rows: Range<Int>, into z: UnsafeMutablePointer<Float>) {
        let C = config.modelDim, V = config.vocabSize
        sgemm(transB: true, m: rows.count, n: V, k: C, a: lnf + rows.lowerBound * C, lda: C,
              b: parameters.baseAddress! + layout.wte, ldb: C, beta: 0, c: z, ldc: V)
        if debugChecks && nonFinite == nil, var bad = findNonFinite(z, rows.count * V, nil, "logits") {
            bad.index += rows.lowerBound * V
            nonFinite = bad
        }
    }

    /// The chunk's probabilities (fused softmax cross-entropy, filling its losses): in the chunk
    /// scratch, or in `logits` when `keepsProbabilities` is set.
    private func headProbabilities(_ rows: Range<Int>) {
        let V = config.vocabSize, r0 = rows.lowerBound
        let z = keepsProbabilities ? logits.baseAddress! + r0 * V : headScratch
        headLogits(rows, into: z)
        SoftmaxCrossEntropy.forward(logitsToProbs: z, losses: losses.baseAddress! + r0, targets: targets + r0,
                                    rows: rows.count, vocab: V)
    }

    /// Block l's activations into the shared buffers, recomputed from what the block keeps,
    /// unless they are there already (the last forward's last block, or the last one brought).
    private func bringToShared(_ l: Int) {
        guard sharedBlock != l else { return }
        sharedBlock = l
        let a = blocks[l], BT = lastBatch * lastTime
        switch recompute {
        case .none: activationForward(a, rows: BT)
        case .attention:
            forwardBlock(l, batch: lastBatch, time: lastTime, through: .attention)
            activationForward(a, rows: BT)
        case .blocks: forwardBlock(l, batch: lastBatch, time: lastTime, through: .activation)
        }
    }

    /// The MLP activation of c_fc's output (and, for the backward, GELU's derivative), into the
    /// shared buffers.
    private func activationForward(_ a: BlockActivations, rows BT: Int, derivative: Bool = true) {
        let count = BT * 4 * config.modelDim
        switch config.activation {
        case .gelu: GELU.forward(out: a.fchAct, derivative: derivative ? a.fchGrad : nil, inp: a.fch, count: count)
        case .relu: ReLU.forward(out: a.fchAct, inp: a.fch, count: count)
        }
    }

    /// Adds into `gradients` the trunk's part of the gradient, given d(loss)/d(hidden) (b, t, C)
    /// for the rows of the last forward. `dHidden` is read before any scratch is overwritten.
    /// With `perExampleNorms` set (DP-SGD), the backward propagates input gradients and gathers
    /// the per-example norms; the parameter gradients wait in the collector's book for the clip
    /// factors (`PerExampleGradientNorms.addClippedWeightGradients`).
    public func backwardHidden(_ dHidden: UnsafePointer<Float>) {
        let B = lastBatch, T = lastTime, C = config.modelDim, NH = config.heads, BT = B * T
        precondition(BT > 0, "backwardHidden needs a forward first")
        let p = parameters.baseAddress!, g = gradients.baseAddress!
        dresidual.update(repeating: 0, count: BT * C)
        let lastResidual = blockInput(blocks.count)
        let norms = perExampleNorms
        precondition(norms == nil || recompute == .none, "per-example clipping needs the forward's activations kept")
        norms?.reset(batch: B, time: T)
        if trainedBlocks == 0 { return }
        // A linear layer: d(input) now; its weight and bias gradients now (beside it) or, clipping, from the book.
        func linear(dinp: UnsafeMutablePointer<Float>, dweight: Int, dbias: Int, dout: UnsafeMutablePointer<Float>,
                    inp: UnsafePointer<Float>, weight: Int, inChannels: Int, outChannels: Int,
                    before: (() -> Void)? = nil) {
            guard let norms else {
                return Matmul.backward(dinp: dinp, dweight: g + dweight, dbias: g + dbias, dout: dout, inp: inp,
                                       weight: p + weight, rows: BT, inChannels: inChannels, outChannels: outChannels)
            }
            Matmul.backwardInput(dinp: dinp, dout: dout, weight: p + weight, rows: BT, inChannels: inChannels,
                                 outChannels: outChannels)
            norms.linear(input: inp, outputGradient: dout, inChannels: inChannels, outChannels: outChannels)
            weightGradient(dout, rowsPerExample: T, width: outChannels) { dout in
                before?()
                Matmul.backwardWeights(dweight: g + dweight, dbias: g + dbias, dout: dout, inp: inp, rows: BT,
                                       inChannels: inChannels, outChannels: outChannels)
            }
        }
        // A LayerNorm: adds d(input) into dresidual; its gain and shift gradients as a linear layer's.
        func layerNorm(dweight: Int, dbias: Int, dout: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
                       weight: Int, mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>) {
            guard let norms else {
                LayerNorm.backward(dinp: dresidual, dweight: g + dweight, dbias: g + dbias, scratch: lnScratch, dout: dout,
                                   inp: inp, weight: p + weight, mean: mean, rstd: rstd, rows: BT, channels: C)
                return
            }
            LayerNorm.backward(dinp: dresidual, dweight: nil, dbias: nil, scratch: lnScratch, dout: dout, inp: inp,
                               weight: p + weight, mean: mean, rstd: rstd, rows: BT, channels: C)
            norms.layerNorm(input: inp, mean: mean, rstd: rstd, outputGradient: dout, channels: C)
            let scratch = lnScratch
            weightGradient(dout, rowsPerExample: T, width: C) { dout in
                LayerNorm.backwardWeights(dweight: g + dweight, dbias: g + dbias, scratch: scratch, dout: dout, inp: inp,
                                          mean: mean, rstd: rstd, rows: BT, channels: C)
            }
        }
        layerNorm(dweight: layout.lnfw, dbias: layout.lnfb, dout: UnsafeMutablePointer(mutating: dHidden),
                  inp: lastResidual, weight: layout.lnfw, mean: lnfMean, rstd: lnfRstd)
        // Walking down the blocks, dresidual holds d(res3), then d(res2), then d(block input).
        let lowest = blocks.count - min(trainedBlocks ?? blocks.count, blocks.count)
        for l in stride(from: blocks.count - 1, through: lowest, by: -1) {
            let a = blocks[l], w = layout.blocks[l], residual = blockInput(l)
            bringToShared(l)
            // The shared activation may hold another block's when a kept step runs: it brings l's back.
            linear(dinp: dbig, dweight: w.fcprojw, dbias: w.fcprojb, dout: dresidual, inp: a.fchAct, weight: w.fcprojw,
                   inChannels: 4 * C, outChannels: C, before: { [self] in bringToShared(l) })
            switch config.activation {
            case .gelu: GELU.backward(dinp: dhidden, derivative: a.fchGrad, dout: dbig, count: BT * 4 * C)
            case .relu: ReLU.backward(dinp: dhidden, inp: a.fch, dout: dbig, count: BT * 4 * C)
            }
            linear(dinp: dsmall, dweight: w.fcw, dbias: w.fcb, dout: dhidden, inp: a.ln2, weight: w.fcw,
                   inChannels: C, outChannels: 4 * C)
            layerNorm(dweight: w.ln2w, dbias: w.ln2b, dout: dsmall, inp: a.res2, weight: w.ln2w, mean: a.ln2Mean,
                      rstd: a.ln2Rstd)
            linear(dinp: dsmall, dweight: w.projw, dbias: w.projb, dout: dresidual, inp: a.atty, weight: w.projw,
                   inChannels: C, outChannels: C)
            Attention.backward(dqkv: dbig, scratch: attentionScratch, dout: dsmall, qkv: a.qkv, stats: a.attStats,
                               batch: B, time: T, channels: C, heads: NH)
            linear(dinp: dsmall, dweight: w.qkvw, dbias: w.qkvb, dout: dbig, inp: a.ln1, weight: w.qkvw,
                   inChannels: C, outChannels: 3 * C)
            layerNorm(dweight: w.ln1w, dbias: w.ln1b, dout: dsmall, inp: residual, weight: w.ln1w, mean: a.ln1Mean,
                      rstd: a.ln1Rstd)
        }
        if trainedBlocks != nil { return }
        norms?.embeddings(tokens: inputs, outputGradient: dresidual, channels: C)
        let tokens = inputs, wte = layout.wte, wpe = layout.wpe
        weightGradient(dresidual, rowsPerExample: T, width: C, copy: false) { dout in
            Encoder.backward(dwte: g + wte, dwpe: g + wpe, dout: dout, tokens: tokens, batch: B, time: T, channels: C)
        }
    }

    /// A parameter gradient formed by `step` from an output gradient `dout` (the last forward's
    /// rows, `rowsPerExample` per example, `width` floats each): run at once, or with
    /// `perExampleNorms` set kept in its book until the clip factors are known (a copy of `dout`,
    /// or with `copy: false` `dout` itself, which the caller then leaves alone until
    /// `addClippedWeightGradients`).
    public func weightGradient(_ dout: UnsafeMutablePointer<Float>, rowsPerExample: Int, width: Int, copy: Bool = true,
                               _ step: @escaping (UnsafePointer<Float>) -> Void) {
        guard let norms = perExampleNorms else { return step(dout) }
        norms.keep(dout, rowsPerExample: rowsPerExample, width: width, copy: copy, step: step)
    }

    /// Scans block l's activations of a forward over `rows` positions in order; the first NaN/Inf.
    func findNonFinite(block l: Int, rows BT: Int) -> NonFiniteActivation? {
        let C = config.modelDim, a = blocks[l]
        let checks: [(UnsafeMutablePointer<Float>, Int, String)] = [
            (a.ln1, BT * C, "ln_1"), (a.qkv, BT * 3 * C, "attn.c_attn"), (a.atty, BT * C, "attn.output"),
            (a.res2, BT * C, "attn.c_proj+residual"), (a.ln2, BT * C, "ln_2"), (a.fch, BT * 4 * C, "mlp.c_fc"),
            (a.fchAct, BT * 4 * C, "mlp.activation"), (a.res3, BT * C, "mlp.c_proj+residual"),
        ]
        for (ptr, n, name) in checks { if let bad = findNonFinite(ptr, n, l, name) { return bad } }
        return nil
    }

    func findNonFinite(_ ptr: UnsafePointer<Float>, _ n: Int, _ layer: Int?, _ name: String) -> NonFiniteActivation? {
        for i in 0..<n where !ptr[i].isFinite { return NonFiniteActivation(layer: layer, activation: name, index: i) }
        return nil
    }
}
