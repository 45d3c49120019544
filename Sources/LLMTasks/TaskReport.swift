import Foundation
import LLMTrain

/// The scores of a task's outputs on labelled posts, shaped for metrics.jsonl (`eval` events),
/// the terminal and `checkpoints/best` (by macro-F1, or lowest RMSE).
public struct TaskReport {
    public let spec: TaskSpec
    public let loss: Double
    public let classification: ClassificationMetrics?
    public let rocAUC: Double?
    public let regression: RegressionMetrics?

    /// `outputs` is count x spec.outputs, row-major (logits, or the predicted rating).
    public init(spec: TaskSpec, examples: [TaskExample], outputs: [Double]) {
        self.spec = spec
        let K = spec.outputs
        precondition(outputs.count == examples.count * K)
        switch spec.kind {
        case .classification:
            var lossSum = 0.0
            var predicted: [Int] = []
            var positiveScores: [Double] = []
            for (i, example) in examples.enumerated() {
                let z = Array(outputs[(i * K)..<((i + 1) * K)])
                let top = z.max()!
                let logSum = log(z.reduce(0) { $0 + exp($1 - top) }) + top
                lossSum += logSum - z[example.label]
                predicted.append(z.firstIndex(of: top)!)
                if K == 2 { positiveScores.append(z[1] - z[0]) }
            }
            loss = lossSum / Double(examples.count)
            classification = ClassificationMetrics(truth: examples.map(\.label), predicted: predicted, classes: K)
            rocAUC = K == 2
                ? ClassificationMetrics.rocAUC(scores: positiveScores, positive: examples.map { $0.label == 1 }) : nil
            regression = nil
        case .regression:
            regression = RegressionMetrics(truth: examples.map(\.rating), predicted: outputs)
            loss = regression!.rmse * regression!.rmse
            classification = nil
            rocAUC = nil
        }
    }

    /// Scalars of the `eval` event (val_loss, accuracy, macro_f1, ..., precision_<label>, ...).
    public var numbers: [String: Double] {
        var out = ["val_loss": loss]
        if let m = classification {
            out["accuracy"] = m.accuracy
            out["macro_f1"] = m.macroF1
            out["weighted_f1"] = m.weightedF1
            for (k, label) in spec.labels.enumerated() {
                out["precision_\(label)"] = m.precision[k]
                out["recall_\(label)"] = m.recall[k]
                out["f1_\(label)"] = m.f1[k]
            }
            if let rocAUC { out["roc_auc"] = rocAUC }
        }
        if let r = regression {
            out["mae"] = r.mae
            out["rmse"] = r.rmse
            out["spearman"] = r.spearman
        }
        return out
    }

    /// Array fields of the `eval` event: the label names and the confusion matrix [true][predicted].
    public var arrays: [String: Any] {
        guard let m = classification else { return [:] }
        return ["labels": spec.labels, "confusion": m.confusion]
    }

    public var summary: String {
        if let m = classification {
            return "loss \(format(loss, 4)) | accuracy \(format(m.accuracy, 4)) | macro-F1 \(format(m.macroF1, 4)) | "
                   + "weighted-F1 \(format(m.weightedF1, 4))\(rocAUC.map { " | ROC-AUC \(format($0, 4))" } ?? "")"
        }
        let r = regression!
        return "MSE \(format(loss, 4)) | MAE \(format(r.mae, 4)) | RMSE \(format(r.rmse, 4)) | Spearman "
               + "\(format(r.spearman, 4))"
    }

    public var evaluation: Evaluation {
        Evaluation(loss: loss, selectionLoss: classification.map { 1 - $0.macroF1 } ?? regression!.rmse,
                   numbers: numbers, arrays: arrays, summary: summary)
    }
}
