/// Training FLOPs per token, the nanoGPT/PaLM estimate:
///   6 * N + 12 * layers * modelDim * T
/// N counts every parameter except the position embedding wpe (a lookup, no multiply); the
/// token embedding stays in because the tied LM head multiplies by it. 6 = 2 (multiply-add)
/// x 3 (forward, and the backward's two products). 12 * L * C * T is attention's q k^T and
/// att v (2 * 2 * T * C per token and layer forward, x 3 with backward), counted without the causal half.
public func trainingFLOPsPerToken(config: GPTConfig, sequenceLength T: Int) -> Double {
    let layout = ParameterLayout(config: config)
    let n = layout.count - config.contextLength * config.modelDim
    return 6 * Double(n) + 12 * Double(config.layers * config.modelDim * T)
}

/// The practical fp32 peak of one core here (OpenBLAS sgemm, docs/PLATFORM.md).
public let peakFLOPsPerThread: Double = 100e9

/// Model FLOPs utilisation: achieved training FLOP/s over threads * 100 GFLOP/s.
public func modelFLOPsUtilization(config: GPTConfig, sequenceLength: Int, tokensPerSecond: Double, threads: Int) -> Double {
    tokensPerSecond * trainingFLOPsPerToken(config: config, sequenceLength: sequenceLength) / (Double(threads) * peakFLOPsPerThread)
}
