import LLMSupport
import Foundation

/// The normaliser as Hugging Face `tokenizers` steps, for an exported tokenizer.json: Python users
/// then get the same ids from raw posts as `swift-llm-train tokenizer encode`
/// (Scripts/check-hf-parity.py checks it on real and synthetic posts).
///
/// Each step becomes a normalizer in the same order: NFKC, `Replace` with our own patterns for the
/// e-mail/URL/@user/phone placeholders, `Lowercase`, `Replace` of `\p{P}` for punctuation, and
/// `Replace` of whitespace runs plus `Strip` for the whitespace rule. The patterns are the ones
/// `TextNormalizer` runs (ICU), with the two classes whose meaning differs between ICU and
/// Oniguruma (the `tokenizers` regex engine) spelled out: ICU's `\d` is `\p{Nd}` and its `\s`
/// is `[\t\n\f\r\p{Z}]`. The placeholders are added tokens matched after normalisation
/// (`normalized: true`), as our encoder matches them in normalised text.
///
/// `hashtags: split` cannot be expressed: it splits camel case and lower-cases the hashtag's words
/// only, which no Replace pattern can do; `unsupported` names it, and it is left out.
public struct HuggingFaceNormalizer {
    public let json: String
    public let unsupported: [String]

    public init(_ config: NormalizerConfig) {
        var steps: [String] = []
        var unsupported: [String] = []
        func replace(_ regex: NSRegularExpression, _ content: String) {
            steps.append("{\"type\": \"Replace\", \"pattern\": {\"Regex\": "
                         + "\(jsonStringLiteral(HuggingFaceNormalizer.oniguruma(regex.pattern)))}, \"content\": "
                         + "\(jsonStringLiteral(content))}")
        }
        if config.unicodeNFKC { steps.append("{\"type\": \"NFKC\"}") }
        if config.scrubEmails { replace(Patterns.email, SpecialTokens.email) }
        if config.scrubURLs { replace(Patterns.url, SpecialTokens.url) }
        if config.scrubUsers { replace(Patterns.user, SpecialTokens.user) }
        if config.scrubPhones { replace(Patterns.phone, SpecialTokens.phone) }
        if config.hashtags == .split { unsupported.append("hashtags: split (camel-case splitting of hashtags)") }
        if config.lowercase { steps.append("{\"type\": \"Lowercase\"}") }
        if config.removePunctuation {
            steps.append("{\"type\": \"Replace\", \"pattern\": {\"Regex\": \"\\\\p{P}\"}, \"content\": \"\"}")
        }
        if config.collapseWhitespace {
            // Swift's isWhitespace is the Unicode White_Space property, listed here in full.
            let whiteSpace = #"[\x{9}-\x{D}\x{20}\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]+"#
            steps.append("{\"type\": \"Replace\", \"pattern\": {\"Regex\": \(jsonStringLiteral(whiteSpace))}, "
                         + "\"content\": \" \"}")
            steps.append("{\"type\": \"Strip\", \"strip_left\": true, \"strip_right\": true}")
        }
        json = steps.isEmpty ? "null" : "{\"type\": \"Sequence\", \"normalizers\": "
                                        + "[" + steps.joined(separator: ", ") + "]}"
        self.unsupported = unsupported
    }

    /// An ICU pattern in Oniguruma's dialect: `\d` and `\s` spelled as ICU means them.
    static func oniguruma(_ pattern: String) -> String {
        var out = ""
        var inClass = false, escaped = false
        for ch in pattern {
            if escaped {
                escaped = false
                switch ch {
                case "d": out += #"\p{Nd}"#
                case "s": out += inClass ? #"\t\n\f\r\p{Z}"# : #"[\t\n\f\r\p{Z}]"#
                default: out += "\\" + String(ch)
                }
                continue
            }
            if ch == "\\" { escaped = true; continue }
            if ch == "[" { inClass = true } else if ch == "]" { inClass = false }
            out.append(ch)
        }
        return out
    }
}
