import Foundation

/// `explain` output for attention maps: heat maps (SVG, or an HTML page with the post's tokens
/// and every map), or the raw numbers as JSON.
public struct AttentionOutput {
    public let maps: AttentionMaps
    /// Names the model in titles: run and checkpoint.
    public let source: String
    public let normalizedPost: String
    public let layers: [Int]
    public let heads: [Int]

    /// `layer`, `head`: one of each, or nil for all.
    public init(maps: AttentionMaps, source: String, normalizedPost: String, layer: Int?, head: Int?) throws {
        if let layer, !(0..<maps.layers).contains(layer) {
            throw ReportError("--layer \(layer): the model has \(maps.layers) layers, numbered 0 to \(maps.layers - 1)")
        }
        if let head, !(0..<maps.heads).contains(head) {
            throw ReportError("--head \(head): the model has \(maps.heads) heads per layer, numbered 0 to "
                              + "\(maps.heads - 1)")
        }
        self.maps = maps
        self.source = source
        self.normalizedPost = normalizedPost
        layers = layer.map { [$0] } ?? Array(0..<maps.layers)
        heads = head.map { [$0] } ?? Array(0..<maps.heads)
    }

    func heatMap(layer: Int, head: Int) -> HeatMap {
        let labels = maps.tokens.map(\.label)
        return HeatMap(title: "Attention, layer \(layer) head \(head): \(source)", rowTitle: "query token (attending)",
                       columnTitle: "key token (attended to)", rowLabels: labels, columnLabels: labels,
                       values: maps.map(layer: layer, head: head), maximum: 1, showValues: maps.count <= 12)
    }

    /// One SVG document: the chosen maps side by side, a row per layer.
    public func svg() -> String {
        let sample = heatMap(layer: layers[0], head: heads[0]).size
        let width = sample.width * Double(heads.count), height = sample.height * Double(layers.count) + 40
        var s = svgHeader(width: width, height: height, title: "Attention maps: \(source)")
        for (row, layer) in layers.enumerated() {
            for (column, head) in heads.enumerated() {
                // Each map is a complete <svg>; nested, it only needs a position.
                let x = f(Double(column) * sample.width), y = f(40 + Double(row) * sample.height)
                s += "<svg x=\"\(x)\" y=\"\(y)\" class=\"attention\" data-layer=\"\(layer)\" data-head=\"\(head)\" "
                    + heatMap(layer: layer, head: head).svg().dropFirst("<svg ".count)
            }
        }
        return s + "</svg>\n"
    }

    /// A page with the post as its tokens, then `attributions` (if any), then each map;
    /// self-contained like report.html.
    public func html(attributions: AttributionOutput? = nil) -> String {
        let last = maps.count - 1
        // Per layer, what the last token attends to, averaged over the chosen heads.
        let lastRows = layers.map { layer -> String in
            let rows = heads.map { maps.map(layer: layer, head: $0)[last] }
            let mean = (0..<maps.count).map { k in rows.reduce(0) { $0 + $1[k] } / Double(rows.count) }
            return "<p>Layer \(layer): \(TokenHighlight.html(maps.tokens, attention: mean))</p>"
        }.joined(separator: "\n")
        let figures = layers.flatMap { layer in heads.map { head in "<figure>\(heatMap(layer: layer, head: head).svg())</figure>" } }
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>Attention maps: \(xmlEscape(source))</title>
        <style>
        body { font-family: sans-serif; margin: 2em; color: #222; }
        .token { border: 1px solid #bbb; border-radius: 3px; padding: 1px 3px; margin: 0 2px; line-height: 2; }
        .partial { border-style: dashed; color: #777; }
        </style></head><body>
        <h1>\(attributions == nil ? "Attention maps" : "Explanation"): \(xmlEscape(source))</h1>
        <p>Post after normalisation: \(xmlEscape(normalizedPost))</p>
        \(attributions?.html() ?? "")
        <h2>Attention maps</h2>
        <p>\(maps.count) tokens (dashed: holds the first bytes of a character the next token completes), shaded by the \
        attention of the last token (darker: more; shade by its square root), averaged over head\(heads.count == 1 ? " \(heads[0])" : "s \(heads.map(String.init).joined(separator: ", "))"):</p>
        \(lastRows)
        <p>Rows: the token attending; columns: the tokens it attends to (causal: only earlier ones). Each row sums to 1.</p>
        \(figures.joined(separator: "\n"))
        </body></html>

        """
    }

    /// The raw numbers: tokens, and attention[layer][head][query][key] for the chosen maps; and
    /// under "attributions", those of `attributions`.
    public func json(attributions: AttributionOutput? = nil) throws -> String {
        var object: [String: Any] = [
            "model": source, "post": normalizedPost, "layers": layers, "heads": heads,
            "tokens": maps.tokens.map { ["id": Int($0.id), "text": $0.text, "partial": $0.partial,
                                         "bytes": $0.bytes.map { String(format: "%02x", $0) }.joined()] as [String: Any] },
            "attention": layers.map { layer in heads.map { head in maps.map(layer: layer, head: head) } },
        ]
        if let attributions { object["attributions"] = attributions.jsonObject }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
