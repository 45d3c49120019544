import LLMModel
import LLMTrain

/// DP-SGD (Abadi et al. 2016) as the pieces an objective and the trainer plug in: Poisson
/// sampling of the examples, each example's gradient clipped to `maxGradNorm` (norms from
/// `PerExampleGradientNorms`, no backward per example), Gaussian noise of std
/// `noiseMultiplier x maxGradNorm` on the global batch's sum, everything divided by the
/// expected batch (as Opacus), and the RDP accountant's epsilon.
///
/// Clipping is two backward passes over a micro-batch: the first gathers the per-example norms
/// (its gradients are discarded), the second weights each example's loss by its clip factor
/// min(1, C / ||g_b||), which by linearity clips its gradient exactly. When no example of the
/// micro-batch is clipped, the first pass already is the answer and the second is skipped.
public final class DPSGD: GradientPrivacy {
    public let maxGradNorm, noiseMultiplier, sampleRate, delta: Double
    /// Poisson's expected batch, train.global_batch: what the clipped sum is divided by.
    public let expectedBatch: Double
    public let examples: Int
    public var noiseSeed: UInt64
    public let norms = PerExampleGradientNorms()
    private let rdpPerStep: [Double]
    private var clippedSum: [Float] = []

    /// `examples` training examples, `globalBatch` expected per step, `steps` steps planned
    /// (what `target_epsilon` budgets for).
    public init(section: TrainConfig.PrivacySection, examples: Int, globalBatch: Int, steps: Int) throws {
        guard examples > 0, globalBatch <= examples else {
            throw PrivacyError("privacy: train.global_batch (\(globalBatch)) is the expected Poisson batch and must "
                               + "not exceed the \(examples) training examples; lower train.global_batch")
        }
        maxGradNorm = section.maxGradNorm
        self.examples = examples
        expectedBatch = Double(globalBatch)
        sampleRate = Double(globalBatch) / Double(examples)
        delta = section.delta > 0 ? section.delta : 1 / Double(examples)
        noiseMultiplier = section.targetEpsilon > 0
            ? try RDPAccountant.noiseMultiplier(targetEpsilon: section.targetEpsilon, delta: delta,
                                                sampleRate: sampleRate, steps: max(steps, 1))
            : section.noiseMultiplier
        noiseSeed = section.noiseSeed != 0 ? UInt64(bitPattern: Int64(section.noiseSeed))
                                           : UInt64.random(in: 1...UInt64.max)
        rdpPerStep = RDPAccountant.rdp(sampleRate: sampleRate, noiseMultiplier: noiseMultiplier, steps: 1)
    }

    /// The examples of global batch `step`. Seeded by the noise seed, which is as secret as the
    /// noise: the accountant's amplification by sampling assumes an unpredictable sample.
    public func batch(step: Int) -> [Int] {
        PoissonSampler(count: examples, rate: sampleRate, seed: noiseSeed ^ 0x5851_F42D_4C95_7F2D).batch(step: step)
    }

    /// Adds one micro-batch's (`count` examples) clipped per-example gradients, times `scale`, to the step's sum;
    /// with `weights` (each in 0...1), example b's clipped gradient also times weights[b], after clipping,
    /// so the weights hold whether or not an example is clipped and no share exceeds maxGradNorm.
    /// `backward(multipliers)` must add into `model.gradients` the gradient of
    /// sum_b multipliers[b] * loss_b for the micro-batch's last forward, and return each
    /// example's squared gradient norm of the tensors the trunk backward does not see (the head).
    public func accumulateClipped(model: GPT, count: Int, scale: Double, weights: [Double]? = nil,
                                  backward: ([Float]) -> [Double]) {
        precondition(weights.map { $0.count == count && $0.allSatisfy { (0...1).contains($0) } } ?? true,
                     "one weight in 0...1 per example")
        if clippedSum.count != model.parameterCount { clippedSum = [Float](repeating: 0, count: model.parameterCount) }
        model.zeroGradients()
        model.perExampleNorms = norms
        let head = backward([Float](repeating: Float(scale), count: count))
        model.perExampleNorms = nil
        norms.add(head)
        // The norms are of scale x g_b; the clip factor is of g_b itself.
        let factors = norms.squaredNorms.enumerated().map { b, square in
            (weights?[b] ?? 1) * min(1, maxGradNorm * scale / square.squareRoot())
        }
        if factors.contains(where: { $0 < 1 }) {
            model.zeroGradients()
            _ = backward(factors.map { Float($0 * scale) })
        }
        let gradients = model.gradients
        clippedSum.withUnsafeMutableBufferPointer { sum in
            for i in 0..<sum.count { sum[i] += gradients[i] }
        }
    }

    /// Ends the step's accumulation: `model.gradients` becomes the clipped sum.
    public func finishStep(model: GPT) {
        if clippedSum.count != model.parameterCount { clippedSum = [Float](repeating: 0, count: model.parameterCount) }
        let gradients = model.gradients
        clippedSum.withUnsafeMutableBufferPointer { sum in
            for i in 0..<sum.count { gradients[i] = sum[i] }
            sum.update(repeating: 0)
        }
    }

    public func addNoise(to gradients: UnsafeMutableBufferPointer<Float>, ranges: [Range<Int>], step: Int) {
        guard noiseMultiplier > 0 else { return }
        GaussianNoise.add(to: gradients, ranges: ranges, std: noiseMultiplier * maxGradNorm / expectedBatch,
                          seed: noiseSeed, step: step)
    }

    public func spent(afterSteps steps: Int) -> PrivacySpent {
        let epsilon = steps == 0 ? 0
            : RDPAccountant.epsilon(rdp: rdpPerStep.map { $0 * Double(steps) }, delta: delta).epsilon
        return PrivacySpent(epsilon: epsilon.isFinite ? epsilon : nil, delta: delta, noiseMultiplier: noiseMultiplier,
                            sampleRate: sampleRate, maxGradNorm: maxGradNorm, noiseSeed: noiseSeed)
    }
}
