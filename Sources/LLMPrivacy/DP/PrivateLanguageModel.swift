import LLMData
import LLMModel
import LLMTrain

/// DP-SGD for language-model training (`train`, `privacy-audit` with `privacy.enabled`). The
/// example is one training window (sequence_length + 1 tokens of the stream): each step is a
/// Poisson sample of windows (q = train.global_batch / windows), each window's loss is the mean
/// over its positions, and its gradient (with the tied wte / LM head's cross term, see
/// `PerExampleGradientNorms`) is clipped to `privacy.max_grad_norm`. The guarantee is per window:
/// text repeated in several windows (a post copied k times) is protected only as k examples are.
/// A step's last micro-batch runs short (the model takes fewer rows), not padded.
public final class PrivateLanguageModel: PrivateLanguageModelStep {
    let dpsgd: DPSGD
    let plan: BatchPlan
    let rank: Int
    let batch: WindowBatch

    public var noiseSeed: UInt64 {
        get { dpsgd.noiseSeed }
        set { dpsgd.noiseSeed = newValue }
    }

    public init(context: ObjectiveContext, windows: Int) throws {
        try DPSGD.requireKeptActivations(context.config.train.recompute)
        dpsgd = try DPSGD(section: context.config.privacy, examples: windows,
                          globalBatch: context.config.train.globalBatch, steps: context.config.train.steps)
        plan = context.plan
        rank = context.rank
        batch = WindowBatch(windows: plan.microBatch, length: context.config.train.sequenceLength)
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
        var loss = 0.0
        for (micro, start) in stride(from: 0, to: mine.count, by: B).enumerated() {
            // `fill`'s sample g < windowCount is window permutation[g]: a fixed bijection of the windows.
            let chunk = mine[start..<min(start + B, mine.count)]
            batch.fill(chunk, from: windows)
            model.keepsProbabilities = true
            _ = model.forward(inputs: batch.inputs.baseAddress!, targets: batch.targets.baseAddress!, batch: chunk.count)
            if debug, let bad = model.nonFinite {
                throw TrainingError("step \(step + 1), micro-batch \(micro): \(bad) (--debug check)")
            }
            for i in 0..<(chunk.count * T) { loss += Double(model.losses[i]) / Double(T) * scale }
            dpsgd.accumulateClipped(model: model, scale: scale) { s in
                model.backward(windowWeights: [Float](repeating: s, count: chunk.count))
            }
        }
        return BatchStatistics(loss: loss, tokens: mine.count * T, paddingTokens: 0)
    }
}
