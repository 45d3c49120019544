import Foundation

/// A post drawn as its tokens, each shaded by a score: attention (white to blue by the square
/// root of the probability, so a spread-out 0.04 stays visible yet pale and 1 is the darkest),
/// or a signed attribution (red against, green for, relative to the largest magnitude). The
/// hover text gives the exact score, token id and bytes.
enum TokenHighlight {
    static func html(_ pieces: [TokenPiece], scores: [Double], signed: Bool) -> String {
        let peak = signed ? max(scores.map(abs).max() ?? 1, 1e-12) : 1
        return pieces.indices.map { i in
            let piece = pieces[i], score = scores[i]
            let share = signed ? min(1, abs(score) / peak) : min(1, max(0, score)).squareRoot()
            let colour = !signed ? HeatMap.colour(share)
                : mix((255, 255, 255), score >= 0 ? (26, 152, 80) : (215, 48, 39), share)
            let bytes = piece.bytes.map { String(format: "%02x", $0) }.joined(separator: " ")
            let hover = "\(Axis.trimmed(score, decimals: 4)) | id \(piece.id) | bytes \(bytes)"
            return tag("span", ["class": piece.partial ? "token partial" : "token",
                                "style": "background:\(colour);color:\(share > 0.55 ? "#fff" : "#222")",
                                "title": xmlEscape(hover)], xmlEscape(piece.label))
        }.joined()
    }

    static func mix(_ from: (Double, Double, Double), _ to: (Double, Double, Double), _ share: Double) -> String {
        func m(_ a: Double, _ b: Double) -> Int { Int((a + (b - a) * share).rounded()) }
        return String(format: "#%02x%02x%02x", m(from.0, to.0), m(from.1, to.1), m(from.2, to.2))
    }
}
