import Foundation

/// One line of `metrics.jsonl`: its event (`start`, `train`, `eval`) and its fields, split by type.
public struct MetricsRecord {
    /// 1-based line number in the file, for messages.
    public let line: Int
    public let event: String
    /// Finite numeric fields only.
    public let numbers: [String: Double]
    /// Fields RunLog wrote as "nan", "inf" or "-inf" (JSON has no non-finite numbers).
    public let nonFinite: Set<String>
    public let strings: [String: String]
    /// Fine-tuning evaluations: the class names and the confusion matrix (rows: true label).
    public let labels: [String]?
    public let confusion: [[Double]]?

    public subscript(field: String) -> Double? { numbers[field] }
}

/// A run's `metrics.jsonl`, read leniently where a killed or diverged run leaves marks: a record
/// cut off by a kill (the last line, or one a resumed run wrote after) is dropped, and
/// non-finite values are skipped; both are reported. Any other malformed line is an error
/// naming the file and line.
public struct MetricsLog {
    public static let fileName = "metrics.jsonl"
    public let url: URL
    public let records: [MetricsRecord]
    /// Line numbers of cut-off records that were ignored.
    public let truncatedLines: [Int]

    public static func read(runDirectory: URL) throws -> MetricsLog {
        let url = runDirectory.appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            let what = FileManager.default.fileExists(atPath: runDirectory.path) ? "has no \(fileName)"
                : "does not exist"
            throw ReportError("\(runDirectory.path) \(what): give the directory a training run wrote (--run-dir)")
        }
        var records: [MetricsRecord] = [], truncatedLines: [Int] = []
        for (index, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated()
        where !line.allSatisfy({ $0 == UInt8(ascii: " ") }) {
            do {
                records.append(try parse(Data(line), line: index + 1))
            } catch let error as ReportError {
                // A kill mid-write leaves the start of a record: '{' and no end.
                guard line.first == UInt8(ascii: "{"), line.last != UInt8(ascii: "}") else {
                    throw ReportError("\(url.path):\(index + 1): \(error)")
                }
                truncatedLines.append(index + 1)
            }
        }
        return MetricsLog(url: url, records: records, truncatedLines: truncatedLines)
    }

    static func parse(_ line: Data, line number: Int) throws -> MetricsRecord {
        guard let object = (try? JSONSerialization.jsonObject(with: line)) as? [String: Any] else {
            throw ReportError("not a JSON object; the file is damaged: remove or fix that line")
        }
        guard let event = object["event"] as? String else {
            throw ReportError("the record has no \"event\" field")
        }
        var numbers: [String: Double] = [:], strings: [String: String] = [:], nonFinite = Set<String>()
        for (key, value) in object where key != "event" {
            if let text = value as? String {
                if ["nan", "inf", "-inf"].contains(text.lowercased()) { nonFinite.insert(key) } else { strings[key] = text }
            } else if let number = value as? NSNumber {
                numbers[key] = number.doubleValue
            }
        }
        let confusion = (object["confusion"] as? [[Any]])?.map { row in row.map { ($0 as? NSNumber)?.doubleValue ?? .nan } }
        return MetricsRecord(line: number, event: event, numbers: numbers, nonFinite: nonFinite, strings: strings,
                             labels: object["labels"] as? [String], confusion: confusion)
    }

    public func records(_ event: String) -> [MetricsRecord] { records.filter { $0.event == event } }

    /// The latest `start` record: the run's hardware line and model size, if the trainer wrote one.
    public var start: MetricsRecord? { records("start").last }

    /// How many `event` records hold a non-finite `field`.
    public func nonFiniteCount(_ event: String, _ field: String) -> Int {
        records(event).filter { $0.nonFinite.contains(field) }.count
    }

    /// Said on the charts and by the commands when cut-off records were dropped.
    public var truncationNote: String? {
        guard !truncatedLines.isEmpty else { return nil }
        let which = truncatedLines.map(String.init).joined(separator: ", ")
        return "incomplete line\(truncatedLines.count == 1 ? "" : "s") \(which) of \(MetricsLog.fileName) ignored "
               + "(the run was probably killed while writing)"
    }

    /// Things a reader should know about the file, naming it.
    public var notes: [String] { truncationNote.map { ["\(url.path): \($0)"] } ?? [] }
}

/// A report failure with a message that says what to do.
public struct ReportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
