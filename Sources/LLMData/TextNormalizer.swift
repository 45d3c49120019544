import Foundation

/// Applies a `NormalizerConfig` to posts. Order matters: NFKC first (so full-width `＠ｕｓｅｒ`
/// is scrubbed too), then scrubbing (e-mail before URL and @handle, since an address contains
/// both shapes), hashtags, case, punctuation, and whitespace last to tidy what the others left.
public struct TextNormalizer: Sendable {
    public let config: NormalizerConfig

    /// Bumped whenever the same config would normalise some text differently (a pattern changes),
    /// so a dataset prepared by an older build is rebuilt or refused instead of silently reused
    /// (`DatasetManifest.normalizerVersion`). 2: Unicode @handles, Chinese mobile numbers with +86.
    public static let rulesVersion = 2

    public init(config: NormalizerConfig = NormalizerConfig()) {
        self.config = config
    }

    /// Invalid UTF-8 decodes to U+FFFD instead of failing: scraped posts often carry broken bytes.
    public func normalize<C: Collection>(bytes: C) -> String where C.Element == UInt8 {
        normalize(String(decoding: Array(bytes), as: UTF8.self))
    }

    public func normalize(_ text: String) -> String {
        var s = text
        if config.unicodeNFKC { s = s.precomposedStringWithCompatibilityMapping }
        if config.scrubEmails { s = Patterns.email.replace(in: s, with: SpecialTokens.email) }
        if config.scrubURLs { s = Patterns.url.replace(in: s, with: SpecialTokens.url) }
        if config.scrubUsers { s = Patterns.user.replace(in: s, with: SpecialTokens.user) }
        if config.scrubPhones { s = Patterns.phone.replace(in: s, with: SpecialTokens.phone) }
        if config.hashtags == .split { s = splitHashtags(s) }
        if config.lowercase { s = s.lowercased() }  // placeholders are lower case already
        if config.removePunctuation { s = removingPunctuation(s) }
        if config.collapseWhitespace { s = collapsingWhitespace(s) }
        return s
    }

    /// `#HappyDay2024` -> `# happy day 2024`: word boundaries at lower->upper and letter<->digit.
    private func splitHashtags(_ s: String) -> String {
        let ns = s as NSString
        var out = ""
        var last = 0
        for m in Patterns.hashtag.matches(in: s, range: NSRange(location: 0, length: ns.length)) {
            out += ns.substring(with: NSRange(location: last, length: m.range.location - last))
            let body = ns.substring(with: m.range(at: 1))
            var words: [String] = []
            var current = ""
            var previous: Character?
            for ch in body {
                if let p = previous, !current.isEmpty,
                   (p.isLowercase && ch.isUppercase) || (p.isLetter && ch.isNumber) || (p.isNumber && ch.isLetter) || ch == "_" || p == "_" {
                    words.append(current)
                    current = ""
                }
                if ch != "_" { current.append(ch) }
                previous = ch
            }
            if !current.isEmpty { words.append(current) }
            out += "# " + words.map { $0.lowercased() }.joined(separator: " ")
            last = m.range.location + m.range.length
        }
        out += ns.substring(from: last)
        return out
    }

    /// Drops Unicode punctuation (categories P*), keeping placeholder tokens intact.
    private func removingPunctuation(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        let scalars = Array(s.unicodeScalars)
        var i = 0
        while i < scalars.count {
            if scalars[i] == "<", let token = SpecialTokens.all.first(where: { matches($0, scalars, at: i) }) {
                out.append(contentsOf: token.unicodeScalars)
                i += token.unicodeScalars.count
                continue
            }
            if !isPunctuation(scalars[i]) { out.append(scalars[i]) }
            i += 1
        }
        return String(out)
    }

    private func matches(_ token: String, _ scalars: [Unicode.Scalar], at i: Int) -> Bool {
        let t = Array(token.unicodeScalars)
        return i + t.count <= scalars.count && Array(scalars[i..<i + t.count]) == t
    }

    private func isPunctuation(_ u: Unicode.Scalar) -> Bool {
        switch u.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }

    /// Trims and turns every run of Unicode whitespace (incl. U+3000, NBSP, newlines) into one space.
    private func collapsingWhitespace(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        for u in s.unicodeScalars {
            if u.properties.isWhitespace {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(" ") }
                pendingSpace = false
                out.append(u)
            }
        }
        return String(out)
    }
}

/// Compiled once: NSRegularExpression is thread-safe for matching. (Internal, not private: the
/// Hugging Face export translates the same patterns, see HuggingFaceNormalizer.)
enum Patterns {
    // Boundaries are ASCII look-arounds, not \b: Chinese text runs straight into URLs and
    // handles (参考http://..., 网站abc.com很好), and ICU counts Han characters as word characters.
    static let email = regex(#"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"#)
    /// Scheme or www. URLs, plus bare host names with a common top-level domain (`abc.com/x`).
    /// A URL does not end in punctuation: `(see http://a.cn/x).` keeps its `).`.
    static let url = regex(#"(?i)(?:(?<![a-z0-9])(?:https?|ftp)://|(?<![a-z0-9.])www\.)(?:[^\s<>"]*[^\s<>".,;:!?'")\]}])?|(?<![a-z0-9.@/-])[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:com|net|org|edu|gov|io|cn|co|uk|de|jp|ly|me|tv|info|biz)(?![a-z0-9])(?:/(?:[^\s<>"]*[^\s<>".,;:!?'")\]}])?)?"#)
    /// A handle is `@` (or full-width `＠`, for NFKC off) then a run of letters, combining marks,
    /// digits, `_` and `-` in any script (Weibo: `@用户名`, `@Ünïcødé17`), ending at the first other
    /// character: whitespace, punctuation (ASCII or full-width ，。！？：；、), symbols and emoji. As on
    /// Weibo, Chinese text written straight after a handle is part of it (`@张三你好` is one handle).
    /// An `@` right after an ASCII letter, digit, `_`, `.` or `@` is part of an address, not a handle
    /// (e-mails are scrubbed before this runs).
    static let user = regex(#"(?<![A-Za-z0-9_@.＠])[@＠][\p{L}\p{M}\p{N}_-]+"#)
    /// Chinese mobile numbers first: 11 digits `1[3-9]x xxxx xxxx`, optionally grouped 3-4-4 by
    /// spaces, hyphens or dots, optionally after +86 / 0086 / (+86); then numbers written with
    /// separators (+1 555-123-4567, (020) 1234 5678). A digit or letter on either side means a
    /// longer run (an order number, a 12+ digit id), left alone; so is a bare 8-digit run, more
    /// often a date than a phone number.
    static let phone = regex(#"(?<![A-Za-z0-9+])(?:\(?(?:\+|00)86\)?[ .-]?)?1[3-9]\d(?:[ .-]?\d{4}){2}(?![A-Za-z0-9])"#
                             + #"|(?<![A-Za-z0-9+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?|\d{2,4}[ .-])\d{3,4}[ .-]?\d{4}"#
                             + #"(?![A-Za-z0-9])"#)
    static let hashtag = regex(#"(?<![A-Za-z0-9_&#])#([\p{L}\p{N}_]+)"#)

    static func regex(_ pattern: String) -> NSRegularExpression {
        // The patterns are literals above; a failure here is a programming error caught by tests.
        try! NSRegularExpression(pattern: pattern)
    }
}

private extension NSRegularExpression {
    func replace(in s: String, with template: String) -> String {
        stringByReplacingMatches(in: s, range: NSRange(location: 0, length: (s as NSString).length),
                                 withTemplate: NSRegularExpression.escapedTemplate(for: template))
    }
}
