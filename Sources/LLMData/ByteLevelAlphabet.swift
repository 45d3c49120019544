/// GPT-2's reversible byte -> printable-character map (`bytes_to_unicode`): printable Latin-1
/// bytes map to themselves, the other 68 to U+0100.. in order. Token strings in tokenizer.json are
/// written in these characters, which is what Hugging Face's ByteLevel pre-tokenizer expects.
enum ByteLevelAlphabet {
    static let byteToScalar: [Unicode.Scalar] = {
        var printable = Set<UInt8>()
        for b in UInt8(ascii: "!")...UInt8(ascii: "~") { printable.insert(b) }
        for b in UInt8(0xA1)...UInt8(0xAC) { printable.insert(b) }
        for b in UInt8(0xAE)...UInt8(0xFF) { printable.insert(b) }
        var table = [Unicode.Scalar](repeating: "\0", count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            if printable.contains(UInt8(b)) {
                table[b] = Unicode.Scalar(UInt8(b))
            } else {
                table[b] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    static let scalarToByte: [UInt32: UInt8] = {
        var map = [UInt32: UInt8]()
        for (b, s) in byteToScalar.enumerated() { map[s.value] = UInt8(b) }
        return map
    }()

    static func symbol(for bytes: some Sequence<UInt8>) -> String {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(byteToScalar[Int(b)]) }
        return String(s)
    }

    /// nil when the string holds a character outside the byte alphabet.
    static func bytes(of symbol: String) -> [UInt8]? {
        var out: [UInt8] = []
        for u in symbol.unicodeScalars {
            guard let b = scalarToByte[u.value] else { return nil }
            out.append(b)
        }
        return out
    }
}
