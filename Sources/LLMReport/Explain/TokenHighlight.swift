import Foundation

/// A post drawn as its tokens, each shaded by an attention probability: white to blue by its
/// square root, so a spread-out 0.04 stays visible yet pale and 1 is the darkest. The hover
/// text gives the exact value, token id and bytes. (Signed attributions for classifiers will
/// want a diverging scale here.)
enum TokenHighlight {
    static func html(_ pieces: [TokenPiece], attention: [Double]) -> String {
        return pieces.indices.map { i in
            let piece = pieces[i], score = attention[i]
            let share = min(1, max(0, score)).squareRoot()
            let bytes = piece.bytes.map { String(format: "%02x", $0) }.joined(separator: " ")
            let hover = "\(Axis.trimmed(score, decimals: 4)) | id \(piece.id) | bytes \(bytes)"
            return tag("span", ["class": piece.partial ? "token partial" : "token",
                                "style": "background:\(HeatMap.colour(share));color:\(share > 0.55 ? "#fff" : "#222")",
                                "title": xmlEscape(hover)], xmlEscape(piece.label))
        }.joined()
    }
}
