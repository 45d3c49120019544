import Foundation

/// The logic behind `swift-llm-train tokenizer ...`, kept here so the command-line file only
/// parses options.
public enum TokenizerTool {
    /// Normalised texts of the given corpus files, or of the shipped corpora's train split when
    /// `paths` is empty (validation and test text stays unseen by the vocabulary, too).
    public static func corpusTexts(paths: [String], fields: CorpusFields = CorpusFields(),
                                   normalizer: TextNormalizer = TextNormalizer()) throws -> [String] {
        let posts = paths.isEmpty ? try ShippedCorpus.posts(split: .train)
            : try paths.flatMap { try CorpusReader.read(url: URL(fileURLWithPath: $0), fields: fields) }
        return posts.map { normalizer.normalize($0.text) }
    }

    /// Reads a `NormalizerConfig` JSON file; nil path gives the defaults.
    public static func normalizer(configPath: String?) throws -> TextNormalizer {
        guard let path = configPath else { return TextNormalizer() }
        guard FileManager.default.fileExists(atPath: path) else { throw DataError.fileNotFound(path: path) }
        do {
            return TextNormalizer(config: try JSONDecoder().decode(NormalizerConfig.self, from: Data(contentsOf: URL(fileURLWithPath: path))))
        } catch {
            throw DataError.malformedRecord(path: path, line: 1, reason: "not a normaliser config: \(error)")
        }
    }

    /// One line of space-separated ids per input line.
    public static func encodeLines(tokenizer: BPETokenizer, normalizer: TextNormalizer?, readLine: () -> String?, write: (String) -> Void) {
        while let line = readLine() {
            let text = normalizer?.normalize(line) ?? line
            write(tokenizer.encode(text).map(String.init).joined(separator: " "))
        }
    }

    /// One decoded line per input line of space-separated ids; anything that is not an id is an error naming the line.
    public static func decodeLines(tokenizer: BPETokenizer, readLine: () -> String?, write: (String) -> Void) throws {
        var number = 0
        while let line = readLine() {
            number += 1
            var ids: [Int32] = []
            for field in line.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
                guard let id = Int32(field), id >= 0, Int(id) < tokenizer.vocabSize else {
                    throw DataError.malformedRecord(path: "<stdin>", line: number, reason: "'\(field)' is not a token "
                                                                                           + "id below \(tokenizer.vocabSize)")
                }
                ids.append(id)
            }
            write(tokenizer.decode(ids))
        }
    }
}
