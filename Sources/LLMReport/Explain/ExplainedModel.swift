import LLMSupport
import Foundation
import LLMData
import LLMModel
import LLMTrain

/// A checkpoint opened for explanations: `SavedModel` (weights, and the tokenizer and normaliser
/// its training data was made with), so a post is tokenised exactly as in training.
public struct ExplainedModel: ExplainableCheckpoint {
    public let saved: SavedModel
    public let normalizer: TextNormalizer
    public var checkpoint: Checkpoint { saved.checkpoint }
    public var state: TrainingState { saved.state }
    public var tokenizer: BPETokenizer { saved.tokenizer }

    /// `reference`: a checkpoint directory, or a run directory (its latest checkpoint).
    public init(reference: String) throws {
        saved = try SavedModel(path: reference)
        normalizer = TextNormalizer(config: saved.normalizer)
    }

    /// The post normalised and tokenised as in training, cut to the model's context length (and
    /// if so, a note saying it).
    public func tokens(of post: String) throws -> (pieces: [TokenPiece], normalized: String, cutNote: String?) {
        let normalized = normalizer.normalize(post)
        let ids = tokenizer.encode(normalized)
        guard !ids.isEmpty else { throw ReportError("the post is empty after normalisation; give some text with "
                                                    + "--text") }
        let kept = Array(ids.prefix(state.model.contextLength))
        let note = kept.count < ids.count
            ? "the post has \(ids.count) tokens; only the first \(kept.count) (the model's context) are used" : nil
        return (TokenPiece.pieces(kept, tokenizer: tokenizer), normalized, note)
    }

    /// Attention maps of the post: one forward of batch 1 over its tokens.
    public func attention(of pieces: [TokenPiece]) throws -> AttentionMaps {
        AttentionMaps(model: saved.model(batchSize: 1, sequenceLength: pieces.count), tokens: pieces)
    }
}
