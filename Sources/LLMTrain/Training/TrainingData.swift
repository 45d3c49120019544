import Foundation
import LLMComm
import LLMData
import LLMSupport

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
        let directory = config.data.dataset.isEmpty ? runDirectory.appendingPathComponent("data")
            : URL(fileURLWithPath: config.data.dataset)
        // The coordinator prepares the embedded corpus if needed and verifies every file's sha256
        // once; the other ranks wait for its verdict, then read the same files unverified.
        var verified: DatasetManifest?
        var failure: [UInt8] = []
        if comm.isCoordinator {
            do {
                if config.data.dataset.isEmpty {
                    // A given tokenizer is used to prepare the embedded corpus instead of training one.
                    let tokenizer = try config.data.tokenizer.isEmpty ? nil
                        : BPETokenizer.load(from: URL(fileURLWithPath: config.data.tokenizer))
                    if let tokenizer, let existing = try? DatasetManifest.load(directory: directory),
                       existing.tokenizerSHA256 != SHA256.hash(Data(tokenizer.tokenizerJSON().utf8)) {
                        // Never re-prepare a run's data under its checkpoints with another tokenizer.
                        throw TrainingError("data.tokenizer: \(config.data.tokenizer) is not the tokenizer "
                                            + "\(directory.path) was prepared with "
                                            + "(\(existing.tokenizerSHA256.prefix(12))…); drop data.tokenizer, or use "
                                            + "a new --run-dir")
                    }
                    verified = try DefaultDataset.prepare(in: directory, vocabSize: config.model.vocabSize, tokenizer: tokenizer) {
                        log.note("preparing the embedded corpus into \(directory.path) (tokenizer vocab "
                                 + "\(config.model.vocabSize))")
                    }
                } else {
                    verified = try DatasetManifest.load(directory: directory)
                    if let manifest = verified, !manifest.normalizedByThisBuild {
                        throw TrainingError("data.dataset: \(directory.path) was normalised with placeholder rules "
                                            + "version \(manifest.normalizerVersion ?? 1); this build's are version "
                                            + "\(TextNormalizer.rulesVersion) (see README, placeholders), so its "
                                            + "posts would not match what the model sees later; run "
                                            + "`swift-llm-train prepare` again")
                    }
                }
            } catch {
                failure = Array("\(error)".utf8)
            }
        }
        failure = try comm.broadcast(failure, root: 0)
        if !failure.isEmpty { throw TrainingError(String(decoding: failure, as: UTF8.self)) }
        let manifest = try verified ?? DatasetManifest.load(directory: directory, verify: false)
        if !config.data.tokenizer.isEmpty {
            // An explicit tokenizer must be the one the ids were made with (or an identical copy).
            let url = URL(fileURLWithPath: config.data.tokenizer)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw TrainingError("data.tokenizer: \(url.path) does not exist")
            }
            // Compared as we serialise it, so a copy that differs only in formatting still matches.
            let given = SHA256.hash(Data(try BPETokenizer.load(from: url).tokenizerJSON().utf8))
            guard given == manifest.tokenizerSHA256 else {
                throw TrainingError("data.tokenizer: \(url.path) (sha256 \(given.prefix(12))…) is not the tokenizer "
                                    + "\(directory.path) was prepared with (\(manifest.tokenizerSHA256.prefix(12))…); "
                                    + "drop data.tokenizer to use the dataset's own, or prepare the dataset with this "
                                    + "tokenizer")
            }
        }
        let tokenizerSHA256 = manifest.tokenizerSHA256
        let seed = UInt64(config.train.seed)
        func sampler(_ split: CorpusSplit) throws -> WindowSampler {
            guard let url = manifest.tokensURL(split, in: directory) else {
                throw TrainingError("\(directory.path)/\(DatasetManifest.fileName): the dataset has no "
                                    + "\(split.rawValue) split; prepare it with one")
            }
            let tokens = try TokenFile(url: url)
            guard tokens.vocabSize == config.model.vocabSize else {
                throw TrainingError("\(url.path): tokens were made with a vocabulary of \(tokens.vocabSize), but "
                                    + "model.vocab_size is \(config.model.vocabSize); set "
                                    + "model.vocab_size=\(tokens.vocabSize) or prepare the data again")
            }
            return try WindowSampler(tokens: tokens, sequenceLength: config.train.sequenceLength, seed: seed)
        }
        let train = try sampler(.train), validation = try sampler(.validation)
        return TrainingData(train: train, validation: validation, tokenizerSHA256: tokenizerSHA256,
                            description: "data \(directory.path): \(train.windowCount) train / "
                                         + "\(validation.windowCount) validation windows",
                            directory: directory)
    }
}
