import Foundation

/// How a corpus file is laid out; `auto` goes by the file extension (.jsonl/.json, .tsv, .csv,
/// anything else is plain text with one post a line).
public enum CorpusFormat: String, CaseIterable, Codable, Sendable {
    case auto, text, jsonl, tsv, csv

    func resolved(for url: URL) -> CorpusFormat {
        guard self == .auto else { return self }
        switch url.pathExtension.lowercased() {
        case "jsonl", "json", "ndjson": return .jsonl
        case "tsv": return .tsv
        case "csv": return .csv
        default: return .text
        }
    }
}

/// Which fields to read. For TSV/CSV the first row names the columns unless `hasHeader` is false,
/// in which case columns are named by their 0-based index ("0", "1", ...).
public struct CorpusFields: Equatable, Sendable {
    public var format: CorpusFormat
    public var textField: String
    /// nil: the posts are unlabelled. Otherwise every record must have it.
    public var labelField: String?
    public var hasHeader: Bool

    public init(format: CorpusFormat = .auto, textField: String = "text", labelField: String? = nil, hasHeader: Bool = true) {
        self.format = format
        self.textField = textField
        self.labelField = labelField
        self.hasHeader = hasHeader
    }
}

/// Reads posts from corpus files. A UTF-8 byte-order mark is skipped; bytes that are not valid
/// UTF-8 become U+FFFD and are reported through `warn` (count and first line); a post's split is
/// its `split` field when the record has a valid one, otherwise `CorpusSplit.of(text:)`.
public enum CorpusReader {
    public static func read(url: URL, fields: CorpusFields = CorpusFields(),
                            warn: (String) -> Void = { FileHandle.standardError.write(Data("warning: \($0)\n".utf8)) }) throws -> [Post] {
        let path = url.path
        guard FileManager.default.fileExists(atPath: path) else { throw DataError.fileNotFound(path: path) }
        var data: Data
        do { data = try Data(contentsOf: url) } catch { throw DataError.unreadable(path: path, reason: "\(error)") }
        if data.starts(with: [0xEF, 0xBB, 0xBF]) { data = data.dropFirst(3) }
        let badLines = linesWithInvalidUTF8(data)
        if let first = badLines.first {
            warn("\(path): \(badLines.count) line\(badLines.count == 1 ? "" : "s") hold bytes that are not valid "
                 + "UTF-8 (first: line \(first)); they were read as U+FFFD")
        }
        let text = String(decoding: data, as: UTF8.self)
        let source = url.deletingPathExtension().lastPathComponent
        let posts: [Post]
        switch fields.format.resolved(for: url) {
        case .text, .auto:
            posts = lines(text).compactMap { line in
                line.text.allSatisfy(\.isWhitespace) ? nil
                    : Post(text: line.text, label: nil, source: source, split: .of(text: line.text))
            }
        case .jsonl:
            posts = try readJSONL(text, path: path, source: source, fields: fields)
        case .tsv:
            posts = try readTable(lines(text).map { ($0.number, $0.text.components(separatedBy: "\t")) },
                                  path: path, source: source, fields: fields)
        case .csv:
            posts = try readTable(parseCSV(text, path: path), path: path, source: source, fields: fields)
        }
        if posts.isEmpty { throw DataError.emptyCorpus(path: path) }
        return posts
    }

    /// 1-based numbers of the lines (split on LF) whose bytes are not valid UTF-8.
    static func linesWithInvalidUTF8(_ data: Data) -> [Int] {
        data.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated().compactMap { i, line in
            String(validating: line, as: UTF8.self) == nil ? i + 1 : nil
        }
    }

    static func readShipped(url: URL) throws -> [Post] {
        try read(url: url, fields: CorpusFields(format: .jsonl, textField: "text", labelField: "label"))
    }

