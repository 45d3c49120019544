import Foundation

/// Softmax + cross-entropy fused in place over the logits buffer, as in llm.c: the forward turns
/// each row of logits into probabilities and records the loss; the backward turns the
/// probabilities into dlogits. One (rows, V) buffer serves all three, so the largest activation
/// of small models is allocated once and touched three times.
public enum SoftmaxCrossEntropy {
    /// logits (rows, V) becomes probabilities; losses[r] = -log p[r, targets[r]].
    public static func forward(logitsToProbs: UnsafeMutablePointer<Float>, losses: UnsafeMutablePointer<Float>,
                               targets: UnsafePointer<Int32>, rows: Int, vocab: Int) {
        Parallel.chunks(rows, minChunk: 8) { range in
            for r in range {
                let row = logitsToProbs + r * vocab
                let maxv = vectorMax(row, vocab)
                let targetLogit = row[Int(targets[r])]
                let sum = expShiftedInPlace(row, vocab, shift: maxv)
                let inv = 1 / sum
                for j in 0..<vocab { row[j] *= inv }
                // log-sum-exp form: exact even when the target's probability underflows.
                losses[r] = Foundation.log(sum) + maxv - targetLogit
            }
        }
    }

    /// probs (rows, V) becomes dlogits = (probs - onehot(target)) * scale, where scale is
    /// lossScale / rows for the mean loss.
    public static func backward(probsToDlogits: UnsafeMutablePointer<Float>, targets: UnsafePointer<Int32>,
                                scale: Float, rows: Int, vocab: Int) {
        Parallel.chunks(rows, minChunk: 8) { range in
            for r in range {
                let row = probsToDlogits + r * vocab
                for j in 0..<vocab { row[j] *= scale }
                row[Int(targets[r])] -= scale
            }
        }
    }
}
