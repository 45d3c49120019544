import LLMSupport
import Foundation
import LLMData

/// One JSON line per post for `evaluate --predictions` and `classify`: the predicted label and
/// each class's probability (or the predicted rating), plus the text or true label when known.
public enum PredictionLines {
    public static func line(_ spec: TaskSpec, outputs: ArraySlice<Double>, text: String? = nil,
                            truth: String? = nil) -> String {
        var fields: [String] = []
        if let text { fields.append("\"text\":" + jsonStringLiteral(text)) }
        if let truth { fields.append("\"truth\":" + jsonStringLiteral(truth)) }
        switch spec.kind {
        case .classification:
            let z = Array(outputs), top = z.max()!
            let e = z.map { exp($0 - top) }, sum = e.reduce(0, +)
            fields.append("\"label\":" + jsonStringLiteral(spec.labels[z.firstIndex(of: top)!]))
            let probabilities = zip(spec.labels, e).map { jsonStringLiteral($0) + ":" + String(format: "%.6f", $1 / sum) }
            fields.append("\"probabilities\":{" + probabilities.joined(separator: ",") + "}")
        case .regression:
            fields.append("\"rating\":" + String(format: "%.6f", outputs.first!))
        }
        return "{" + fields.joined(separator: ",") + "}"
    }

    /// Lines for labelled examples (evaluate), newline-terminated.
    public static func make(_ spec: TaskSpec, examples: [TaskExample], outputs: [Double]) -> String {
        let K = spec.outputs
        return examples.indices.map { i in
            let truth = spec.kind == .classification ? spec.labels[examples[i].label] : String(examples[i].rating)
            return line(spec, outputs: outputs[(i * K)..<((i + 1) * K)], truth: truth) + "\n"
        }.joined()
    }
}
