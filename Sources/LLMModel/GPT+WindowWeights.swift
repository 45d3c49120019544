/// The language-model backward with one loss weight per window, for DP-SGD on `train`: the
/// example is a window. With `perExampleNorms` set, the norms include the tied head's part of
/// wte, and every parameter gradient, the head's too, waits in the collector's book for the
/// windows' clip factors.
extension GPT {
    /// Adds the gradient of sum_b windowWeights[b] * (mean over t of loss_{b,t}) for the last
    /// forward with targets, run with `keepsProbabilities` so that its probabilities stay in
    /// `logits`; they become the logit gradients, so one backward per forward.
    public func backward(windowWeights: [Float]) {
        let B = lastBatch, T = sequenceLength, C = config.modelDim, V = config.vocabSize
        precondition(windowWeights.count == B, "one weight per window of the last forward")
        precondition(keptProbabilities, "a window-weighted backward needs a forward with targets and keepsProbabilities")
        keptProbabilities = false
        let p = parameters.baseAddress!, g = gradients.baseAddress!, dlogits = logits.baseAddress!
        for b in 0..<B {
            let scale = windowWeights[b] / Float(T)
            for t in 0..<T {
                let row = (b * T + t) * V
                for v in 0..<V { dlogits[row + v] *= scale }
                dlogits[row + Int(targets[b * T + t])] -= scale
            }
        }
        // As `forwardBackward`: dlnf = dlogits @ wte ; dwte += dlogits^T @ lnf
        sgemm(m: B * T, n: C, k: V, a: dlogits, lda: V, b: p + layout.wte, ldb: C, beta: 0, c: dsmall, ldc: C)
        perExampleNorms?.tiedHead = (UnsafePointer(dlogits), UnsafePointer(lnf), V)
        backwardHidden(dsmall)
        perExampleNorms?.tiedHead = nil
        // After the trunk (which starts the book): the logit gradients stay in `logits` until the
        // clipped weight gradients are formed.
        let hidden = lnf, wte = layout.wte
        weightGradient(dlogits, rowsPerExample: T, width: V, copy: false) { dlogits in
            sgemm(transA: true, m: V, n: C, k: B * T, a: dlogits, lda: V, b: hidden, ldb: C, beta: 1, c: g + wte, ldc: C)
        }
    }
}
