import LLMData

/// One token of a post as a reader should see it. Byte-level BPE tokens may hold part of a
/// UTF-8 character (a CJK character is 3 bytes, an emoji 4, and merges need not respect that):
/// each character is shown by the token holding its last byte, so reading the tokens in order
/// reads the post; a token holding only the leading bytes of a character shows them in hex.
public struct TokenPiece: Equatable, Sendable {
    public let id: Int32
    public let bytes: [UInt8]
    /// The characters whose last byte is in this token (may be empty).
    public let text: String
    /// The token also holds bytes of a character that only a later token completes.
    public let partial: Bool

    /// A short label for charts: spaces and newlines made visible, leading bytes as ‹e4 bd›.
    public var label: String {
        var shown = text.replacingOccurrences(of: " ", with: "␣").replacingOccurrences(of: "\n", with: "⏎")
        if partial { shown += "‹" + bytes.suffix(trailingLeadBytes).map { String(format: "%02x", $0) }.joined(separator: " ") + "›" }
        return shown
    }

    let trailingLeadBytes: Int

    /// The pieces of `ids`, decoded with `tokenizer`.
    public static func pieces(_ ids: [Int32], tokenizer: BPETokenizer) -> [TokenPiece] {
        let perToken = ids.map { tokenizer.decodeBytes([$0]) }
        let all = perToken.flatMap { $0 }
        // Token index of every byte, then each character goes to the token of its last byte.
        let owner = perToken.enumerated().flatMap { index, bytes in Array(repeating: index, count: bytes.count) }
        var texts = Array(repeating: "", count: ids.count)
        var position = 0
        while position < all.count {
            let length = utf8Length(all, at: position)
            let end = position + length
            texts[owner[end - 1]] += String(decoding: all[position..<end], as: UTF8.self)
            position = end
        }
        // Bytes at the end of a token that belong to a character ending in a later token.
        var leftover = Array(repeating: 0, count: ids.count)
        position = 0
        while position < all.count {
            let end = position + utf8Length(all, at: position)
            for byte in position..<end where owner[byte] != owner[end - 1] { leftover[owner[byte]] += 1 }
            position = end
        }
        return ids.indices.map { i in
            TokenPiece(id: ids[i], bytes: perToken[i], text: texts[i], partial: leftover[i] > 0, trailingLeadBytes: leftover[i])
        }
    }

    /// Bytes in the UTF-8 sequence starting at `i`; an invalid or cut-off sequence counts as one
    /// byte (shown as U+FFFD), as String(decoding:) would.
    static func utf8Length(_ bytes: [UInt8], at i: Int) -> Int {
        let lead = bytes[i]
        let length = lead < 0x80 ? 1 : lead >> 5 == 0b110 ? 2 : lead >> 4 == 0b1110 ? 3 : lead >> 3 == 0b11110 ? 4 : 1
        guard i + length <= bytes.count else { return 1 }
        for k in 1..<length where bytes[i + k] >> 6 != 0b10 { return 1 }
        return length
    }
}
