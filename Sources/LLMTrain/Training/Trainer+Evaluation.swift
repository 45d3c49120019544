import Foundation
import LLMModel

extension Trainer {
    /// Mean validation loss over the first `eval.sequences` windows, split across ranks.
    func evaluate() throws -> Double {
        let B = plan.microBatch, T = config.train.sequenceLength
        let count = min(config.eval.sequences, data.validation.windowCount)
        var sum = 0.0, positions = 0.0
        var mine = Array(stride(from: comm.rank, to: count, by: comm.worldSize))[...]
        while !mine.isEmpty {
            let batch = mine.prefix(B)
            mine = mine.dropFirst(B)
            for b in 0..<B {  // a short last batch repeats its first window; only real rows count
                let sample = b < batch.count ? batch[batch.startIndex + b] : batch[batch.startIndex]
                data.validation.fill(sample: sample, inputs: inputs.baseAddress! + b * T, targets: targets.baseAddress! + b * T)
            }
            _ = model.forward(inputs: inputs.baseAddress!, targets: targets.baseAddress!)
            for i in 0..<(batch.count * T) { sum += Double(model.losses[i]) }
            positions += Double(batch.count * T)
        }
        let totals = try comm.allReduce([sum, positions], .sum)
        let loss = totals[0] / max(totals[1], 1)
        state.lastValidationLoss = loss
        if loss < (state.bestValidationLoss ?? .infinity) { state.bestValidationLoss = loss }
        log.record(["step": Double(state.step), "val_loss": loss, "val_ppl": exp(loss),
                    "val_sequences": Double(count)], event: "eval")
        log.note("step \(state.step): val loss \(format(loss, 4)) | val ppl \(format(exp(loss), 2)) | \(count) sequences")
        return loss
    }

    /// Replicas must hold identical weights; a cheap checksum compared across ranks catches drift.
    func checkReplicasAgree() throws {
        var sum = 0.0, weighted = 0.0
        for i in 0..<model.parameterCount {
            let p = Double(model.parameters[i])
            sum += p
            weighted += p * Double(i % 1021 + 1)
        }
        let all = try comm.allGather([sum, weighted])
        for r in 1..<comm.worldSize where all[2 * r] != all[0] || all[2 * r + 1] != all[1] {
            comm.abort("replica drift at step \(state.step): rank \(r)'s parameter checksum (\(all[2 * r]), \(all[2 * r + 1])) differs from rank 0's (\(all[0]), \(all[1])); the ranks no longer train the same model (mixed library versions or thread counts?)")
        }
    }
}
