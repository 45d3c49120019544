import LLMData
import LLMModel
import LLMTrain

/// DP-SGD for language-model training (`train`, `privacy-audit` with `privacy.enabled`). The
/// example is one training window (sequence_length + 1 tokens of the stream): each step is a
/// Poisson sample of windows (q = train.global_batch / windows), each window's loss is the mean
/// over its positions, and its gradient (with the tied wte / LM head's cross term, see
/// `PerExampleGradientNorms`) is clipped to `privacy.max_grad_norm`. The guarantee is per window:
/// text repeated in several windows (a post copied k times) is protected only as k examples are.
/// Micro-batches are padded to train.micro_batch with weight-0 windows, which add nothing.
public final class PrivateLanguageModel: PrivateLanguageModelStep {
    let dpsgd: DPSGD
    let plan: BatchPlan
    let rank: Int
    let inputs, targets: UnsafeMutableBufferPointer<Int32>
    /// The micro-batch's probabilities, kept for DP-SGD's second (clipped) backward.
    private var probabilities: [Float] = []

    public var noiseSeed: UInt64 {
        get { dpsgd.noiseSeed }
        set { dpsgd.noiseSeed = newValue }
    }

    public init(context: ObjectiveContext, windows: Int) throws {
        // The clipped second backward re-reads the whole (B, T, V) probabilities, which only
        // recompute none keeps (the other modes hold one chunk of positions at a time).
        guard context.config.train.recompute == .none else {
            throw TrainingError("privacy.enabled with train.recompute: \(context.config.train.recompute.rawValue): "
                                + "DP-SGD language-model training needs train.recompute: none")
        }
        dpsgd = try DPSGD(section: context.config.privacy, examples: windows,
                          globalBatch: context.config.train.globalBatch, steps: context.config.train.steps)
        plan = context.plan
        rank = context.rank
        let tokens = plan.microBatch * context.config.train.sequenceLength
        inputs = .allocate(capacity: tokens)
        targets = .allocate(capacity: tokens)
        inputs.initialize(repeating: 0)
        targets.initialize(repeating: 0)
    }

    deinit {
        inputs.deallocate()
        targets.deallocate()
    }

    public func addNoise(to gradients: UnsafeMutableBufferPointer<Float>, ranges: [Range<Int>], step: Int) {
        dpsgd.addNoise(to: gradients, ranges: ranges, step: step)
    }

    public func spent(afterSteps steps: Int) -> PrivacySpent { dpsgd.spent(afterSteps: steps) }

    /// Rank r runs the r-th contiguous slice of the step's Poisson sample (as `TaskObjective`).
    public func accumulateGradients(step: Int, model: GPT, windows: WindowSampler, debug: Bool) throws
        -> BatchStatistics {
        let B = plan.microBatch, T = model.sequenceLength
        let global = dpsgd.batch(step: step)
        let mine = Array(global[(rank * global.count / plan.worldSize)..<((rank + 1) * global.count / plan.worldSize)])
        // The trainer divides the sum over ranks by the world size.
        let scale = Double(plan.worldSize) / dpsgd.expectedBatch
        var loss = 0.0, padding = 0
        for (micro, start) in stride(from: 0, to: mine.count, by: B).enumerated() {
            let chunk = mine[start..<min(start + B, mine.count)]
            for b in 0..<B {
                // `fill`'s sample g < windowCount is window permutation[g]: a fixed bijection of the windows.
                let window = b < chunk.count ? chunk[start + b] : chunk[start]
                windows.fill(sample: window, inputs: inputs.baseAddress! + b * T, targets: targets.baseAddress! + b * T)
            }
            model.keepsProbabilities = true
            _ = model.forward(inputs: inputs.baseAddress!, targets: targets.baseAddress!)
            if debug, let bad = model.nonFinite {
                throw TrainingError("step \(step + 1), micro-batch \(micro): \(bad) (--debug check)")
            }
            for i in 0..<(chunk.count * T) { loss += Double(model.losses[i]) / Double(T) * scale }
            probabilities = Array(model.logits)
            let real = chunk.count
            padding += (B - real) * T
            probabilities.withUnsafeBufferPointer { probs in
                dpsgd.accumulateClipped(model: model, count: B, scale: scale) { multipliers in
                    model.backward(probabilities: probs.baseAddress!,
                                   windowWeights: (0..<B).map { $0 < real ? multipliers[$0] : 0 })
                    return [Double](repeating: 0, count: B)  // the tied head is in the trunk's norms
                }
            }
        }
        dpsgd.finishStep(model: model)
        return BatchStatistics(loss: loss, tokens: mine.count * T, paddingTokens: padding)
    }
}
