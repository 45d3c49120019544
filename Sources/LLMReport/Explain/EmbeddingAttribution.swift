import LLMModel

/// Integrated gradients over a post's input embeddings, for any function the model computes
/// from its tokens: against a baseline post of the same length (positions kept).
///
/// The model takes token ids, not embeddings; but its first layer is only
/// encoded[t] = wte[token_t] + wpe[t], and the position table is a parameter. So feeding the
/// baseline tokens with wpe'[t] = e[t] - wte[baseline_t] runs the model on any embeddings e,
/// and after a backward d(wpe') is exactly d(f)/d(encoded). wpe is restored afterwards. (The
/// tied output head reads wte, which is never touched.)
enum EmbeddingAttribution {
    /// `run` does one forward and backward of the model on `baseline` (the ids it is given) and
    /// returns f and the factor that turns d(wpe) into df/d(encoded) (the backward may be of a
    /// multiple of f, e.g. a mean loss). Gradients are zeroed before each call.
    /// Returns the attributions summed over each token's embedding, and the raw result.
    static func integratedGradients(model: GPT, tokens: [Int32], baseline: [Int32], steps: Int,
                                    run: ([Int32]) -> (value: Double, gradientScale: Double))
        -> (perToken: [Double], result: IntegratedGradients) {
        let T = tokens.count, C = model.config.modelDim
        precondition(baseline.count == T && T <= model.config.contextLength, "one baseline token per input token, "
                                                                             + "within the context")
        let wte = model.tensor("wte.weight")!.offset, wpe = model.tensor("wpe.weight")!.offset
        let p = model.parameters, savedPositions = Array(p[wpe..<wpe + T * C])
        defer { for i in 0..<T * C { p[wpe + i] = savedPositions[i] } }
        func embedding(_ token: Int32, _ t: Int, _ c: Int) -> Double {
            Double(p[wte + Int(token) * C + c]) + Double(savedPositions[t * C + c])
        }
        let x = (0..<T * C).map { embedding(tokens[$0 / C], $0 / C, $0 % C) }
        let b = (0..<T * C).map { embedding(baseline[$0 / C], $0 / C, $0 % C) }
        let result = IntegratedGradients(input: x, baseline: b, steps: steps) { e in
            for i in 0..<T * C { p[wpe + i] = Float(e[i] - Double(p[wte + Int(baseline[i / C]) * C + i % C])) }
            model.zeroGradients()
            let (value, scale) = run(baseline)
            let g = model.gradients
            return (value, (0..<T * C).map { scale * Double(g[wpe + $0]) })
        }
        return (result.grouped(C), result)
    }
}

/// Integrated gradients of a language model's log-probability of a post over its input
/// embeddings, against a baseline of `baselineToken` at every position.
public enum LanguageModelAttribution {
    /// f = sum over positions of log p(next token): tokens[1...] and then `target`.
    /// Returns the per-token attributions (summed over each embedding) and the raw result.
    public static func logProbability(model: GPT, tokens: [Int32], target: Int32, baselineToken: Int32,
                                      steps: Int) -> (perToken: [Double], result: IntegratedGradients) {
        let T = tokens.count
        precondition(model.batchSize == 1 && model.sequenceLength == T, "the model must be built for 1 x \(T) tokens")
        let targets = Array(tokens.dropFirst()) + [target]
        let baseline = [Int32](repeating: baselineToken, count: T)
        return EmbeddingAttribution.integratedGradients(model: model, tokens: tokens, baseline: baseline, steps: steps) { inputs in
            let meanLoss = inputs.withUnsafeBufferPointer { i in
                targets.withUnsafeBufferPointer { model.forwardBackward(inputs: i.baseAddress!, targets: $0.baseAddress!) }
            }
            // f = -T * mean loss, so df/de = -T * d(mean loss)/d(encoded) = -T * d(wpe').
            return (-Double(T) * Double(meanLoss), -Double(T))
        }
    }
}
