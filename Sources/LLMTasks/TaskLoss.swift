import Foundation

/// Per-post losses on the head's outputs and their gradients, in Double for the sums.
enum TaskLoss {
    /// Softmax cross-entropy of row i against `labels[i]`: returns each row's loss and writes
    /// dlogits[i] = (softmax - onehot) * scales[i] (the gradient of sum_i scales[i] * loss_i).
    static func crossEntropy(logits: UnsafePointer<Float>, labels: [Int], classes K: Int, scales: [Double],
                             dlogits: UnsafeMutablePointer<Float>?) -> [Double] {
        labels.indices.map { i in
            let z = logits + i * K
            let probabilities = softmax(z, K)
            if let dlogits {
                for k in 0..<K { dlogits[i * K + k] = Float((probabilities[k] - (k == labels[i] ? 1 : 0)) * scales[i]) }
            }
            let top = (0..<K).map { Double(z[$0]) }.max()!
            let logSum = log((0..<K).reduce(0.0) { $0 + exp(Double(z[$1]) - top) }) + top
            return logSum - Double(z[labels[i]])
        }
    }

    /// Squared error of output i against `targets[i]`, with dlogits[i] = 2 (y_hat - y) * scales[i].
    static func squaredError(outputs: UnsafePointer<Float>, targets: [Double], scales: [Double],
                             dlogits: UnsafeMutablePointer<Float>?) -> [Double] {
        targets.indices.map { i in
            let error = Double(outputs[i]) - targets[i]
            dlogits?[i] = Float(2 * error * scales[i])
            return error * error
        }
    }

    static func softmax(_ z: UnsafePointer<Float>, _ K: Int) -> [Double] {
        let top = (0..<K).map { Double(z[$0]) }.max()!
        let e = (0..<K).map { exp(Double(z[$0]) - top) }
        let sum = e.reduce(0, +)
        return e.map { $0 / sum }
    }
}
