import LLMSupport
import Foundation

/// A labelled example of the sidecar files, for sentiment fine-tuning.
public struct LabelledExample: Codable, Equatable, Sendable {
    public var ids: [Int32]
    public var label: String
    /// VADER's mean human rating, for regression and rating bands; nil where the source has none.
    public var rating: Double?
    /// The corpus the post came from (e.g. `vader_tweets`); nil in sidecars written before it was added.
    public var source: String?

    public init(ids: [Int32], label: String, rating: Double? = nil, source: String? = nil) {
        self.ids = ids
        self.label = label
        self.rating = rating
        self.source = source
    }

    /// The sidecar line: `{"ids":[...],"label":"...","rating":...,"source":"..."}`.
    var jsonLine: String {
        "{\"ids\":[" + ids.map(String.init).joined(separator: ",") + "],\"label\":" + jsonStringLiteral(label)
            + (rating.map { ",\"rating\":\($0)" } ?? "") + (source.map { ",\"source\":" + jsonStringLiteral($0) } ?? "") + "}"
    }

    /// Reads a `*.labels.jsonl` sidecar written by `DatasetPreparer`.
    public static func load(url: URL) throws -> [LabelledExample] {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw DataError.fileNotFound(path: url.path) }
        let decoder = JSONDecoder()
        return try String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated().map { i, line in
            do { return try decoder.decode(LabelledExample.self, from: Data(line.utf8)) } catch {
                throw DataError.malformedRecord(path: url.path, line: i + 1, reason: "not an {ids, label[, rating, "
                                                                                     + "source]} object; prepare the "
                                                                                     + "dataset again")
            }
        }
    }
}
