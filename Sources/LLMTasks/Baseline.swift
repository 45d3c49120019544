import LLMSupport
import Foundation
import LLMData
import LLMTrain

/// The bag-of-words baseline a fine-tuned model has to beat: TF-IDF word and character n-grams
/// and multinomial logistic regression, its L2 strength chosen by validation macro-F1 (RMSE is
/// not offered: the baseline is for classification tasks). It reads the same posts as
/// fine-tuning (the task's sidecar records, decoded back to their normalised text).
public enum Baseline {
    public static let strengths = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2]

    public struct Result {
        public let l2: Double
        /// (l2, validation macro-F1) per candidate.
        public let validation: [(l2: Double, macroF1: Double)]
        public let test: TaskReport
        public let seconds: Double
    }

    public static func run(spec: TaskSpec, directory: URL, log: (String) -> Void = { _ in }) throws -> Result {
        guard spec.kind == .classification else {
            throw TrainingError("task.kind: the baseline is a classifier; regression tasks have none")
        }
        let start = monotonicSeconds()
        var spec = spec
        if spec.labels.isEmpty { spec.labels = try TaskData.labels(directory: directory, spec: spec) }
        let manifest = try DatasetManifest.load(directory: directory)
        let tokenizer = try BPETokenizer.load(from: directory.appendingPathComponent(manifest.tokenizerFile))
        func split(_ s: CorpusSplit) throws -> (texts: [String], examples: [TaskExample]) {
            // Full-length ids (the decoded text is the whole normalised post), labels as the task says.
            let examples = try TaskData.examples(directory: directory, split: s, spec: spec, sequenceLength: Int.max / 2,
                                                 endOfText: tokenizer.endOfTextID)
            return (examples.map { tokenizer.decode(Array($0.ids.dropLast())) }, examples)
        }
        let train = try split(.train), validation = try split(.validation), test = try split(.test)
        let features = BagOfWords(training: train.texts)
        let rows = (train: train.texts.map(features.row), validation: validation.texts.map(features.row),
                    test: test.texts.map(features.row))
        let classWeights = TaskData.classWeights(train.examples, spec: spec)
        let K = spec.outputs
        func fit(_ l2: Double) -> LogisticRegression {
            LogisticRegression(rows: rows.train, labels: train.examples.map(\.label),
                               sampleWeights: train.examples.map { classWeights[$0.label] }, classes: K,
                               features: features.featureCount, l2: l2)
        }
        var scores: [(l2: Double, macroF1: Double)] = []
        var best: (l2: Double, model: LogisticRegression, f1: Double)?
        for l2 in strengths {
            let model = fit(l2)
            let report = TaskReport(spec: spec, examples: validation.examples,
                                        outputs: rows.validation.flatMap(model.logits))
            let f1 = report.classification!.macroF1
            log("l2 \(l2): validation macro-F1 \(format(f1, 4))")
            scores.append((l2, f1))
            if f1 > (best?.f1 ?? -1) { best = (l2, model, f1) }
        }
        let report = TaskReport(spec: spec, examples: test.examples, outputs: rows.test.flatMap(best!.model.logits))
        return Result(l2: best!.l2, validation: scores, test: report, seconds: monotonicSeconds() - start)
    }
}
