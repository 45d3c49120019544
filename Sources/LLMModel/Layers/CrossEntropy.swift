import Foundation

/// Softmax + cross-entropy fused in place over the logits buffer, as in llm.c: the forward turns
/// each row of logits into probabilities and records the loss; the backward turns the
/// probabilities into dlogits. One (rows, V) buffer serves all three, so the largest activation
/// of small models is allocated once and touched three times.
public enum SoftmaxCrossEntropy {
    /// logits (rows, V) becomes probabilities; losses[r] = -log p[r, targets[r]].
    public static func forward(logitsToProbs: UnsafeMutablePointer<Float>, losses: UnsafeMutablePointer<Float>,
                               targets: UnsafePointer<Int32>, rows: Int, vocab: Int) {
        for r in 0..<rows {
            let row = logitsToProbs + r * vocab
            var maxv = -Float.infinity
            for j in 0..<vocab { maxv = max(maxv, row[j]) }
            let target = Int(targets[r])
            let targetLogit = row[target]
            var sum: Float = 0
            for j in 0..<vocab {
                let e = Foundation.exp(row[j] - maxv)
                row[j] = e
                sum += e
            }
            let inv = 1 / sum
            for j in 0..<vocab { row[j] *= inv }
            // log-sum-exp form: exact even when the target's probability underflows.
            losses[r] = Foundation.log(sum) + maxv - targetLogit
        }
    }

    /// probs (rows, V) becomes dlogits = (probs - onehot(target)) * scale, where scale is
    /// lossScale / rows for the mean loss.
    public static func backward(probsToDlogits: UnsafeMutablePointer<Float>, targets: UnsafePointer<Int32>,
                                scale: Float, rows: Int, vocab: Int) {
        for r in 0..<rows {
            let row = probsToDlogits + r * vocab
            for j in 0..<vocab { row[j] *= scale }
            row[Int(targets[r])] -= scale
        }
    }
}
