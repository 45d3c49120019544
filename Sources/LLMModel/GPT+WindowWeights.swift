/// The language-model backward with one loss weight per window, for DP-SGD on `train`: the
/// example is a window, and its clip factor weights its loss (`DPSGD.accumulateClipped` runs this
/// twice over one forward, so the probabilities come from the caller's copy, not `logits`).
extension GPT {
    /// Adds the gradient of sum_b windowWeights[b] * (mean over t of loss_{b,t}) for the last
    /// forward with targets, whose probabilities (batchSize, sequenceLength, V) `probabilities`
    /// holds. With `perExampleNorms` set, the norms include the tied head's part of wte.
    public func backward(probabilities: UnsafePointer<Float>, windowWeights: [Float]) {
        let B = batchSize, T = sequenceLength, C = config.modelDim, V = config.vocabSize
        precondition(windowWeights.count == B, "one weight per window of the micro-batch")
        let p = parameters.baseAddress!, g = gradients.baseAddress!, dlogits = logits.baseAddress!
        for b in 0..<B {
            let scale = windowWeights[b] / Float(T)
            for t in 0..<T {
                let row = (b * T + t) * V
                for v in 0..<V { dlogits[row + v] = probabilities[row + v] * scale }
                dlogits[row + Int(targets[b * T + t])] -= scale
            }
        }
        // As `backward`: dlnf = dlogits @ wte ; dwte += dlogits^T @ lnf
        sgemm(m: B * T, n: C, k: V, a: dlogits, lda: V, b: p + layout.wte, ldb: C, beta: 0, c: dsmall, ldc: C)
        sgemm(transA: true, m: V, n: C, k: B * T, a: dlogits, lda: V, b: lnf, ldb: C, beta: 1, c: g + layout.wte,
              ldc: C)
        perExampleNorms?.tiedHead = (UnsafePointer(dlogits), UnsafePointer(lnf), V)
        backwardHidden(dsmall)
        perExampleNorms?.tiedHead = nil
    }
}