    /// Non-empty lines with their 1-based numbers; CRLF and LF both end a line. Split on bytes:
    /// as Characters "\r\n" is one grapheme and would not match "\n".
    private static func lines(_ text: String) -> [(number: Int, text: String)] {
        var out: [(Int, String)] = []
        for (i, line) in text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.last == 0x0D ? line.dropLast() : line
            if !trimmed.isEmpty { out.append((i + 1, String(decoding: trimmed, as: UTF8.self))) }
        }
        return out
    }

    private static func readJSONL(_ text: String, path: String, source: String, fields: CorpusFields) throws -> [Post] {
        var posts: [Post] = []
        for line in lines(text) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.text.utf8)) as? [String: Any] else {
                throw DataError.malformedRecord(path: path, line: line.number, reason: "not a JSON object")
            }
            guard let value = object[fields.textField] else {
                throw DataError.unknownField(path: path, line: line.number, field: fields.textField, available: object.keys.sorted())
            }
            guard let body = value as? String else {
                throw DataError.malformedRecord(path: path, line: line.number,
                                                reason: "field '\(fields.textField)' holds "
                                                        + "\(value is NSNumber ? "a number" : "a non-string value"), "
                                                        + "not a string; the post text must be a JSON string")
            }
            var label: String?
            if let field = fields.labelField {
                guard let value = object[field], !(value is NSNull) else {
                    throw DataError.missingLabel(path: path, line: line.number, field: field)
                }
                label = (value as? String) ?? "\(value)"
            }
            let split = (object["split"] as? String).flatMap(CorpusSplit.init(rawValue:)) ?? .of(text: body)
            posts.append(Post(text: body, label: label, rating: (object["rating"] as? NSNumber)?.doubleValue,
                              source: (object["source"] as? String) ?? source, split: split))
        }
        return posts
    }

    private static func readTable(_ rows: [(number: Int, cells: [String])], path: String, source: String, fields: CorpusFields) throws -> [Post] {
        guard let first = rows.first else { return [] }
        let names = fields.hasHeader ? first.cells : first.cells.indices.map(String.init)
        let body = fields.hasHeader ? Array(rows.dropFirst()) : rows
        guard let textColumn = names.firstIndex(of: fields.textField) else {
            throw DataError.unknownField(path: path, line: first.number, field: fields.textField, available: names)
        }
        var labelColumn: Int?
        if let field = fields.labelField {
            guard let column = names.firstIndex(of: field) else {
                throw DataError.unknownField(path: path, line: first.number, field: field, available: names)
            }
            labelColumn = column
        }
        return try body.map { row in
            guard textColumn < row.cells.count else {
                throw DataError.malformedRecord(path: path, line: row.number, reason: "\(row.cells.count) columns, "
                                                                                      + "text is column \(textColumn + 1)")
            }
            var label: String?
            if let column = labelColumn {
                guard column < row.cells.count, !row.cells[column].isEmpty else {
                    throw DataError.missingLabel(path: path, line: row.number, field: names[column])
                }
                label = row.cells[column]
            }
            let text = row.cells[textColumn]
            return Post(text: text, label: label, source: source, split: .of(text: text))
        }
    }

    /// RFC 4180: fields separated by commas, optionally quoted with "" escaping a quote; a quoted
    /// field may span lines. Rows carry the 1-based line they start on. A quote never closed is an
    /// error naming the line it opened on (it would otherwise swallow the rest of the file).
    static func parseCSV(_ text: String, path: String) throws -> [(number: Int, cells: [String])] {
        var rows: [(Int, [String])] = []
        var cells: [String] = []
        var field = String.UnicodeScalarView()
        var inQuotes = false
        var quoteLine = 1
        var line = 1
        var rowLine = 1
        var iterator = text.unicodeScalars.makeIterator()
        var pending = iterator.next()
        func endRow() {
            cells.append(String(field))
            field = String.UnicodeScalarView()
            if !(cells.count == 1 && cells[0].isEmpty) { rows.append((rowLine, cells)) }
            cells = []
        }
        while let u = pending {
            pending = iterator.next()
            if inQuotes {
                if u == "\"" {
                    if pending == "\"" { field.append("\""); pending = iterator.next() } else { inQuotes = false }
                } else {
                    if u == "\n" { line += 1 }
                    field.append(u)
                }
                continue
            }
            switch u {
            case "\"": inQuotes = true; quoteLine = line
            case ",": cells.append(String(field)); field = String.UnicodeScalarView()
            case "\r": if pending != "\n" { field.append(u) }
            case "\n":
                endRow()
                line += 1
                rowLine = line
            default: field.append(u)
            }
        }
        if inQuotes {
            throw DataError.malformedRecord(path: path, line: quoteLine, reason: "a quoted field opened on this line "
                                                                                 + "is never closed; close it with \" "
                                                                                 + "(write a quote inside a field as "
                                                                                 + "\"\")")
        }
        endRow()
        return rows
    }
}
