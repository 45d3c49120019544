import LLMModel

/// Integrated gradients of a language model's log-probability of a post over its input
/// embeddings, against a baseline of `baselineToken` at every position (positions kept).
///
/// The model takes token ids, not embeddings; but its first layer is only
/// encoded[t] = wte[token_t] + wpe[t], and the position table is a parameter. So feeding the
/// baseline token everywhere with wpe'[t] = e[t] - wte[baseline] runs the model on any
/// embeddings e, and after a backward d(wpe') is exactly d(loss)/d(encoded). wpe is restored
/// afterwards. (The tied output head reads wte, which is never touched.)
public enum LanguageModelAttribution {
    /// f = sum over positions of log p(next token): tokens[1...] and then `target`.
    /// Returns the per-token attributions (summed over each embedding) and the raw result.
    public static func logProbability(model: GPT, tokens: [Int32], target: Int32, baselineToken: Int32,
                                      steps: Int) -> (perToken: [Double], result: IntegratedGradients) {
        let T = tokens.count, C = model.config.modelDim
        precondition(model.batchSize == 1 && model.sequenceLength == T, "the model must be built for 1 x \(T) tokens")
        let wte = model.tensor("wte.weight")!.offset, wpe = model.tensor("wpe.weight")!.offset
        let p = model.parameters, savedPositions = Array(p[wpe..<wpe + T * C])
        defer { for i in 0..<T * C { p[wpe + i] = savedPositions[i] } }
        func embedding(_ token: Int32, _ t: Int, _ c: Int) -> Double {
            Double(p[wte + Int(token) * C + c]) + Double(savedPositions[t * C + c])
        }
        let x = (0..<T * C).map { embedding(tokens[$0 / C], $0 / C, $0 % C) }
        let b = (0..<T * C).map { embedding(baselineToken, $0 / C, $0 % C) }
        let inputs = [Int32](repeating: baselineToken, count: T), targets = Array(tokens.dropFirst()) + [target]

        let result = IntegratedGradients(input: x, baseline: b, steps: steps) { e in
            for i in 0..<T * C { p[wpe + i] = Float(e[i] - Double(p[wte + Int(baselineToken) * C + i % C])) }
            model.zeroGradients()
            let meanLoss = inputs.withUnsafeBufferPointer { i in
                targets.withUnsafeBufferPointer { model.forward(inputs: i.baseAddress!, targets: $0.baseAddress!) }
            }
            model.backward()
            // f = -T * mean loss, so df/de = -T * d(mean loss)/d(encoded) = -T * d(wpe').
            let g = model.gradients
            return (-Double(T) * Double(meanLoss), (0..<T * C).map { -Double(T) * Double(g[wpe + $0]) })
        }
        return (result.grouped(C), result)
    }
}
