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
    /// rows B*T, C -> 4C), timed between the model's steps: the machine's practical ceiling under
    /// the same conditions, as the mean over all those calls.
    public var sgemmGFLOPs: Double
    /// The fastest single one of those reference calls. On a shared machine one GEMM's speed
    /// varies from call to call (on a 2-vCPU Zen 3 VM the median call ran at 0.8 of the best), so
    /// this is a ceiling no sustained run reaches.
    public var sgemmBestGFLOPs: Double
    /// The median reference call: with the mean and the best, how much one GEMM's speed varies here.
    public var sgemmMedianGFLOPs: Double
    /// Model FLOP/s as a share of `sgemmGFLOPs` (the MFU against this machine's measured sgemm).
    public var fractionOfSGEMM: Double
    /// The same share with both sides timed in process CPU seconds instead of wall seconds: on a
    /// shared machine the time other processes held the cores then counts on neither side.
    public var fractionOfSGEMMCPU: Double
    /// Model FLOP/s as a share of `sgemmBestGFLOPs`.
    public var fractionOfBestSGEMM: Double
    /// The elementwise kernels' variant in use (see `Kernels`).
    public var kernels: KernelVariant
    /// `tokens_per_s=... ms_per_step=... cpu_ms_per_step=... mfu=... peak_rss_mb=... sgemm_gflops=...
    /// sgemm_best_gflops=... fraction_of_sgemm=... fraction_of_sgemm_cpu=... fraction_of_best_sgemm=... kernels=...`.
    public var scriptLine: String {
        String(format: "tokens_per_s=%.1f ms_per_step=%.2f cpu_ms_per_step=%.2f mfu=%.4f peak_rss_mb=%.1f sgemm_gflops=%.1f "
                       + "sgemm_best_gflops=%.1f fraction_of_sgemm=%.4f fraction_of_sgemm_cpu=%.4f "
                       + "fraction_of_best_sgemm=%.4f kernels=%@",
               tokensPerSecond, msPerStep, cpuMsPerStep, mfu, peakRSSMB, sgemmGFLOPs, sgemmBestGFLOPs, fractionOfSGEMM,
               fractionOfSGEMMCPU, fractionOfBestSGEMM, kernels.description)
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
            // As the trainer: the norm, then AdamW reading the gradients through the clip factor.
            let norm = gradientNorm(model.gradients)
            optimizer.update(model: model, learningRate: 1e-4, gradientScale: clipScale(norm: norm, maxNorm: 1) ?? 1)
        }
        let flopsPerToken = trainingFLOPsPerToken(config: config, sequenceLength: sequenceLength)
        var reference: SGEMMReference?
        defer { reference?.deallocate() }
        var peakRSS = 0.0
        func referenceAfterStep() -> SGEMMReference {
            if let reference { return reference }
            // Buffers are allocated once, so one step has reached the high-water mark: read it
            // before the sgemm reference allocates its own buffers.
            peakRSS = peakResidentSetMB()
            let created = SGEMMReference(config: config, rows: n)
            reference = created
            return created
        }
        for _ in 0..<warmupSteps {
            step()
            _ = referenceAfterStep()
        }
        var seconds = 0.0, cpuSeconds = 0.0
        for _ in 0..<steps {
            let start = monotonicSeconds(), cpuStart = processCPUSeconds()
            step()
            seconds += monotonicSeconds() - start
            cpuSeconds += processCPUSeconds() - cpuStart
            // The reference runs between the steps, about a tenth of a step's FLOPs each time, so
            // both sides of the ratio are averaged over the same stretch of a shared machine's noise.
            let sgemm = referenceAfterStep()
            sgemm.run(calls: max(1, Int((0.1 * flopsPerToken * Double(n) / sgemm.flops).rounded())))
        }
        let tokensPerSecond = Double(n * steps) / seconds
        let threads = BLASThreads.current
        let modelFLOPs = flopsPerToken * tokensPerSecond
        let modelFLOPsPerCPUSecond = flopsPerToken * Double(n * steps) / cpuSeconds
        return ModelBenchmarkResult(
            msPerStep: seconds * 1000 / Double(max(steps, 1)), cpuMsPerStep: cpuSeconds * 1000 / Double(max(steps, 1)),
            tokensPerSecond: tokensPerSecond,
            mfu: modelFLOPsUtilization(config: config, sequenceLength: sequenceLength, tokensPerSecond: tokensPerSecond, threads: threads),
            peakRSSMB: peakRSS, threads: threads, blasCore: BLASThreads.coreName,
            sgemmGFLOPs: reference?.meanGFLOPs ?? .nan, sgemmBestGFLOPs: reference?.bestGFLOPs ?? .nan,
            sgemmMedianGFLOPs: reference?.medianGFLOPs ?? .nan,
            fractionOfSGEMM: modelFLOPs / ((reference?.meanGFLOPs ?? .nan) * 1e9),
            fractionOfSGEMMCPU: modelFLOPsPerCPUSecond / ((reference?.meanGFLOPsPerCPUSecond ?? .nan) * 1e9),
            fractionOfBestSGEMM: modelFLOPs / ((reference?.bestGFLOPs ?? .nan) * 1e9), kernels: Kernels.active)
    }

    /// The model's own matmul path on (rows, C) x (C, OC), timed call by call: mean and best
    /// GFLOP/s per wall second, mean per process CPU second.
    final class SGEMMReference {
        let rows: Int, inChannels: Int, outChannels: Int
        let inp: UnsafeMutableBufferPointer<Float>, weight: UnsafeMutableBufferPointer<Float>
        let bias: UnsafeMutableBufferPointer<Float>, out: UnsafeMutableBufferPointer<Float>
        private var wallTimes: [Double] = [], cpuSeconds = 0.0

        var flops: Double { 2 * Double(rows * inChannels * outChannels) }
        var meanGFLOPs: Double { flops * Double(wallTimes.count) / wallTimes.reduce(0, +) / 1e9 }
        var meanGFLOPsPerCPUSecond: Double { flops * Double(wallTimes.count) / cpuSeconds / 1e9 }
        var bestGFLOPs: Double { flops / (wallTimes.min() ?? .nan) / 1e9 }
        var medianGFLOPs: Double { wallTimes.isEmpty ? .nan : flops / wallTimes.sorted()[wallTimes.count / 2] / 1e9 }

        /// The reference shape of a model over `rows` positions: its MLP up-projection, C -> 4C.
        convenience init(config: GPTConfig, rows: Int) {
            self.init(rows: rows, inChannels: config.modelDim, outChannels: 4 * config.modelDim)
        }

        init(rows: Int, inChannels: Int, outChannels: Int) {
            (self.rows, self.inChannels, self.outChannels) = (rows, inChannels, outChannels)
            inp = .allocate(capacity: rows * inChannels)
            weight = .allocate(capacity: inChannels * outChannels)
            bias = .allocate(capacity: outChannels)
            out = .allocate(capacity: rows * outChannels)
            var rng = SplitMix64(seed: 7)
            rng.fillNormal(inp.baseAddress!, count: inp.count, std: 1)
            rng.fillNormal(weight.baseAddress!, count: weight.count, std: 0.02)
            bias.initialize(repeating: 0)
            out.initialize(repeating: 0)
            product()  // untimed: the first call pays for page faults and cold caches
        }

        func deallocate() { [inp, weight, bias, out].forEach { $0.deallocate() } }

        func product() {
            Matmul.forward(out: out.baseAddress!, inp: inp.baseAddress!, weight: weight.baseAddress!, bias: bias.baseAddress!,
                           rows: rows, inChannels: inChannels, outChannels: outChannels)
        }

        func run(calls count: Int) {
            for _ in 0..<count {
                let start = monotonicSeconds(), cpuStart = processCPUSeconds()
                product()
                wallTimes.append(monotonicSeconds() - start)
                cpuSeconds += processCPUSeconds() - cpuStart
            }
        }
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
