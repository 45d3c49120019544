import Foundation

/// A labelled example of the sidecar files, for sentiment fine-tuning.
public struct LabelledExample: Codable, Equatable, Sendable {
    public var ids: [Int32]
    public var label: String

    public init(ids: [Int32], label: String) {
        self.ids = ids
        self.label = label
    }

    /// Reads a `*.labels.jsonl` sidecar written by `DatasetPreparer`.
    public static func load(url: URL) throws -> [LabelledExample] {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw DataError.fileNotFound(path: url.path) }
        let decoder = JSONDecoder()
        return try String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated().map { i, line in
            do { return try decoder.decode(LabelledExample.self, from: Data(line.utf8)) } catch {
                throw DataError.malformedRecord(path: url.path, line: i + 1, reason: "not an {ids, label} object")
            }
        }
    }
}
