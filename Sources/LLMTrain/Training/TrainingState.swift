import LLMModel

/// Everything besides weights and AdamW moments that a resumed run needs to continue exactly.
///
/// The data order is a pure function of (train.seed, global sample index), and step s reads
/// samples s*G ..< (s+1)*G (`BatchPlan.samples`), so `step` is the loader's whole position; there
/// is no other random state after initialisation (no dropout), and the model's PRNG state is kept
/// for completeness. Saved as `state.json` in a checkpoint.
public struct TrainingState: Codable, Equatable, Sendable {
    public static let formatVersion = 1

    public var formatVersion = TrainingState.formatVersion
    /// Optimiser steps completed (skipped non-finite steps included).
    public var step = 0
    public var tokensSeen = 0
    /// AdamW's own update count (it differs from `step` once a non-finite step was skipped).
    public var optimizerStep = 0
    public var consecutiveBadSteps = 0
    public var skippedSteps = 0
    public var modelRNGState: UInt64 = 0
    public var model: GPTConfig
    /// sha256 of the tokenizer.json the token ids come from: resuming with another is refused.
    public var tokenizerSHA256: String
    /// The fine-tuning task and its label set; nil for language modelling.
    public var task: TaskIdentity?
    /// The checkpoint whose trunk initialised this run (`task.init_from`), and its tokens seen.
    public var pretrainedFrom: String?
    public var pretrainingTokens: Int?
    /// The run's config as YAML, for the record (resume uses the config given on the command line).
    public var configYAML: String
    public var worldSize: Int
    public var lastTrainLoss: Double?
    public var lastValidationLoss: Double?
    public var bestValidationLoss: Double?
    public var elapsedSeconds = 0.0
    /// DP-SGD's epsilon so far, its settings and noise seed; nil without `privacy.enabled`.
    public var privacy: PrivacySpent?

    public init(model: GPTConfig, tokenizerSHA256: String, configYAML: String, worldSize: Int) {
        self.model = model
        self.tokenizerSHA256 = tokenizerSHA256
        self.configYAML = configYAML
        self.worldSize = worldSize
    }
}
