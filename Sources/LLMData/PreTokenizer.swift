/// Splits text into the words BPE merges within, never across. It is a hand-written matcher for
/// exactly this regular expression (the one declared in tokenizer.json, so Hugging Face
/// `tokenizers` splits identically):
///
///     '(?:s|t|re|ve|m|ll|d)| ?[HAN]+| ?(?:(?![HAN])\p{L})+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
///
/// It is GPT-2's pattern with Han characters split from other letters: Chinese has no spaces, so
/// a run of Han characters is one word (merges then learn multi-character words such as 质量 or
/// 不错) while an adjacent Latin word (`iPhone很好`) stays a separate word. Kana and Hangul count as
/// ordinary letters. Emoji, ZWJ sequences and punctuation fall in the `[^\s\p{L}\p{N}]+` class.
public enum PreTokenizer {
    /// CJK Unified Ideographs (+ Extension A, compatibility ideographs, Extensions B-G).
    static let hanRanges: [ClosedRange<UInt32>] = [0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF, 0x20000...0x3134F]
    static let hanClass = #"\x{3400}-\x{4DBF}\x{4E00}-\x{9FFF}\x{F900}-\x{FAFF}\x{20000}-\x{3134F}"#
    public static let pattern = #"'(?:s|t|re|ve|m|ll|d)| ?["# + hanClass + #"]+| ?(?:(?!["# + hanClass
        + #"])\p{L})+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#

    enum CharClass: UInt8 { case space, whitespace, han, letter, number, other }

    /// Calls `body` with the byte range of each word of `bytes[range]`, in order; the words tile the range.
    static func forEachWord(in bytes: UnsafeBufferPointer<UInt8>, range: Range<Int>, _ body: (Range<Int>) -> Void) {
        let n = range.upperBound
        var p = range.lowerBound
        while p < n {
            let (c0, l0) = classify(bytes, p, n)
            if bytes[p] == UInt8(ascii: "'"), let len = contractionLength(bytes, p, n) {
                body(p..<p + len)
                p += len
                continue
            }
            var start = p
            var cls = c0
            if c0 == .space, p + l0 < n {
                let (c1, _) = classify(bytes, p + l0, n)
                if c1 != .space && c1 != .whitespace {
                    start = p + l0
                    cls = c1
                }
            }
            if cls != .space && cls != .whitespace {
                var q = start
                while q < n {
                    let (c, l) = classify(bytes, q, n)
                    if c != cls { break }
                    q += l
                }
                body(p..<q)
                p = q
                continue
            }
            // `\s+(?!\S)` keeps the last whitespace of a run for the word after it; `\s+` takes a
            // lone whitespace character that the optional-space alternatives could not use.
            var q = p
            var lastStart = p
            while q < n {
                let (c, l) = classify(bytes, q, n)
                if c != .space && c != .whitespace { break }
                lastStart = q
                q += l
            }
            let end = (q == n || lastStart == p) ? q : lastStart
            body(p..<end)
            p = end
        }
    }

    /// `'s 't 're 've 'm 'll 'd` (lower case only, as in GPT-2).
    @inline(__always)
    private static func contractionLength(_ b: UnsafeBufferPointer<UInt8>, _ p: Int, _ n: Int) -> Int? {
        guard p + 1 < n else { return nil }
        switch b[p + 1] {
        case UInt8(ascii: "s"), UInt8(ascii: "t"), UInt8(ascii: "m"), UInt8(ascii: "d"):
            return 2
        case UInt8(ascii: "r"), UInt8(ascii: "v"):
            return p + 2 < n && b[p + 2] == UInt8(ascii: "e") ? 3 : nil
        case UInt8(ascii: "l"):
            return p + 2 < n && b[p + 2] == UInt8(ascii: "l") ? 3 : nil
        default:
            return nil
        }
    }

    private static let asciiClass: [CharClass] = (0..<128).map { b -> CharClass in
        let u = UInt8(b)
        if u == 0x20 { return .space }
        if (0x09...0x0D).contains(u) { return .whitespace }
        if (0x41...0x5A).contains(u) || (0x61...0x7A).contains(u) { return .letter }
        if (0x30...0x39).contains(u) { return .number }
        return .other
    }

    /// Class and UTF-8 length of the scalar at `p`. The input comes from a Swift String, so it is
    /// valid UTF-8; a truncated sequence at the end is classed as one `other` byte.
    @inline(__always)
    static func classify(_ b: UnsafeBufferPointer<UInt8>, _ p: Int, _ n: Int) -> (CharClass, Int) {
        let b0 = b[p]
        if b0 < 0x80 { return (asciiClass[Int(b0)], 1) }
        var value: UInt32
        var len: Int
        if b0 >= 0xF0 { value = UInt32(b0 & 0x07); len = 4 }
        else if b0 >= 0xE0 { value = UInt32(b0 & 0x0F); len = 3 }
        else { value = UInt32(b0 & 0x1F); len = 2 }
        if p + len > n { return (.other, 1) }
        for i in 1..<len { value = value << 6 | UInt32(b[p + i] & 0x3F) }
        return (classOf(scalarValue: value), len)
    }

    static func classOf(scalarValue value: UInt32) -> CharClass {
        for r in hanRanges where r.contains(value) { return .han }
        guard let u = Unicode.Scalar(value) else { return .other }
        let props = u.properties
        if props.isWhitespace { return .whitespace }
        switch props.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        default:
            return .other
        }
    }
}
