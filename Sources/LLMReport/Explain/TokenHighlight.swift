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
            let colour = signed ? (score >= 0 ? mix((255, 255, 255), (26, 152, 80), share) : mix((255, 255, 255), (215, 48, 39), share))
                : HeatMap.colour(share)
            let ink = share > 0.55 ? "#fff" : "#222"
            let hover = "\(Axis.trimmed(score, decimals: 4)) | id \(piece.id) | bytes \(piece.bytes.map { String(format: "%02x", $0) }.joined(separator: " "))"
            return "<span class=\"token\(piece.partial ? " partial" : "")\" style=\"background:\(colour);color:\(ink)\" title=\"\(xmlEscape(hover))\">\(xmlEscape(piece.label))</span>"
        }.joined()
    }

    static func mix(_ from: (Double, Double, Double), _ to: (Double, Double, Double), _ share: Double) -> String {
        func m(_ a: Double, _ b: Double) -> Int { Int((a + (b - a) * share).rounded()) }
        return String(format: "#%02x%02x%02x", m(from.0, to.0), m(from.1, to.1), m(from.2, to.2))
    }
}
