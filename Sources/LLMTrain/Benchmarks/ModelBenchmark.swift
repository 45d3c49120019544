import Foundation
import LLMModel
import LLMSupport

public struct ModelBenchmarkResult: Sendable {
    public var msPerStep: Double
    /// Process CPU milliseconds per step (all threads): what the step costs when nothing else
    /// holds the cores.
    public var cpuMsPerStep: Double
    public var tokensPerSecond: Double
    public var mfu: Double
    public var peakRSSMB: Double
    public var threads: Int
    /// OpenBLAS's kernel family (see `BLASThreads.coreName`); "Prescott" means a slow fallback.
    public var blasCore: String
    /// What the same threads reach on one of the model's own GEMM shapes (MLP up-projection,
    /// rows B*T, C -> 4C), measured in the same run: the machine's practical ceiling.
    public var sgemmGFLOPs: Double
    /// Model FLOP/s as a share of `sgemmGFLOPs` (the MFU against this machine's measured sgemm).
    public var fractionOfSGEMM: Double
    /// The same share with both sides timed in process CPU seconds instead of wall seconds: on a
    /// shared machine the time other processes held the cores then counts on neither side.
    public var fractionOfSGEMMCPU: Double
    /// The elementwise kernels' variant in use (see `Kernels`).
    public var kernels: KernelVariant
    /// `tokens_per_s=... ms_per_step=... cpu_ms_per_step=... mfu=... peak_rss_mb=... sgemm_gflops=... fraction_of_sgemm=...
    /// fraction_of_sgemm_cpu=... kernels=...`.
    public var scriptLine: String {
        String(format: "tokens_per_s=%.1f ms_per_step=%.2f cpu_ms_per_step=%.2f mfu=%.4f peak_rss_mb=%.1f sgemm_gflops=%.1f "
                       + "fraction_of_sgemm=%.4f fraction_of_sgemm_cpu=%.4f kernels=%@",
               tokensPerSecond, msPerStep, cpuMsPerStep, mfu, peakRSSMB, sgemmGFLOPs, fractionOfSGEMM, fractionOfSGEMMCPU,
               kernels.description)
    }
}

/// Times full training steps (zero grads, forward, backward, clip, AdamW) on random tokens.
public enum ModelBenchmark {
    public static func run(config: GPTConfig, batchSize: Int, sequenceLength: Int, warmupSteps: Int = 2,
                           steps: Int = 10, seed: UInt64 = 1337, recompute: Recompute = .none) -> ModelBenchmarkResult {
        let model = GPT(config: config, batchSize: batchSize, sequenceLength: sequenceLength, seed: seed,
                        recompute: recompute)
        let optimizer = AdamW(parameterCount: model.parameterCount)
        let n = batchSize * sequenceLength
        var rng = SplitMix64(seed: seed ^ 0x5EED)
        let tokens = UnsafeMutablePointer<Int32>.allocate(capacity: n + 1)
        defer { tokens.deallocate() }
        for i in 0...n { tokens[i] = Int32(rng.next() % UInt64(config.vocabSize)) }
        func step() {
            model.zeroGradients()
            model.forwardBackward(inputs: tokens, targets: tokens + 1)
            clipGradients(model.gradients, maxNorm: 1)
            optimizer.update(model: model, learningRate: 1e-4)
        }
        for _ in 0..<warmupSteps { step() }
        let start = monotonicSeconds(), cpuStart = processCPUSeconds()
        for _ in 0..<steps { step() }
        let seconds = monotonicSeconds() - start, cpuSeconds = processCPUSeconds() - cpuStart
        let tokensPerSecond = Double(n * steps) / seconds
        let threads = BLASThreads.current
        let peakRSS = peakResidentSetMB()  // before the sgemm reference allocates its own buffers
        let sgemm = sgemmGFLOPs(rows: n, inChannels: config.modelDim, outChannels: 4 * config.modelDim)
        let flopsPerToken = trainingFLOPsPerToken(config: config, sequenceLength: sequenceLength)
        let modelFLOPs = flopsPerToken * tokensPerSecond
        let modelFLOPsPerCPUSecond = flopsPerToken * Double(n * steps) / cpuSeconds
        return ModelBenchmarkResult(
            msPerStep: seconds * 1000 / Double(max(steps, 1)), cpuMsPerStep: cpuSeconds * 1000 / Double(max(steps, 1)),
            tokensPerSecond: tokensPerSecond,
            mfu: modelFLOPsUtilization(config: config, sequenceLength: sequenceLength, tokensPerSecond: tokensPerSecond, threads: threads),
            peakRSSMB: peakRSS, threads: threads, blasCore: BLASThreads.coreName,
            sgemmGFLOPs: sgemm.wall, fractionOfSGEMM: modelFLOPs / (sgemm.wall * 1e9),
            fractionOfSGEMMCPU: modelFLOPsPerCPUSecond / (sgemm.perCPUSecond * 1e9), kernels: Kernels.active)
    }

    /// GFLOP/s of the model's own matmul path on (rows, C) x (C, OC), best of several runs, per
    /// wall second and per process CPU second.
    static func sgemmGFLOPs(rows: Int, inChannels: Int, outChannels: Int) -> (wall: Double, perCPUSecond: Double) {
        let inp = UnsafeMutableBufferPointer<Float>.allocate(capacity: rows * inChannels)
        let weight = UnsafeMutableBufferPointer<Float>.allocate(capacity: inChannels * outChannels)
        let bias = UnsafeMutableBufferPointer<Float>.allocate(capacity: outChannels)
        let out = UnsafeMutableBufferPointer<Float>.allocate(capacity: rows * outChannels)
        defer { [inp, weight, bias, out].forEach { $0.deallocate() } }
        var rng = SplitMix64(seed: 7)
        rng.fillNormal(inp.baseAddress!, count: inp.count, std: 1)
        rng.fillNormal(weight.baseAddress!, count: weight.count, std: 0.02)
        bias.initialize(repeating: 0)
        out.initialize(repeating: 0)
        var best = Double.infinity, bestCPU = Double.infinity
        for _ in 0..<8 {
            let start = monotonicSeconds(), cpuStart = processCPUSeconds()
            Matmul.forward(out: out.baseAddress!, inp: inp.baseAddress!, weight: weight.baseAddress!, bias: bias.baseAddress!,
                           rows: rows, inChannels: inChannels, outChannels: outChannels)
            best = min(best, monotonicSeconds() - start)
            bestCPU = min(bestCPU, processCPUSeconds() - cpuStart)
        }
        let flops = 2 * Double(rows * inChannels * outChannels)
        return (flops / best / 1e9, flops / bestCPU / 1e9)
    }

    /// VmHWM from /proc/self/status in MB (0 where /proc is unavailable).
    public static func peakResidentSetMB() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kb = line.split(separator: " ").dropFirst().first.flatMap { Double($0) } ?? 0
            return kb / 1024
        }
        return 0
    }
}
