/// DP-SGD's part of a step that the trainer runs (LLMPrivacy implements it; the objective,
/// which clips each example's gradient, hands it over as `TrainingObjective.privacy`): the
/// Gaussian noise on the global batch's summed gradient, and the accountant's epsilon.
public protocol GradientPrivacy: AnyObject {
    /// Adds step `step`'s noise to `gradients` at `ranges`, after the sum over ranks was divided
    /// by the world size (so the noise is added once, by the rank that owns each element).
    func addNoise(to gradients: UnsafeMutableBufferPointer<Float>, ranges: [Range<Int>], step: Int)
    /// The guarantee after `steps` steps, for the progress line, metrics.jsonl and state.json.
    func spent(afterSteps steps: Int) -> PrivacySpent
    /// The noise stream's seed: every rank must hold the coordinator's, and a resumed run the saved one.
    var noiseSeed: UInt64 { get set }
}

/// What DP-SGD has spent so far and with which settings (state.json's `privacy`).
public struct PrivacySpent: Codable, Equatable, Sendable {
    /// nil: no finite guarantee (noise_multiplier 0, clipping only).
    public var epsilon: Double?
    public var delta: Double
    public var noiseMultiplier: Double
    public var sampleRate: Double
    public var maxGradNorm: Double
    public var noiseSeed: UInt64

    public init(epsilon: Double?, delta: Double, noiseMultiplier: Double, sampleRate: Double, maxGradNorm: Double,
                noiseSeed: UInt64) {
        self.epsilon = epsilon
        self.delta = delta
        self.noiseMultiplier = noiseMultiplier
        self.sampleRate = sampleRate
        self.maxGradNorm = maxGradNorm
        self.noiseSeed = noiseSeed
    }
}

extension TrainingObjective {
    /// Ordinary training: no noise, no accounting.
    public var privacy: GradientPrivacy? { nil }
}
