import Foundation
import LLMComm
import LLMModel

/// What a training step optimises, so language modelling and task fine-tuning share one loop
/// (`Trainer`): the objective fills micro-batches, runs forward and backward, and evaluates.
/// The trainer owns everything else (gradient sync, clipping, AdamW, schedule, checkpoints, logs).
public protocol TrainingObjective: AnyObject {
    /// A task head's tensors, appended to the model's flat parameter buffer (none for LM).
    var headTensors: [(name: String, shape: [Int])] { get }
    /// Saved in state.json; a checkpoint of another task or label set is refused.
    var task: TaskIdentity? { get }
    /// One line for the start-up log: the data and what a step sees.
    var description: String { get }

    /// Forward and backward over this rank's share of global batch `step`. Adds into
    /// `model.gradients` the gradient of the returned `loss`, scaled so that the mean over ranks
    /// of `loss` (and of the gradients, which the trainer averages) is the global batch's loss.
    func accumulateGradients(step: Int, model: GPT, debug: Bool) throws -> BatchStatistics

    /// Collective (every rank calls it): the validation metrics of the current weights.
    func evaluate(model: GPT, comm: Communicator) throws -> Evaluation

    /// DP-SGD's noise and accountant when the objective clips per example; nil otherwise.
    var privacy: GradientPrivacy? { get }

    /// The tail of the flat parameter buffer this objective trains (`task.trainable`), after
    /// setting how far down `model`'s backward runs. The rest keeps its initial (pre-trained)
    /// values: no gradient, no noise, no AdamW step, not even weight decay.
    func trainedParameters(of model: GPT) throws -> Range<Int>
}

extension TrainingObjective {
    /// Every tensor.
    public func trainedParameters(of model: GPT) throws -> Range<Int> { 0..<model.parameterCount }
}

/// The task a checkpoint was trained for: `kind` (classification, regression) and its labels.
public struct TaskIdentity: Codable, Equatable, Sendable {
    public var kind: String
    public var name: String
    public var labels: [String]

    public init(kind: String, name: String, labels: [String]) {
        self.kind = kind
        self.name = name
        self.labels = labels
    }
}

/// This rank's part of one global batch.
public struct BatchStatistics {
    /// This rank's loss term (see `TrainingObjective.accumulateGradients`).
    public var loss: Double
    /// Real (non-padding) tokens this rank ran, and padding tokens run with them.
    public var tokens: Int
    public var paddingTokens: Int

    public init(loss: Double, tokens: Int, paddingTokens: Int) {
        self.loss = loss
        self.tokens = tokens
        self.paddingTokens = paddingTokens
    }
}

/// One evaluation, identical on every rank.
public struct Evaluation {
    public var loss: Double
    /// Lower is better: picks `checkpoints/best` (LM: the loss; classification: 1 - macro-F1).
    public var selectionLoss: Double
    /// Scalars and JSON arrays (labels, confusion matrix) for the `eval` event of metrics.jsonl.
    public var numbers: [String: Double]
    public var arrays: [String: Any]
    /// The line printed after the step number.
    public var summary: String

    public init(loss: Double, selectionLoss: Double, numbers: [String: Double], arrays: [String: Any] = [:],
                summary: String) {
        self.loss = loss
        self.selectionLoss = selectionLoss
        self.numbers = numbers
        self.arrays = arrays
        self.summary = summary
    }
}

/// What an objective is built from: the config, this rank's place, and the prepared dataset.
public struct ObjectiveContext {
    public let config: TrainConfig
    public let plan: BatchPlan
    public let rank: Int
    public let datasetDirectory: URL
}
