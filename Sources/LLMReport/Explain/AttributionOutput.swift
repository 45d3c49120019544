import Foundation

/// `explain --attributions` output: the post's tokens with their integrated-gradients
/// attributions for the predicted label, and the completeness check (the attributions should
/// add up to the label's logit at the post minus its logit at the baseline).
public struct AttributionOutput {
    /// Completeness tolerance: the gap may be this share of |logit difference| (plus
    /// `absoluteTolerance` for differences near 0). The Riemann error shrinks as 1/steps^2.
    public static let relativeTolerance = 0.01
    public static let absoluteTolerance = 1e-3

    public let tokens: [TokenPiece]
    public let labels: [String]
    public let attribution: ClassifierAttribution
    public let baselineName: String
    /// The step counts tried (each doubling the last) and their completeness gaps.
    public let tried: [(steps: Int, gap: Double)]

    public var label: String { labels[attribution.label] }
    public var isComplete: Bool {
        attribution.result.isComplete(relative: Self.relativeTolerance, absolute: Self.absoluteTolerance)
    }

    /// One line on completeness, with the numbers.
    public var completenessLine: String {
        let r = attribution.result
        let share = r.difference == 0 ? 0 : r.completenessGap / abs(r.difference)
        return "completeness: attributions sum to \(g(r.sum)); logit difference \(g(r.difference)) "
            + "(\(g(r.valueAtInput)) at the post, \(g(r.valueAtBaseline)) at the all-\(baselineName) baseline); "
            + "gap \(g(r.completenessGap)) = \(String(format: "%.3g", 100 * share))% with \(r.steps) steps "
            + (isComplete ? "(within" : "(NOT within")
            + " the tolerance of \(g(100 * Self.relativeTolerance))% + \(g(Self.absoluteTolerance))"
            + (isComplete ? ")" : "; raise --max-steps)")
            + (tried.count > 1 ? "; gaps with " + tried.map { "\($0.steps): \(g($0.gap))" }.joined(separator: ", ") : "")
    }

    /// Text for the terminal: the prediction, each token's attribution, the completeness line.
    public func summary() -> String {
        let logits = zip(labels, attribution.logits).map { "\($0) \(g($1))" }.joined(separator: ", ")
        var lines = ["predicted \(label) (logits: \(logits)); integrated-gradients attributions to its logit:"]
        for (piece, value) in zip(tokens, attribution.perToken) {
            lines.append("  " + String(format: "%+.4f", value) + "  [\(piece.label)]")
        }
        lines.append("(the last token, <|endoftext|>, is kept in the baseline: attribution 0, not a part of the post)")
        lines.append(completenessLine)
        return lines.joined(separator: "\n")
    }

    /// An HTML section: the post coloured by attribution, then the completeness check.
    public func html() -> String {
        """
        <h2>Attributions for the predicted label: \(xmlEscape(label))</h2>
        <p>Integrated gradients of the \(xmlEscape(label)) logit over the input embeddings, against the post with \
        every token replaced by \(xmlEscape(baselineName)) (the final &lt;|endoftext|&gt; is kept, so its attribution \
        is 0). Green pushes towards \(xmlEscape(label)), red away; the shade is linear in |attribution| up to the \
        largest.</p>
        <p class="attributions">\(TokenHighlight.signed(tokens, values: attribution.perToken))</p>
        <p class="completeness">\(xmlEscape(completenessLine))</p>
        """
    }

    /// The raw numbers, for `--json`.
    public var jsonObject: [String: Any] {
        let r = attribution.result
        return ["label": label, "labels": labels, "logits": attribution.logits, "baseline": baselineName,
                "tokens": tokens.map { ["id": Int($0.id), "text": $0.text] as [String: Any] },
                "attributions": attribution.perToken, "steps": r.steps, "sum": r.sum,
                "logit_at_post": r.valueAtInput, "logit_at_baseline": r.valueAtBaseline, "difference": r.difference,
                "completeness_gap": r.completenessGap, "relative_tolerance": Self.relativeTolerance,
                "absolute_tolerance": Self.absoluteTolerance, "complete": isComplete,
                "tried": tried.map { ["steps": $0.steps, "completeness_gap": $0.gap] as [String: Any] },
                "end_of_text_kept_in_baseline": true]
    }

    private func g(_ value: Double) -> String { String(format: "%.4g", value) }
}
