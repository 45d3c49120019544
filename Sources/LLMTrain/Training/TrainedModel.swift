import Foundation
import LLMModel

/// A finished checkpoint opened for use (fine-tuning from it, evaluating, classifying): its
/// verified files, state and config.
public struct TrainedModel {
    public let checkpoint: Checkpoint
    public let state: TrainingState
    public let config: TrainConfig

    /// `path` is a checkpoint directory, or a run directory (its `best`, else its `latest`).
    /// The files (`verifying`; nil: every file) are checked against the checkpoint manifest's sha256.
    public init(path: String, verifying files: Set<String>? = nil) throws {
        let url = URL(fileURLWithPath: path)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw TrainingError("\(url.path): no such checkpoint or run directory")
        }
        let found: Checkpoint
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("checkpoints").path) {
            let store = try CheckpointStore(runDirectory: url, keepLast: 1)
            guard let pointed = try store.best() ?? store.latest() else {
                throw TrainingError("\(url.path): the run has no checkpoint yet; train it first or name a checkpoint "
                                    + "directory")
            }
            found = pointed
        } else {
            found = Checkpoint(step: try CheckpointManifest.read(from: url).step, directory: url)
        }
        _ = try found.verify(files: files)
        checkpoint = found
        state = try found.loadState(TrainingState.self)
        config = try TrainConfig.load(path: found.file("config.yaml").path)
    }

    /// The prepared dataset the checkpoint was trained on: `data.dataset`, or the run
    /// directory's `data/` for the embedded corpus.
    public var datasetDirectory: URL {
        config.data.dataset.isEmpty
            ? checkpoint.directory.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("data")
            : URL(fileURLWithPath: config.data.dataset)
    }

    /// Copies the checkpoint's weights into `model`, except the tensors in `skipping`.
    public func readWeights(into model: GPT, skipping: Set<String> = []) throws {
        guard state.model == model.config else {
            throw TrainingError("\(checkpoint.directory.path): saved for model \(describe(state.model)), but this "
                                + "model is \(describe(model.config)); use the model section the checkpoint was "
                                + "trained with")
        }
        try ModelCheckpoint.readWeights(into: model, from: checkpoint.directory, skipping: skipping)
    }
}
