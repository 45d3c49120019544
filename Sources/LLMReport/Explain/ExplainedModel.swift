import LLMSupport
import Foundation
import LLMData
import LLMModel
import LLMTrain

/// A checkpoint opened for explanations: its weights, and the tokenizer and normaliser its
/// training data was made with, so a post is tokenised exactly as in training.
public struct ExplainedModel {
    public let checkpoint: Checkpoint
    public let state: TrainingState
    public let tokenizer: BPETokenizer
    public let normalizer: TextNormalizer

    /// `reference`: a checkpoint directory, or a run directory (its latest checkpoint).
    /// The checkpoint is verified (sha256 of every file) before use.
    public init(reference: String) throws {
        let url = URL(fileURLWithPath: reference).standardizedFileURL
        let fm = FileManager.default
        if fm.fileExists(atPath: url.appendingPathComponent(CheckpointManifest.fileName).path) {
            // A checkpoint directory, possibly copied out of its run: no store needed.
            let step = try Checkpoint(step: 0, directory: url).manifest().step
            checkpoint = Checkpoint(step: step, directory: url)
        } else if fm.fileExists(atPath: url.appendingPathComponent("checkpoints").path),
                  let latest = try CheckpointStore(runDirectory: url).latest() {
            checkpoint = latest
        } else {
            throw ReportError("\(url.path): not a checkpoint (no \(CheckpointManifest.fileName)) or a run directory with checkpoints; give RUN_DIR/checkpoints/step-NNNNNN or RUN_DIR")
        }
        try checkpoint.verify()
        state = try checkpoint.loadState(TrainingState.self)
        (tokenizer, normalizer) = try Self.tokenizer(for: checkpoint, state: state)
    }

    /// The training data's tokenizer and normaliser: the config's data.tokenizer, or the
    /// dataset's own (data.dataset, or RUN_DIR/data for the embedded corpus). It must be the one
    /// the model was trained with (sha256 recorded in state.json).
    static func tokenizer(for checkpoint: Checkpoint, state: TrainingState) throws -> (BPETokenizer, TextNormalizer) {
        let config = try TrainConfig.load(path: checkpoint.file("config.yaml").path)
        let runDirectory = checkpoint.directory.deletingLastPathComponent().deletingLastPathComponent()
        let dataset = config.data.dataset.isEmpty ? runDirectory.appendingPathComponent("data")
            : URL(fileURLWithPath: config.data.dataset)
        let manifest: DatasetManifest
        do { manifest = try DatasetManifest.load(directory: dataset) } catch {
            throw ReportError("the model's training data \(dataset.path) is needed for its tokenizer and normaliser, and cannot be read: \(error) (it is data.dataset of the checkpoint's config.yaml, or RUN_DIR/data for the embedded corpus: keep the checkpoint in its run directory)")
        }
        let url = config.data.tokenizer.isEmpty ? dataset.appendingPathComponent(manifest.tokenizerFile)
            : URL(fileURLWithPath: config.data.tokenizer)
        let sha = try SHA256.hash(fileAt: url)
        guard sha == state.tokenizerSHA256 else {
            throw ReportError("\(url.path): sha256 \(sha) is not the tokenizer the model was trained with (\(state.tokenizerSHA256), in \(checkpoint.file(Checkpoint.stateFileName).path))")
        }
        return (try BPETokenizer.load(from: url), TextNormalizer(config: manifest.normalizer))
    }

    /// The post normalised and tokenised as in training, cut to the model's context length.
    public func tokens(of post: String) throws -> (pieces: [TokenPiece], normalized: String, cut: Int) {
        let normalized = normalizer.normalize(post)
        let ids = tokenizer.encode(normalized)
        guard !ids.isEmpty else { throw ReportError("the post is empty after normalisation; give some text with --text") }
        let kept = Array(ids.prefix(state.model.contextLength))
        return (TokenPiece.pieces(kept, tokenizer: tokenizer), normalized, ids.count - kept.count)
    }

    /// Attention maps of the post: one forward of batch 1 over its tokens.
    public func attention(of pieces: [TokenPiece]) throws -> AttentionMaps {
        AttentionMaps(model: try checkpoint.loadModel(sequenceLength: pieces.count), tokens: pieces)
    }
}
