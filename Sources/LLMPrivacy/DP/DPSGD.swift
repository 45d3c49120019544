import LLMModel
import LLMTrain

/// DP-SGD (Abadi et al. 2016) as the pieces an objective and the trainer plug in: Poisson
/// sampling of the examples, each example's gradient clipped to `maxGradNorm` (norms from
/// `PerExampleGradientNorms`, no backward per example), Gaussian noise of std
/// `noiseMultiplier x maxGradNorm` on the global batch's sum, everything divided by the
/// expected batch (as Opacus), and the RDP accountant's epsilon.
///
/// Clipping takes one backward over a micro-batch ("book-keeping", `PerExampleGradientNorms`): it
/// propagates the input gradients and gathers the per-example norms, then the parameter
/// gradients are formed once with each example's output gradients scaled by its clip factor
/// min(1, C / ||g_b||), which by linearity clips its gradient exactly. It needs the forward's
/// activations kept (`train.recompute: none`, `requireKeptActivations`).
public final class DPSGD: GradientPrivacy {
    public let maxGradNorm, noiseMultiplier, sampleRate, delta: Double
    /// Poisson's expected batch, train.global_batch: what the clipped sum is divided by.
    public let expectedBatch: Double
    public let examples: Int
    public var noiseSeed: UInt64
    public let norms = PerExampleGradientNorms()
    private let rdpPerStep: [Double]

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

    /// Book-keeping forms the parameter gradients from the forward's activations after the
    /// backward, so they must all be kept: `privacy.enabled` takes `train.recompute: none`.
    public static func requireKeptActivations(_ recompute: Recompute) throws {
        guard recompute == .none else {
            throw TrainingError("privacy.enabled with train.recompute: \(recompute.rawValue): DP-SGD's per-example "
                                + "clipping forms the gradients from the forward's activations after the backward; "
                                + "set train.recompute: none")
        }
    }

    /// Adds one micro-batch's clipped per-example gradients, times `scale`, into `model.gradients`;
    /// with `weights` (each in 0...1), example b's clipped gradient also times weights[b], after
    /// clipping, so the weights hold whether or not an example is clipped and no share exceeds
    /// maxGradNorm. `backward(s)` must run the backward of sum_b s * loss_b for the micro-batch's last forward
    /// (with `model.perExampleNorms` set, which this does: it propagates and gathers each example's
    /// norm, the task head's included; the parameter gradients wait in the book).
    public func accumulateClipped(model: GPT, scale: Double, weights: [Double]? = nil, backward: (Float) -> Void) {
        model.perExampleNorms = norms
        defer { model.perExampleNorms = nil }
        backward(Float(scale))
        // The norms are of scale x g_b; the clip factor is of g_b itself.
        precondition(weights.map { $0.count == norms.squaredNorms.count && $0.allSatisfy { (0...1).contains($0) } } ?? true,
                     "one weight in 0...1 per example")
        let factors = norms.squaredNorms.enumerated().map { b, square in
            Float((weights?[b] ?? 1) * min(1, maxGradNorm * scale / square.squareRoot()))
        }
        norms.addClippedWeightGradients(factors: factors)
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
