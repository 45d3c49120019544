import Foundation

/// A post drawn as its tokens, each shaded by a value. The hover text gives the exact value,
/// token id and bytes.
enum TokenHighlight {
    /// Attention probabilities: white to blue by the square root, so a spread-out 0.04 stays
    /// visible yet pale and 1 is the darkest.
    static func html(_ pieces: [TokenPiece], attention: [Double]) -> String {
        spans(pieces, attention) { score in
            let share = min(1, max(0, score)).squareRoot()
            return (HeatMap.colour(share), share > 0.55)
        }
    }

    /// Signed attributions on a diverging scale: green for a token that pushes towards the label,
    /// red for one that pushes away, linear in |value| / the largest |value| (white: none).
    static func signed(_ pieces: [TokenPiece], values: [Double]) -> String {
        let largest = values.map(abs).max() ?? 0
        return spans(pieces, values) { value in
            let share = largest > 0 ? abs(value) / largest : 0
            let to = value >= 0 ? (26.0, 152.0, 80.0) : (215.0, 48.0, 39.0)
            func mix(_ b: Double) -> Int { Int((255 + (b - 255) * share).rounded()) }
            return (String(format: "#%02x%02x%02x", mix(to.0), mix(to.1), mix(to.2)), share > 0.6)
        }
    }

    private static func spans(_ pieces: [TokenPiece], _ values: [Double],
                              colour: (Double) -> (background: String, dark: Bool)) -> String {
        pieces.indices.map { i in
            let piece = pieces[i], value = values[i], (background, dark) = colour(value)
            let bytes = piece.bytes.map { String(format: "%02x", $0) }.joined(separator: " ")
            let hover = "\(Axis.trimmed(value, decimals: 4)) | id \(piece.id) | bytes \(bytes)"
            return tag("span", ["class": piece.partial ? "token partial" : "token",
                                "style": "background:\(background);color:\(dark ? "#fff" : "#222")",
                                "data-value": String(value), "title": xmlEscape(hover)], xmlEscape(piece.label))
        }.joined()
    }
}
