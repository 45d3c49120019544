import Foundation
import LLMComm
import LLMData

/// The token streams a run trains and evaluates on, and the tokenizer they were made with.
///
/// `data.dataset` names a directory written by `swift-llm-train prepare`. When it is empty the
/// embedded corpus is prepared (tokenizer trained to `model.vocab_size`, posts tokenised) into
/// `RUN_DIR/data` by the coordinator on first use; the other ranks wait, then map the same files.
struct TrainingData {
    let train: WindowSampler
    let validation: WindowSampler
    let tokenizerSHA256: String
    let description: String

    static func open(config: TrainConfig, runDirectory: URL, comm: Communicator, log: RunLog) throws -> TrainingData {
        var directory = URL(fileURLWithPath: config.data.dataset)
        if config.data.dataset.isEmpty {
            directory = runDirectory.appendingPathComponent("data")
            var failure: [UInt8] = []
            if comm.isCoordinator && !DatasetFiles.isComplete(directory) {
                log.note("preparing the embedded corpus into \(directory.path) (tokenizer vocab \(config.model.vocabSize))")
                do { try DatasetFiles.prepareShippedCorpus(into: directory, vocabSize: config.model.vocabSize) } catch {
                    failure = Array("\(error)".utf8)
                }
            }
            failure = try comm.broadcast(failure, root: 0)
            if !failure.isEmpty { throw TrainingError(String(decoding: failure, as: UTF8.self)) }
        }
        let tokenizer = config.data.tokenizer.isEmpty ? DatasetFiles.tokenizer(in: directory) : URL(fileURLWithPath: config.data.tokenizer)
        guard FileManager.default.fileExists(atPath: tokenizer.path) else {
            throw TrainingError("\(tokenizer.path): no tokenizer.json; set data.tokenizer or prepare the dataset with `swift-llm-train prepare`")
        }
        let seed = UInt64(config.train.seed)
        let T = config.train.sequenceLength
        func sampler(_ url: URL) throws -> WindowSampler {
            let tokens = try TokenFile(url: url)
            guard tokens.vocabSize == config.model.vocabSize else {
                throw TrainingError("\(url.path): tokens were made with a vocabulary of \(tokens.vocabSize), but model.vocab_size is \(config.model.vocabSize); set model.vocab_size=\(tokens.vocabSize) or prepare the data again")
            }
            return try WindowSampler(tokens: tokens, sequenceLength: T, seed: seed)
        }
        let train = try sampler(DatasetFiles.tokens(.train, in: directory))
        let validation = try sampler(DatasetFiles.tokens(.validation, in: directory))
        return TrainingData(train: train, validation: validation,
                            tokenizerSHA256: try SHA256.hash(fileAt: tokenizer),
                            description: "data \(directory.path): \(train.windowCount) train / \(validation.windowCount) validation windows")
    }
}
