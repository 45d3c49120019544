import LLMSupport
import Foundation
import LLMComm
import LLMData
import LLMModel
import LLMTrain

/// A fine-tuned checkpoint ready to score posts: the model with its head and trained weights,
/// the task (with the checkpoint's own label set) and the dataset/tokenizer it was trained on.
public final class TrainedTask {
    public let trained: TrainedModel
    public let spec: TaskSpec
    public let model: GPT
    public let head: ScoreHead
    public let datasetDirectory: URL
    public let padID: Int32
    public let tokenizer: BPETokenizer
    public let normalizer: TextNormalizer

    /// `dataset` overrides the checkpoint's dataset directory; its tokenizer must be the same.
    public init(path: String, dataset: String? = nil) throws {
        trained = try TrainedModel(path: path)
        guard let task = trained.state.task else {
            throw TrainingError("\(trained.checkpoint.directory.path): a language-model checkpoint (no task); fine-tune it first (swift-llm-train finetune --from ...)")
        }
        var spec = try TaskSpec(section: trained.config.task)
        guard spec.kind.rawValue == task.kind else {
            throw TrainingError("\(trained.checkpoint.directory.path): state.json says a \(task.kind) task but config.yaml says \(spec.kind.rawValue); the checkpoint is inconsistent")
        }
        spec.labels = task.labels
        self.spec = spec
        datasetDirectory = dataset.map { URL(fileURLWithPath: $0) } ?? trained.datasetDirectory
        let manifest = try DatasetManifest.load(directory: datasetDirectory)
        guard manifest.tokenizerSHA256 == trained.state.tokenizerSHA256 else {
            throw TrainingError("\(datasetDirectory.path): tokenizer sha256 \(manifest.tokenizerSHA256.prefix(12))… differs from the checkpoint's \(trained.state.tokenizerSHA256.prefix(12))…; use the dataset the model was trained on")
        }
        padID = Int32(manifest.endOfTextID)
        tokenizer = try BPETokenizer.load(from: datasetDirectory.appendingPathComponent(manifest.tokenizerFile))
        normalizer = TextNormalizer(config: manifest.normalizer)
        let train = trained.config.train
        model = GPT(config: trained.state.model, batchSize: train.microBatch, sequenceLength: train.sequenceLength,
                    seed: 0, extraTensors: spec.headTensors(modelDim: trained.state.model.modelDim))
        try trained.readWeights(into: model)
        head = ScoreHead(spec: spec, model: model)
    }

    /// The labelled posts of `split`, refused if they carry a class outside the checkpoint's
    /// label set (unless the task named its labels, which then selects posts as in training).
    public func examples(_ split: CorpusSplit) throws -> [TaskExample] {
        if spec.kind == .classification && trained.config.task.labels.isEmpty {
            let records = try TaskData.records(directory: datasetDirectory, split: split, spec: spec)
            let names = Set(records.compactMap(spec.className))
            let unknown = names.subtracting(spec.labels).sorted()
            guard unknown.isEmpty else {
                throw TrainingError("\(datasetDirectory.path): the \(split.rawValue) posts have label(s) \(unknown) outside the checkpoint's label set \(spec.labels); evaluate on data with the labels the model was trained for")
            }
        }
        return try TaskData.examples(directory: datasetDirectory, split: split, spec: spec,
                                     sequenceLength: model.sequenceLength, endOfText: padID)
    }

    /// Collective: the head's outputs for `examples` (see `TaskObjective.predict`).
    public func predict(_ examples: [TaskExample], comm: Communicator) throws -> [Double] {
        try TaskObjective.predict(examples, model: model, head: head, padID: padID, comm: comm)
    }

    /// Posts as the model sees them: normalised as the dataset was, tokenised, cut, `<|endoftext|>` added.
    public func encode(_ texts: [String]) -> [TaskExample] {
        texts.map { text in
            let ids = Array(tokenizer.encode(normalizer.normalize(text)).prefix(model.sequenceLength - 1)) + [padID]
            return TaskExample(ids: ids, label: 0, rating: .nan)
        }
    }
}
