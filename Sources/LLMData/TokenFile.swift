import Foundation
#if canImport(Glibc)
import Glibc
import LLMSupport
#endif

/// A binary token file, memory-mapped for reading.
///
/// Layout (little-endian): 8-byte magic `LLMTOKS\0`, UInt32 version (1), UInt32 vocabulary size,
/// UInt32 token width in bytes (2 or 4), UInt32 reserved (0), UInt64 token count; then the
/// tokens. 32 header bytes keep the token array aligned for in-place reads.
public final class TokenFile: @unchecked Sendable {
    static let magic: [UInt8] = Array("LLMTOKS\0".utf8)
    static let version: UInt32 = 1
    static let headerSize = 32

    public let url: URL
    public let count: Int
    public let vocabSize: Int
    public let tokenWidth: Int
    private let mapping: UnsafeMutableRawPointer
    private let mappedBytes: Int
    private let tokens: UnsafeRawPointer

    public init(url: URL) throws {
        self.url = url
        let path = url.path
        let fd = Glibc.open(path, O_RDONLY)
        guard fd >= 0 else {
            throw errno == ENOENT ? DataError.fileNotFound(path: path)
                : DataError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw DataError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        let size = Int(info.st_size)
        guard size >= Self.headerSize else {
            throw DataError.badTokenFile(path: path, reason: "\(size) bytes is shorter than the "
                                                             + "\(Self.headerSize)-byte header (truncated?)")
        }
        guard let map = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), map != MAP_FAILED else {
            throw DataError.unreadable(path: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
        }
        func fail(_ reason: String) -> DataError {
            munmap(map, size)
            return DataError.badTokenFile(path: path, reason: reason)
        }
        let header = UnsafeRawBufferPointer(start: map, count: Self.headerSize)
        guard Array(header[0..<8]) == Self.magic else { throw fail("wrong magic bytes (not made by `swift-llm-train "
                                                                   + "prepare`)") }
        let version = UInt32(littleEndian: header.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        guard version == Self.version else { throw fail("format version \(version), this build reads version "
                                                        + "\(Self.version)") }
        let vocab = Int(UInt32(littleEndian: header.loadUnaligned(fromByteOffset: 12, as: UInt32.self)))
        let width = Int(UInt32(littleEndian: header.loadUnaligned(fromByteOffset: 16, as: UInt32.self)))
        guard width == 2 || width == 4 else { throw fail("token width \(width) bytes; expected 2 or 4") }
        guard vocab > 0, width == 4 || vocab <= 65_536 else { throw fail("vocabulary size \(vocab) does not fit token "
                                                                         + "width \(width)") }
        let count = Int(UInt64(littleEndian: header.loadUnaligned(fromByteOffset: 24, as: UInt64.self)))
        guard size == Self.headerSize + count * width else {
            throw fail("header promises \(count) tokens (\(Self.headerSize + count * width) bytes) but the file has "
                       + "\(size) bytes (truncated?)")
        }
        // An id past the vocabulary would index outside the model's embedding table: one pass
        // over the file (about a millisecond per MB) turns that into an error here.
        let body = UnsafeRawPointer(map + Self.headerSize)
        if let bad = Self.firstTokenOutside(vocab, body, count, width) {
            throw fail("token \(bad.token) at position \(bad.index) is outside the vocabulary of \(vocab)")
        }
        self.count = count
        vocabSize = vocab
        tokenWidth = width
        mapping = map
        mappedBytes = size
        tokens = UnsafeRawPointer(map + Self.headerSize)
    }

    /// Also refuses a file made with another tokenizer (different vocabulary size).
    public convenience init(url: URL, expectedVocabSize: Int) throws {
        try self.init(url: url)
        guard vocabSize == expectedVocabSize else {
            throw DataError.badTokenFile(path: url.path, reason: "vocabulary size \(vocabSize), but the tokenizer has "
                                                                 + "\(expectedVocabSize)")
        }
    }

    deinit { munmap(mapping, mappedBytes) }

    private static func firstTokenOutside(_ vocab: Int, _ body: UnsafeRawPointer, _ count: Int, _ width: Int) -> (index: Int, token: Int)? {
        if width == 2 {
            let ids = body.bindMemory(to: UInt16.self, capacity: count)
            var maxID: UInt16 = 0
            for i in 0..<count { maxID = max(maxID, UInt16(littleEndian: ids[i])) }
            if Int(maxID) < vocab { return nil }
            let index = (0..<count).first { Int(UInt16(littleEndian: ids[$0])) >= vocab }!
            return (index, Int(UInt16(littleEndian: ids[index])))
        }
        let ids = body.bindMemory(to: UInt32.self, capacity: count)
        for i in 0..<count where Int(UInt32(littleEndian: ids[i])) >= vocab { return (i, Int(UInt32(littleEndian: ids[i]))) }
        return nil
    }

    @inline(__always)
    public subscript(i: Int) -> Int32 {
        tokenWidth == 2 ? Int32(UInt16(littleEndian: tokens.load(fromByteOffset: 2 * i, as: UInt16.self)))
            : Int32(littleEndian: tokens.load(fromByteOffset: 4 * i, as: Int32.self))
    }

    /// Writes `tokens` with the narrowest width that holds `vocabSize` ids; returns the file's
    /// SHA-256 (hex) for the dataset manifest.
    @discardableResult
    public static func write(_ tokens: [Int32], vocabSize: Int, to url: URL) throws -> String {
        let width = vocabSize <= 65_536 ? 2 : 4
        var data = Data(capacity: headerSize + tokens.count * width)
        data.append(contentsOf: magic)
        for field in [version, UInt32(vocabSize), UInt32(width), 0] {
            withUnsafeBytes(of: field.littleEndian) { data.append(contentsOf: $0) }
        }
        withUnsafeBytes(of: UInt64(tokens.count).littleEndian) { data.append(contentsOf: $0) }
        if width == 2 {
            let narrow = tokens.map { UInt16(truncatingIfNeeded: $0).littleEndian }
            narrow.withUnsafeBytes { data.append(contentsOf: $0) }
        } else {
            let wide = tokens.map { $0.littleEndian }
            wide.withUnsafeBytes { data.append(contentsOf: $0) }
        }
        do { try data.write(to: url, options: .atomic) } catch {
            throw DataError.unwritable(path: url.path, reason: error.localizedDescription)
        }
        return SHA256.hash(data)
    }
}
