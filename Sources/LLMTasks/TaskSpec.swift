import Foundation
import LLMData
import LLMTrain

/// A fine-tuning task as the head and the data loader need it, resolved from the config's
/// `task` section (and, for a trained checkpoint, its saved label set).
public struct TaskSpec: Equatable, Sendable {
    public enum Kind: String, Sendable { case classification, regression }
    public enum Pooling: String, Sendable { case last, mean }
    /// `task.trainable`: what fine-tuning trains; the rest keeps the pre-trained weights.
    public enum Trainable: Equatable, Sendable {
        case all
        /// score.weight alone: a linear probe of the pre-trained trunk.
        case head
        /// The head, ln_f and the last K blocks.
        case lastBlocks(Int)
    }

    public var kind: Kind
    public var name: String
    /// Keep only posts of this corpus; empty: all.
    public var source: String
    /// `label` or `source`: which sidecar field is the class.
    public var labelField: String
    /// > 0: classes neg / neutral / pos from the rating with this band (see the config field).
    public var neutralBand: Double
    /// The classes in head order (classification); `["rating"]` for regression.
    public var labels: [String]
    public var pooling: Pooling
    public var balancedClassWeights: Bool
    public var trainable: Trainable

    /// The head's outputs: one per class, one for regression.
    public var outputs: Int { kind == .classification ? labels.count : 1 }

    /// The head in the flat parameter buffer: Hugging Face GPT2ForSequenceClassification's name, no bias.
    public func headTensors(modelDim: Int) -> [(name: String, shape: [Int])] {
        [(name: ScoreHead.tensorName, shape: [outputs, modelDim])]
    }

    /// A record's class name under this task, or nil when it has none (no rating for a band).
    public func className(_ record: LabelledExample) -> String? {
        if neutralBand > 0 {
            guard let rating = record.rating else { return nil }
            return rating < -neutralBand ? "neg" : rating > neutralBand ? "pos" : "neutral"
        }
        return labelField == "source" ? record.source : record.label
    }

    public var identity: TaskIdentity { TaskIdentity(kind: kind.rawValue, name: name, labels: labels) }

    /// Checks the `task` section; `labels` stays empty when the data decides (see `TaskData`).
    public init(section: TrainConfig.TaskSection) throws {
        guard let kind = Kind(rawValue: section.kind) else {
            throw TrainingError("task.kind: '\(section.kind)' is not one of classification, regression")
        }
        guard let pooling = Pooling(rawValue: section.pooling) else {
            throw TrainingError("task.pooling: '\(section.pooling)' is not one of last, mean")
        }
        guard ["label", "source"].contains(section.labelField) else {
            throw TrainingError("task.label_field: '\(section.labelField)' is not one of label, source")
        }
        guard ["none", "balanced"].contains(section.classWeights) else {
            throw TrainingError("task.class_weights: '\(section.classWeights)' is not one of none, balanced")
        }
        self.kind = kind
        name = section.name
        source = section.source
        labelField = section.labelField
        neutralBand = section.neutralBand
        if neutralBand < 0 { throw TrainingError("task.neutral_band must not be negative, got \(neutralBand)") }
        labels = kind == .regression ? ["rating"] : section.labels
        self.pooling = pooling
        balancedClassWeights = section.classWeights == "balanced"
        trainable = try Self.trainable(section.trainable)
    }

    private static func trainable(_ text: String) throws -> Trainable {
        if text == "all" { return .all }
        if text == "head" { return .head }
        if text.hasPrefix("last_blocks:"), let k = Int(text.dropFirst("last_blocks:".count)), k > 0 { return .lastBlocks(k) }
        throw TrainingError("task.trainable: '\(text)' is not one of all, head, last_blocks:K (K >= 1)")
    }
}
