import Foundation
import LLMSupport

/// Reads and writes the Hugging Face `tokenizer.json` format: a BPE model over GPT-2 byte
/// symbols, a Sequence pre-tokenizer (Split with `PreTokenizer.pattern`, then
/// ByteLevel(use_regex: false)), a ByteLevel decoder, and the special tokens as added tokens.
/// `tokenizers.Tokenizer.from_file` loads it and gives the same ids (Scripts/check-hf-tokenizer.py).
extension BPETokenizer {
    public func save(to url: URL) throws {
        do { try Data(tokenizerJSON().utf8).write(to: url, options: .atomic) } catch {
            throw DataError.unwritable(path: url.path, reason: error.localizedDescription)
        }
    }

    /// Deterministic text (vocab in id order), so the same training run gives the same file.
    /// With `normalizer` (for export), the file also carries the normaliser's steps, and the
    /// special tokens are matched in normalised text, as our encoder does after normalising.
    /// `appendingEndOfText`: a TemplateProcessing post-processor adds `<|endoftext|>` after each
    /// text (with `add_special_tokens`, the Hugging Face default), as fine-tuning does to every post.
    public func tokenizerJSON(normalizer: HuggingFaceNormalizer? = nil, appendingEndOfText: Bool = false) -> String {
        let symbols = tokenBytes.enumerated().map { id, bytes in
            specialName(of: Int32(id)) ?? ByteLevelAlphabet.symbol(for: bytes)
        }
        var s = "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": [\n"
        let added = specialTokens.sorted { $0.value < $1.value }.map { name, id in
            "    {\"id\": \(id), \"content\": \(jsonStringLiteral(name)), \"single_word\": false, \"lstrip\": false, "
            + "\"rstrip\": false, \"normalized\": \(normalizer != nil), \"special\": true}"
        }
        s += added.joined(separator: ",\n") + "\n  ],\n  \"normalizer\": \(normalizer?.json ?? "null"),\n"
        s += "  \"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": "
             + "{\"Regex\": \(jsonStringLiteral(PreTokenizer.pattern))}, \"behavior\": \"Isolated\", \"invert\": "
             + "false}, {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, \"use_regex\": "
             + "false}]},\n"
        s += "  \"post_processor\": \(appendingEndOfText ? endOfTextTemplate : "null"),\n"
        s += "  \"decoder\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, "
             + "\"use_regex\": false},\n"
        s += "  \"model\": {\n    \"type\": \"BPE\", \"dropout\": null, \"unk_token\": null, "
             + "\"continuing_subword_prefix\": null, \"end_of_word_suffix\": null, \"fuse_unk\": false, "
             + "\"byte_fallback\": false, \"ignore_merges\": false,\n"
        s += "    \"vocab\": {\n"
        s += symbols.enumerated().map { "      \(jsonStringLiteral($1)): \($0)" }.joined(separator: ",\n")
        s += "\n    },\n    \"merges\": [\n"
        s += merges.map { "      [\(jsonStringLiteral(symbols[Int($0.0)])), "
                          + "\(jsonStringLiteral(symbols[Int($0.1)]))]" }.joined(separator: ",\n")
        s += "\n    ]\n  }\n}\n"
        return s
    }

    private var endOfTextTemplate: String {
        let eot = jsonStringLiteral(SpecialTokens.endOfText)
        func special(_ typeID: Int) -> String { "{\"SpecialToken\": {\"id\": \(eot), \"type_id\": \(typeID)}}" }
        func sequence(_ id: String, _ typeID: Int) -> String {
            "{\"Sequence\": {\"id\": \"\(id)\", \"type_id\": \(typeID)}}"
        }
        return "{\"type\": \"TemplateProcessing\", \"single\": [\(sequence("A", 0)), \(special(0))], "
            + "\"pair\": [\(sequence("A", 0)), \(special(0)), \(sequence("B", 1)), \(special(1))], "
            + "\"special_tokens\": {\(eot): {\"id\": \(eot), \"ids\": [\(endOfTextID)], \"tokens\": [\(eot)]}}}"
    }

    public static func load(from url: URL) throws -> BPETokenizer {
        let path = url.path
        guard FileManager.default.fileExists(atPath: path) else { throw DataError.fileNotFound(path: path) }
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw DataError.unreadable(path: path, reason: "\(error)") }
        func bad(_ reason: String) -> DataError { .badTokenizerFile(path: path, reason: reason) }
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw bad("not a JSON object") }
        guard let model = root["model"] as? [String: Any], model["type"] as? String == "BPE" else { throw bad("model.type is not BPE") }
        guard let vocab = model["vocab"] as? [String: Any] else { throw bad("model.vocab missing") }
        guard try usesOurPreTokenizer(root["pre_tokenizer"]) else {
            throw bad("pre_tokenizer must be Sequence[Split(PreTokenizer.pattern), ByteLevel(use_regex=false)]")
        }
        let addedTokens = root["added_tokens"] as? [Any] ?? []
        // Ids are dense: anything larger is corrupt, and would otherwise size an array.
        let maxID = vocab.count + addedTokens.count
        var specials = [String: Int32]()
        for case let token as [String: Any] in addedTokens {
            guard let content = token["content"] as? String, let id = (token["id"] as? NSNumber)?.int32Value else {
                throw bad("added_tokens entry without content/id")
            }
            guard id >= 0, Int(id) < maxID else { throw bad("added token '\(content)' has id \(id) outside "
                                                            + "0..<\(maxID)") }
            specials[content] = id
        }
        var tokenBytes = [[UInt8]?](repeating: nil, count: vocab.count)
        var symbolToID = [String: Int32]()
        for (symbol, value) in vocab {
            guard let id = (value as? NSNumber)?.intValue, id >= 0, id < maxID else {
                throw bad("model.vocab['\(symbol)'] is not an id in 0..<\(maxID)")
            }
            if id >= tokenBytes.count { tokenBytes += [[UInt8]?](repeating: nil, count: id + 1 - tokenBytes.count) }
            symbolToID[symbol] = Int32(id)
            if specials[symbol] == Int32(id) {
                tokenBytes[id] = Array(symbol.utf8)
            } else if let bytes = ByteLevelAlphabet.bytes(of: symbol) {
                tokenBytes[id] = bytes
            } else {
                throw bad("model.vocab entry '\(symbol)' is not in the byte-level alphabet")
            }
        }
        for (name, id) in specials {
            if Int(id) >= tokenBytes.count { tokenBytes += [[UInt8]?](repeating: nil, count: Int(id) + 1 - tokenBytes.count) }
            tokenBytes[Int(id)] = Array(name.utf8)
        }
        if let gap = tokenBytes.firstIndex(where: { $0 == nil }) { throw bad("model.vocab has no token with id "
                                                                             + "\(gap)") }
        var merges: [(Int32, Int32)] = []
        for (i, entry) in (model["merges"] as? [Any] ?? []).enumerated() {
            let pair: [String]
            if let list = entry as? [String], list.count == 2 {
                pair = list
            } else if let text = entry as? String {
                pair = text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            } else {
                throw bad("model.merges[\(i)] is neither [a, b] nor \"a b\"")
            }
            guard pair.count == 2, let a = symbolToID[pair[0]], let b = symbolToID[pair[1]] else {
                throw bad("model.merges[\(i)] names a token missing from model.vocab")
            }
            merges.append((a, b))
        }
        do {
            return try BPETokenizer(tokenBytes: tokenBytes.map { $0! }, merges: merges, specialTokens: specials)
        } catch DataError.badTokenizerFile(_, let reason) {
            throw bad(reason)
        }
    }

    private static func usesOurPreTokenizer(_ value: Any?) throws -> Bool {
        guard let seq = value as? [String: Any], seq["type"] as? String == "Sequence",
              let parts = seq["pretokenizers"] as? [[String: Any]], parts.count == 2,
              parts[0]["type"] as? String == "Split",
              (parts[0]["pattern"] as? [String: Any])?["Regex"] as? String == PreTokenizer.pattern,
              parts[1]["type"] as? String == "ByteLevel", parts[1]["use_regex"] as? Bool == false
        else { return false }
        return true
    }

    private func specialName(of id: Int32) -> String? {
        specialTokens.first { $0.value == id }?.key
    }
}
