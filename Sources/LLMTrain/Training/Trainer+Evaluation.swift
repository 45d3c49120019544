import Foundation
import LLMModel

extension Trainer {
    /// The objective's validation metrics, recorded as an `eval` event and printed.
    func evaluate() throws -> Evaluation {
        let result = try objective.evaluate(model: model, comm: comm)
        state.lastValidationLoss = result.loss
        if result.loss < (state.bestValidationLoss ?? .infinity) { state.bestValidationLoss = result.loss }
        log.record(result.numbers.merging(["step": Double(state.step)]) { $1 }, arrays: result.arrays, event: "eval")
        log.note("step \(state.step): \(result.summary)")
        return result
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
            comm.abort("replica drift at step \(state.step): rank \(r)'s parameter checksum (\(all[2 * r]), "
                       + "\(all[2 * r + 1])) differs from rank 0's (\(all[0]), \(all[1])); the ranks no longer train "
                       + "the same model (mixed library versions or thread counts?)")
        }
    }
}
