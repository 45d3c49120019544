import LLMSupport
import Foundation
import LLMData
import LLMModel
import Yams

/// A checkpoint's language model, ready for inference or export: its shape, its weights in one
/// flat buffer (the layout of `ParameterTensor.layout(for:)`), and the tokenizer and normaliser
/// its training data was made with. The optimiser moments are not read.
///
/// The tokenizer is found, in order: the one given; `tokenizer.json` in the checkpoint itself
/// (imported checkpoints carry theirs); the run config's `data.tokenizer`; the `tokenizer.json`
/// of its `data.dataset`, or of `RUN_DIR/data` (the embedded corpus) for a checkpoint in
/// `RUN_DIR/checkpoints/`. The normaliser comes from `normalizer.json` in the checkpoint or the
/// dataset's manifest, else the defaults (what `prepare` and training use without options).
///
/// A fine-tuned classifier (a `score.weight` head) is refused unless the caller asks for it
/// (`export`): then the trunk is read as for a language model and the head lands in `classifier`.
public final class SavedModel {
    public static let tokenizerFile = "tokenizer.json"
    public static let normalizerFile = "normalizer.json"

    public let checkpoint: Checkpoint
    public let state: TrainingState
    public var config: GPTConfig { state.model }
    public let tensors: [ParameterTensor]
    public let parameters: UnsafeMutableBufferPointer<Float>
    public let tokenizerURL: URL
    public let tokenizer: BPETokenizer
    public let normalizer: NormalizerConfig
    /// The task head of a fine-tuned checkpoint opened with `acceptingClassifier`; nil for a language model.
    public let classifier: ClassifierHead?

    /// `path`: a checkpoint directory, or a run directory (its best, else latest checkpoint; see
    /// `TrainedModel`, which finds and opens it for every command that uses a model). The files read
    /// are verified against the checkpoint's manifest first (not the optimiser's, twice the
    /// weights' size and unused here).
    public init(path: String, tokenizer explicitTokenizer: String? = nil, acceptingClassifier: Bool = false) throws {
        let trained = try TrainedModel(path: path, verifying: [ModelCheckpoint.modelFile, Checkpoint.stateFileName,
                                                               Self.tokenizerFile, Self.normalizerFile, "config.yaml"])
        checkpoint = trained.checkpoint
        state = trained.state
        let weights = try SafeTensorsFile(contentsOf: checkpoint.file(ModelCheckpoint.modelFile))
        if weights.tensors.contains(where: { $0.name == ClassifierHead.tensorName }) {
            guard acceptingClassifier else {
                throw TrainingError("\(checkpoint.directory.path) is a classifier (it has a "
                                    + "\(ClassifierHead.tensorName) head); this command takes language models only: "
                                    + "use the checkpoint it was fine-tuned from (classify runs the classifier; "
                                    + "export writes it as GPT2ForSequenceClassification)")
            }
            guard let task = state.task else {
                throw TrainingError("\(checkpoint.file(Checkpoint.stateFileName).path): the weights have a "
                                    + "\(ClassifierHead.tensorName) head but the state names no task; the "
                                    + "checkpoint is inconsistent")
            }
            classifier = ClassifierHead(task: task, pooling: trained.config.task.pooling,
                                        sequenceLength: trained.config.train.sequenceLength,
                                        shape: try weights.info(ClassifierHead.tensorName).shape,
                                        weights: try weights.read(ClassifierHead.tensorName))
        } else {
            classifier = nil
        }
        tensors = ParameterTensor.layout(for: state.model)
        parameters = .allocate(capacity: ParameterTensor.parameterCount(for: state.model))
        parameters.initialize(repeating: 0)
        do {
            try ModelCheckpoint.copyTensors(tensors, prefix: "", from: weights, into: parameters)
            let (url, normalizer) = try SavedModel.tokenizerAndNormalizer(checkpoint: checkpoint, state: state,
                                                                            explicit: explicitTokenizer)
            tokenizerURL = url
            self.normalizer = normalizer
            self.tokenizer = try BPETokenizer.load(from: url)
        } catch {
            parameters.deallocate()
            throw error
        }
        guard tokenizer.vocabSize <= state.model.vocabSize else {
            parameters.deallocate()
            throw TrainingError("\(tokenizerURL.path): the tokenizer has \(tokenizer.vocabSize) tokens but the model "
                                + "only \(state.model.vocabSize); pass the tokenizer the model was trained with "
                                + "(--tokenizer)")
        }
    }

    deinit { parameters.deallocate() }

    /// A model of the saved shape holding these weights, for `batchSize` x `sequenceLength`
    /// tokens per forward (explanations; generation uses `KVCacheDecoder` on `parameters`).
    public func model(batchSize: Int, sequenceLength: Int) -> GPT {
        let model = GPT(config: config, batchSize: batchSize, sequenceLength: sequenceLength, seed: 0)
        model.parameters.baseAddress!.update(from: parameters.baseAddress!, count: parameters.count)
        return model
    }

