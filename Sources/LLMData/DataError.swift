import Foundation

/// Every failure of the data pipeline: each case names the file (and line or field) so a user can
/// fix the input without reading the code.
public enum DataError: Error, CustomStringConvertible, Equatable {
    case fileNotFound(path: String)
    case unreadable(path: String, reason: String)
    case unwritable(path: String, reason: String)
    case emptyCorpus(path: String)
    case unknownField(path: String, line: Int, field: String, available: [String])
    case missingLabel(path: String, line: Int, field: String)
    case malformedRecord(path: String, line: Int, reason: String)
    case badTokenFile(path: String, reason: String)
    case badTokenizerFile(path: String, reason: String)
    case vocabularyTooSmall(requested: Int, minimum: Int)
    case tooFewTokens(path: String, count: Int, needed: Int)

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "\(path): no such file"
        case .unreadable(let path, let reason):
            return "\(path): cannot read: \(reason)"
        case .unwritable(let path, let reason):
            return "\(path): cannot write: \(reason)"
        case .emptyCorpus(let path):
            return "\(path): the corpus holds no posts"
        case .unknownField(let path, let line, let field, let available):
            return "\(path):\(line): no field or column named '\(field)' (available: "
                   + "\(available.joined(separator: ", ")))"
        case .missingLabel(let path, let line, let field):
            return "\(path):\(line): label field '\(field)' is missing"
        case .malformedRecord(let path, let line, let reason):
            return "\(path):\(line): \(reason)"
        case .badTokenFile(let path, let reason):
            return "\(path): not a usable token file: \(reason)"
        case .badTokenizerFile(let path, let reason):
            return "\(path): not a usable tokenizer.json: \(reason)"
        case .vocabularyTooSmall(let requested, let minimum):
            return "vocabulary size \(requested) is too small: 256 byte tokens + special tokens need at least "
                   + "\(minimum)"
        case .tooFewTokens(let path, let count, let needed):
            return "\(path): \(count) tokens, but a window needs at least \(needed)"
        }
    }
}
