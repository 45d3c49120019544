import Foundation
import LLMComm
import LLMData

/// The token streams a run trains and evaluates on, and the tokenizer they were made with.
///
/// `data.dataset` names a directory written by `swift-llm-train prepare`. When it is empty the
/// embedded corpus is prepared (tokenizer trained to `model.vocab_size`, posts tokenised) into
/// `RUN_DIR/data` by the coordinator on first use; the other ranks wait, then map the same files.
/// Either way the dataset's manifest is verified (sha256 of every file) before use.
struct TrainingData {
    let train: WindowSampler
    let validation: WindowSampler
    let tokenizerSHA256: String
    let description: String
    /// The prepared dataset directory (its labels sidecars serve task objectives).
    let directory: URL

    static func open(config: TrainConfig, runDirectory: URL, comm: Communicator, log: RunLog) throws -> TrainingData {
        var directory = URL(fileURLWithPath: config.data.dataset)
        if config.data.dataset.isEmpty {
            directory = runDirectory.appendingPathComponent("data")
            var failure: [UInt8] = []
            if comm.isCoordinator {
                if (try? DatasetManifest.load(directory: directory)) == nil {
                    log.note("preparing the embedded corpus into \(directory.path) (tokenizer vocab \(config.model.vocabSize))")
                }
                do { _ = try DefaultDataset.prepare(in: directory, vocabSize: config.model.vocabSize) } catch {
                    failure = Array("\(error)".utf8)
                }
            }
            failure = try comm.broadcast(failure, root: 0)
            if !failure.isEmpty { throw TrainingError(String(decoding: failure, as: UTF8.self)) }
        }
        let manifest = try DatasetManifest.load(directory: directory)
        var tokenizerSHA256 = manifest.tokenizerSHA256
        if !config.data.tokenizer.isEmpty {
            // An explicit tokenizer must be the one the ids were made with (or an identical copy).
            let url = URL(fileURLWithPath: config.data.tokenizer)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw TrainingError("data.tokenizer: \(url.path) does not exist")
            }
            tokenizerSHA256 = try SHA256.hash(fileAt: url)
        }
        let seed = UInt64(config.train.seed)
        func sampler(_ split: CorpusSplit) throws -> WindowSampler {
            guard let url = manifest.tokensURL(split, in: directory) else {
                throw TrainingError("\(directory.path)/\(DatasetManifest.fileName): the dataset has no \(split.rawValue) split; prepare it with one")
            }
            let tokens = try TokenFile(url: url)
            guard tokens.vocabSize == config.model.vocabSize else {
                throw TrainingError("\(url.path): tokens were made with a vocabulary of \(tokens.vocabSize), but model.vocab_size is \(config.model.vocabSize); set model.vocab_size=\(tokens.vocabSize) or prepare the data again")
            }
            return try WindowSampler(tokens: tokens, sequenceLength: config.train.sequenceLength, seed: seed)
        }
        let train = try sampler(.train), validation = try sampler(.validation)
        return TrainingData(train: train, validation: validation, tokenizerSHA256: tokenizerSHA256,
                            description: "data \(directory.path): \(train.windowCount) train / \(validation.windowCount) validation windows",
                            directory: directory)
    }
}
