import LLMData
import LLMModel
import LLMTasks
import LLMTrain

/// What `explain` needs of a checkpoint, a language model or a fine-tuned one.
public protocol ExplainableCheckpoint {
    var checkpoint: Checkpoint { get }
    func tokens(of post: String) throws -> (pieces: [TokenPiece], normalized: String, cutNote: String?)
    func attention(of pieces: [TokenPiece]) throws -> AttentionMaps
}

/// Opens `reference` (a checkpoint or run directory) as what it is: fine-tuned or a language model.
public func openForExplanation(_ reference: String) throws -> ExplainableCheckpoint {
    try ExplainedClassifier.isFineTuned(reference) ? try ExplainedClassifier(reference: reference)
        : try ExplainedModel(reference: reference)
}

/// A fine-tuned checkpoint (classifier or regression head) opened for explanations through
/// `TrainedTask`, so a post is normalised, tokenised, cut and ended with `<|endoftext|>` exactly
/// as `classify` and the fine-tuning data do.
public final class ExplainedClassifier: ExplainableCheckpoint {
    public let task: TrainedTask
    public var checkpoint: Checkpoint { task.trained.checkpoint }

    /// Whether `reference` names a fine-tuned checkpoint (its state records a task); cheap: only
    /// state.json is read.
    public static func isFineTuned(_ reference: String) throws -> Bool {
        try TrainedModel(path: reference, verifying: [Checkpoint.stateFileName]).state.task != nil
    }

    public init(reference: String) throws {
        task = try TrainedTask(path: reference)
    }

    /// The post as the head sees it (its last token `<|endoftext|>`), and a note if it was cut.
    public func tokens(of post: String) throws -> (pieces: [TokenPiece], normalized: String, cutNote: String?) {
        let normalized = task.normalizer.normalize(post)
        let all = task.tokenizer.encode(normalized)
        guard !all.isEmpty else { throw ReportError("the post is empty after normalisation; give some text with "
                                                    + "--text") }
        let ids = task.encode([post])[0].ids
        let note = ids.count - 1 < all.count
            ? "the post has \(all.count) tokens; only the first \(ids.count - 1) are used, then <|endoftext|> (as in "
              + "fine-tuning)" : nil
        return (TokenPiece.pieces(ids, tokenizer: task.tokenizer), normalized, note)
    }

    /// A copy of the fine-tuned model for one post of `count` tokens (attention maps need batch 1 x T).
    func model(for count: Int) -> GPT {
        let trained = task.model
        let copy = GPT(config: trained.config, batchSize: 1, sequenceLength: count, seed: 0,
                       extraTensors: task.spec.headTensors(modelDim: trained.config.modelDim))
        copy.parameters.baseAddress!.update(from: trained.parameters.baseAddress!, count: trained.parameterCount)
        return copy
    }

    public func attention(of pieces: [TokenPiece]) -> AttentionMaps {
        AttentionMaps(model: model(for: pieces.count), tokens: pieces)
    }

    /// Integrated gradients for the predicted label against the all-`<pad>` baseline (the
    /// tokenizer's `<pad>`, else its `<|endoftext|>`): `steps`, doubled until the completeness
    /// check passes at two step counts in a row, or `maxSteps` is reached. A fine-tuned model can
    /// change its logit steeply in a short stretch of the path (measured: most of it within 0.5%
    /// of the path), which a coarse grid misses, and then the gap jumps about as the steps double
    /// (it can pass once by chance); one pass is not trusted.
    public func attributions(of pieces: [TokenPiece], steps: Int, maxSteps: Int) -> AttributionOutput {
        let model = model(for: pieces.count), head = ScoreHead(spec: task.spec, model: model)
        let baseline = task.tokenizer.padID
        let baselineName = task.tokenizer.specialTokens.first { $0.value == baseline }?.key ?? "token \(baseline)"
        var tried: [(steps: Int, gap: Double)] = [], count = steps, passedBefore = false
        while true {
            let result = ClassifierAttribution(model: model, head: head, tokens: pieces.map(\.id),
                                               baselineToken: baseline, steps: count)
            tried.append((count, result.result.completenessGap))
            let output = AttributionOutput(tokens: pieces, labels: task.spec.labels, attribution: result,
                                           baselineName: baselineName, tried: tried)
            if (output.isComplete && passedBefore) || count * 2 > maxSteps { return output }
            passedBefore = output.isComplete
            count *= 2
        }
    }
}
