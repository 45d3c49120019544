import Foundation
import LLMComm
import LLMData
import LLMModel

/// DP-SGD's step for the language model (LLMPrivacy implements it): Poisson-sampled windows,
/// each window's gradient clipped, the noise and accountant of `GradientPrivacy`.
public protocol PrivateLanguageModelStep: GradientPrivacy {
    func accumulateGradients(step: Int, model: GPT, windows: WindowSampler, debug: Bool) throws -> BatchStatistics
}

/// Next-token prediction on fixed windows of the token stream, through the tied LM head: the
/// pre-training objective. Rank r takes the r-th contiguous slice of each global batch
/// (`BatchPlan.samples`).
final class LanguageModelObjective: TrainingObjective {
    let config: TrainConfig
    let plan: BatchPlan
    let rank: Int
    let data: TrainingData
    let batch: WindowBatch
    /// `privacy.enabled`: the step is DP-SGD's, not the fixed-window one below.
    let privateStep: PrivateLanguageModelStep?
    var privacy: GradientPrivacy? { privateStep }

    var headTensors: [(name: String, shape: [Int])] { [] }
    var task: TaskIdentity? { nil }
    var description: String { data.description }

    init(context: ObjectiveContext, data: TrainingData, privateStep: PrivateLanguageModelStep?) {
        config = context.config
        self.privateStep = privateStep
        plan = context.plan
        rank = context.rank
        self.data = data
        batch = WindowBatch(windows: plan.microBatch, length: config.train.sequenceLength)
    }

    func accumulateGradients(step: Int, model: GPT, debug: Bool) throws -> BatchStatistics {
        if let privateStep { return try privateStep.accumulateGradients(step: step, model: model, windows: data.train,
                                                                        debug: debug) }
        let T = config.train.sequenceLength
        var lossSum = 0.0
        for micro in 0..<plan.accumulationSteps {
            let samples = plan.samples(step: step, rank: rank, micro: micro)
            batch.fill(samples, from: data.train)
            let loss = model.forwardBackward(inputs: batch.inputs.baseAddress!, targets: batch.targets.baseAddress!,
                                             lossScale: 1 / Float(plan.accumulationSteps))
            if debug, let bad = model.nonFinite {
                throw TrainingError("step \(step + 1), micro-batch \(micro): \(bad) (--debug check)")
            }
            lossSum += Double(loss)
            if debug {
                FileHandle.standardError.write(Data("[debug] rank \(rank) step \(step + 1) micro \(micro): samples \(samples) loss \(loss)\n".utf8))
            }
        }
        return BatchStatistics(loss: lossSum / Double(plan.accumulationSteps), tokens: plan.sequencesPerRank * T,
                               paddingTokens: 0)
    }

    /// Mean validation loss over the first `eval.sequences` windows, split across ranks.
    func evaluate(model: GPT, comm: Communicator) throws -> Evaluation {
        let B = plan.microBatch, T = config.train.sequenceLength
        let count = min(config.eval.sequences, data.validation.windowCount)
        var sum = 0.0, positions = 0.0
        var mine = Array(stride(from: comm.rank, to: count, by: comm.worldSize))[...]
        while !mine.isEmpty {
            let windows = mine.prefix(B)
            mine = mine.dropFirst(B)
            batch.fill(windows, from: data.validation)  // only the real rows count
            _ = model.forward(inputs: batch.inputs.baseAddress!, targets: batch.targets.baseAddress!)
            for i in 0..<(windows.count * T) { sum += Double(model.losses[i]) }
            positions += Double(windows.count * T)
        }
        let totals = try comm.allReduce([sum, positions], .sum)
        let loss = totals[0] / max(totals[1], 1)
        return Evaluation(loss: loss, selectionLoss: loss,
                          numbers: ["val_loss": loss, "val_ppl": exp(loss), "val_sequences": Double(count)],
                          summary: "val loss \(format(loss, 4)) | val ppl \(format(exp(loss), 2)) | \(count) sequences")
    }
}
