import Foundation
import LLMSupport

/// `manifest.json` of a prepared dataset directory: what went in (sources, normaliser, tokenizer)
/// and a SHA-256 for every file, so a trainer can refuse a corrupted or mismatched dataset.
public struct DatasetManifest: Codable, Equatable, Sendable {
    public struct SplitFiles: Codable, Equatable, Sendable {
        public var tokensFile: String
        public var tokensSHA256: String
        public var tokens: Int
        public var posts: Int
        /// Per-post `{"ids": [...], "label": "..."}` lines for fine-tuning; nil when no post has a label.
        public var labelsFile: String?
        public var labelsSHA256: String?

        enum CodingKeys: String, CodingKey {
            case tokensFile = "tokens_file", tokensSHA256 = "tokens_sha256", tokens, posts
            case labelsFile = "labels_file", labelsSHA256 = "labels_sha256"
        }
    }

    public static let fileName = "manifest.json"
    public static let tokenizerFileName = "tokenizer.json"

    public var formatVersion = 1
    public var sources: [String]
    public var normalizer: NormalizerConfig
    /// `TextNormalizer.rulesVersion` of the build that prepared the dataset (nil in manifests
    /// written before the field existed: version 1).
    public var normalizerVersion: Int? = TextNormalizer.rulesVersion
    public var tokenizerFile: String
    public var tokenizerSHA256: String
    public var vocabSize: Int
    public var endOfTextID: Int
    public var splits: [String: SplitFiles]

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version", sources, normalizer, normalizerVersion = "normalizer_version"
        case tokenizerFile = "tokenizer_file", tokenizerSHA256 = "tokenizer_sha256", vocabSize = "vocab_size"
        case endOfTextID = "end_of_text_id", splits
    }

    /// Reads `directory/manifest.json` and (unless `verify` is false, for a reader that knows
    /// another process has just verified the same files) checks every file it lists against its checksum.
    public static func load(directory: URL, verify: Bool = true) throws -> DatasetManifest {
        let url = directory.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else { throw DataError.fileNotFound(path: url.path) }
        let manifest: DatasetManifest
        do {
            manifest = try JSONDecoder().decode(DatasetManifest.self, from: Data(contentsOf: url))
        } catch {
            throw DataError.malformedRecord(path: url.path, line: 1, reason: "not a dataset manifest: \(error)")
        }
        guard verify else { return manifest }
        var checks = [(manifest.tokenizerFile, manifest.tokenizerSHA256)]
        for split in manifest.splits.values {
            checks.append((split.tokensFile, split.tokensSHA256))
            if let labels = split.labelsFile, let sha = split.labelsSHA256 { checks.append((labels, sha)) }
        }
        for (name, expected) in checks {
            let file = directory.appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: file.path) else { throw DataError.fileNotFound(path: file.path) }
            let actual = SHA256.hash(data)
            guard actual == expected else {
                throw DataError.badTokenFile(path: file.path, reason: "sha256 \(actual) differs from the manifest's "
                                                                      + "\(expected)")
            }
        }
        return manifest
    }

    /// Whether this build's normaliser is the one the dataset's text went through.
    public var normalizedByThisBuild: Bool { (normalizerVersion ?? 1) == TextNormalizer.rulesVersion }

    public func tokensURL(_ split: CorpusSplit, in directory: URL) -> URL? {
        splits[split.rawValue].map { directory.appendingPathComponent($0.tokensFile) }
    }
}