    private static func tokenizerAndNormalizer(checkpoint: Checkpoint, state: TrainingState,
                                               explicit: String?) throws -> (URL, NormalizerConfig) {
        let fm = FileManager.default
        var normalizer: NormalizerConfig?
        let ownNormalizer = checkpoint.file(normalizerFile)
        if fm.fileExists(atPath: ownNormalizer.path) {
            do { normalizer = try JSONDecoder().decode(NormalizerConfig.self, from: Data(contentsOf: ownNormalizer)) } catch {
                throw TrainingError("\(ownNormalizer.path): not a normaliser config: \(error)")
            }
        }
        let data = (try? YAMLDecoder().decode(TrainConfig.self, from: state.configYAML))?.data
        var datasetDirectory: URL?
        if let dataset = data?.dataset, !dataset.isEmpty {
            datasetDirectory = URL(fileURLWithPath: dataset)
        } else if checkpoint.directory.deletingLastPathComponent().lastPathComponent == "checkpoints" {
            datasetDirectory = checkpoint.directory.deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("data")
        }
        if normalizer == nil, let datasetDirectory,
           let manifest = try? JSONDecoder().decode(DatasetManifest.self, from: Data(
               contentsOf: datasetDirectory.appendingPathComponent(DatasetManifest.fileName))) {
            normalizer = manifest.normalizer
        }
        var candidates: [URL] = []
        if let explicit { candidates = [URL(fileURLWithPath: explicit)] } else {
            candidates.append(checkpoint.file(tokenizerFile))
            if let configured = data?.tokenizer, !configured.isEmpty { candidates.append(URL(fileURLWithPath: configured)) }
            if let datasetDirectory { candidates.append(datasetDirectory.appendingPathComponent(DatasetManifest.tokenizerFileName)) }
        }
        guard let found = candidates.first(where: { fm.fileExists(atPath: $0.path) }) else {
            throw TrainingError("\(checkpoint.directory.path): cannot find the model's tokenizer (looked for "
                                + "\(candidates.map(\.path).joined(separator: ", "))); pass it with --tokenizer")
        }
        if explicit == nil, found != checkpoint.file(tokenizerFile), try SHA256.hash(fileAt: found) != state.tokenizerSHA256 {
            throw TrainingError("\(found.path): sha256 differs from the tokenizer the checkpoint was trained with "
                                + "(\(state.tokenizerSHA256.prefix(12))…); pass the right one with --tokenizer")
        }
        return (found, normalizer ?? NormalizerConfig())
    }
}

/// A fine-tuned checkpoint's task head as `export` needs it: `score.weight` [outputs, C] (no
/// bias), the task (kind and label set, from state.json) and how posts were pooled and cut
/// (config.yaml: `task.pooling`; posts are cut to `sequenceLength - 1` tokens plus `<|endoftext|>`).
public struct ClassifierHead {
    public static let tensorName = "score.weight"

    public let task: TaskIdentity
    public let pooling: String
    public let sequenceLength: Int
    public let shape: [Int]
    public let weights: [Float]

    public init(task: TaskIdentity, pooling: String, sequenceLength: Int, shape: [Int], weights: [Float]) {
        self.task = task
        self.pooling = pooling
        self.sequenceLength = sequenceLength
        self.shape = shape
        self.weights = weights
    }
}

extension SavedModel {
    /// Writes `parameters` (layout order) into `runDirectory` as its step-0 checkpoint, as a
    /// training run would have saved it before its first step: zero AdamW moments, a default
    /// config with this model shape, and the tokenizer (and normaliser) inside the checkpoint.
    /// `train --resume`, `generate` and `export` accept it.
    public static func writeFreshCheckpoint(config: GPTConfig, parameters: UnsafeBufferPointer<Float>,
                                            tokenizerJSON: Data?, normalizer: NormalizerConfig?,
                                            runDirectory: URL, metadata: [String: String]) throws -> Checkpoint {
        let tensors = ParameterTensor.layout(for: config)
        precondition(parameters.count == ParameterTensor.parameterCount(for: config))
        let zeros = UnsafeMutableBufferPointer<Float>.allocate(capacity: parameters.count)
        zeros.initialize(repeating: 0)
        defer { zeros.deallocate() }
        func views(_ buffer: UnsafeBufferPointer<Float>, prefix: String) -> [SafeTensorsWriter.Tensor] {
            tensors.map { (name: prefix + $0.name, shape: $0.shape,
                           data: UnsafeBufferPointer(rebasing: buffer[$0.offset..<$0.offset + $0.count])) }
        }
        var trainConfig = TrainConfig()
        trainConfig.model = config
        // The default window may exceed a small model's context, which config.yaml would then refuse.
        trainConfig.train.sequenceLength = min(trainConfig.train.sequenceLength, config.contextLength)
        let yaml = try trainConfig.yaml()
        let state = TrainingState(model: config, tokenizerSHA256: tokenizerJSON.map(SHA256.hash) ?? "",
                                  configYAML: yaml, worldSize: 1)
        let store = try CheckpointStore(runDirectory: runDirectory, keepLast: 1)
        return try store.save(step: 0, state: state) { dir in
            try SafeTensorsWriter.write(views(parameters, prefix: ""), metadata: metadata,
                                        to: dir.appendingPathComponent(ModelCheckpoint.modelFile))
            let moments = UnsafeBufferPointer(zeros)
            try SafeTensorsWriter.write(views(moments, prefix: "exp_avg.") + views(moments, prefix: "exp_avg_sq."),
                                        metadata: ["step": "0"], to: dir.appendingPathComponent(ModelCheckpoint.optimizerFile))
            try Data(yaml.utf8).write(to: dir.appendingPathComponent("config.yaml"))
            if let tokenizerJSON { try tokenizerJSON.write(to: dir.appendingPathComponent(tokenizerFile)) }
            if let normalizer {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                try encoder.encode(normalizer).write(to: dir.appendingPathComponent(normalizerFile))
            }
        }
    }
}
