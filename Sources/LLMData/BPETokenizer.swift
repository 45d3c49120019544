import Foundation

/// Byte-level BPE (GPT-2 style): text -> UTF-8 bytes -> words (see `PreTokenizer`) -> merges by
/// rank. Every byte has a token, so any input encodes and there is no unknown token. Special
/// tokens in the text (e.g. the `<url>` the normaliser writes) map to their ids atomically.
///
/// Thread safety: encoding caches the ids of each word seen, behind a lock, so one instance may
/// be shared across threads.
public final class BPETokenizer: @unchecked Sendable {
    /// Token id -> its bytes (special tokens: the UTF-8 of their text).
    public let tokenBytes: [[UInt8]]
    /// (left id, right id) in merge order; the merged token is `tokenBytes[left] + tokenBytes[right]`.
    public let merges: [(Int32, Int32)]
    /// Special token text -> id.
    public let specialTokens: [String: Int32]

    public var vocabSize: Int { tokenBytes.count }
    public var endOfTextID: Int32 { specialTokens[SpecialTokens.endOfText] ?? 0 }
    public var padID: Int32 { specialTokens[SpecialTokens.pad] ?? endOfTextID }

    let byteToID: [Int32]
    let mergeTable: MergeTable
    private let specialList: [(bytes: [UInt8], id: Int32)]
    /// Indexed by byte: can a special token start here? (A Set would hash every input byte.)
    private let specialFirstBytes: [Bool]
    private var cache = WordCache()
    private let cacheLock = NSLock()

    /// `tokenBytes` must contain every single byte as a token; merges must produce tokens in it.
    public init(tokenBytes: [[UInt8]], merges: [(Int32, Int32)], specialTokens: [String: Int32]) throws {
        self.tokenBytes = tokenBytes
        self.merges = merges
        self.specialTokens = specialTokens
        var byteToID = [Int32](repeating: -1, count: 256)
        let specialIDs = Set(specialTokens.values)
        for (id, bytes) in tokenBytes.enumerated() where bytes.count == 1 && !specialIDs.contains(Int32(id)) {
            if byteToID[Int(bytes[0])] < 0 { byteToID[Int(bytes[0])] = Int32(id) }
        }
        if let missing = byteToID.firstIndex(of: -1) {
            throw DataError.badTokenizerFile(path: "<vocabulary>", reason: "byte 0x\(String(missing, radix: 16)) has "
                                                                           + "no token")
        }
        self.byteToID = byteToID
        var idOfBytes = [[UInt8]: Int32]()
        for (id, bytes) in tokenBytes.enumerated() where !specialIDs.contains(Int32(id)) {
            if idOfBytes[bytes] == nil { idOfBytes[bytes] = Int32(id) }
        }
        var table = MergeTable(capacity: merges.count)
        for (rank, (a, b)) in merges.enumerated() {
            guard a >= 0, b >= 0, Int(a) < tokenBytes.count, Int(b) < tokenBytes.count,
                  let merged = idOfBytes[tokenBytes[Int(a)] + tokenBytes[Int(b)]] else {
                throw DataError.badTokenizerFile(path: "<merges>", reason: "merge \(rank) makes a token missing from "
                                                                           + "the vocabulary")
            }
            table.insertIfAbsent(MergeTable.key(a, b), rank: Int32(rank), id: merged)
        }
        mergeTable = table
        specialList = specialTokens.map { (Array($0.key.utf8), $0.value) }.sorted { $0.bytes.count > $1.bytes.count }
        var firstBytes = [Bool](repeating: false, count: 256)
        for s in specialList { if let b = s.bytes.first { firstBytes[Int(b)] = true } }
        specialFirstBytes = firstBytes
    }

    public func encode(_ text: String) -> [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(text.utf8.count / 3)
        encode(text, into: &out)
        return out
    }

    /// Appends the ids of `text` to `out` (lets callers build one long stream without copies).
    public func encode(_ text: String, into out: inout [Int32]) {
        let bytes = Array(text.utf8)
        bytes.withUnsafeBufferPointer { buf in
            var segmentStart = 0
            var i = 0
            while i < buf.count {
                if specialFirstBytes[Int(buf[i])], let special = specialMatch(buf, at: i) {
                    encodeOrdinary(buf, segmentStart..<i, into: &out)
                    out.append(special.id)
                    i += special.length
                    segmentStart = i
                } else {
                    i += 1
                }
            }
            encodeOrdinary(buf, segmentStart..<buf.count, into: &out)
        }
    }

    public func decode(_ ids: [Int32]) -> String {
        String(decoding: decodeBytes(ids), as: UTF8.self)
    }

    /// Ids outside the vocabulary are skipped rather than trapping: decoding model samples must not crash.
    public func decodeBytes(_ ids: [Int32]) -> [UInt8] {
        var out: [UInt8] = []
        for id in ids where id >= 0 && Int(id) < tokenBytes.count { out.append(contentsOf: tokenBytes[Int(id)]) }
        return out
    }

    /// Leftmost, longest special token starting at `i` (what Hugging Face's added-token matcher does).
    private func specialMatch(_ buf: UnsafeBufferPointer<UInt8>, at i: Int) -> (id: Int32, length: Int)? {
        for s in specialList where i + s.bytes.count <= buf.count {
            var equal = true
            for k in 0..<s.bytes.count where buf[i + k] != s.bytes[k] { equal = false; break }
            if equal { return (s.id, s.bytes.count) }
        }
        return nil
    }

    private func encodeOrdinary(_ buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into out: inout [Int32]) {
        if range.isEmpty { return }
        PreTokenizer.forEachWord(in: buf, range: range) { word in
            let hash = WordCache.hash(buf, word)
            cacheLock.lock()
            let hit = cache.append(buf, word, hash: hash, to: &out)
            cacheLock.unlock()
            if hit { return }
            let ids = mergeWord(buf, word)
            out.append(contentsOf: ids)
            cacheLock.lock()
            cache.insert(buf, word, hash: hash, ids: ids)
            cacheLock.unlock()
        }
    }

    /// Applies merges to one word: always the lowest-rank adjacent pair, leftmost on ties, as
    /// Hugging Face's BPE does.
    func mergeWord(_ buf: UnsafeBufferPointer<UInt8>, _ word: Range<Int>) -> [Int32] {
        let n = word.count
        if n == 1 { return [byteToID[Int(buf[word.lowerBound])]] }
        return withUnsafeTemporaryAllocation(of: Int32.self, capacity: n) { symbols in
            for k in 0..<n { symbols[k] = byteToID[Int(buf[word.lowerBound + k])] }
            let count = mergeByScanning(symbols)
            return Array(symbols[0..<count])
        }
    }

    /// O(n^2) but tight: `pairs[k]` caches (rank << 32 | merged id) of symbols k, k+1, so the
    /// minimum is one scan and each merge looks up only the two pairs next to it.
    private func mergeByScanning(_ symbols: UnsafeMutableBufferPointer<Int32>) -> Int {
        var count = symbols.count
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: count) { pairs in
            for k in 0..<count - 1 { pairs[k] = pair(symbols[k], symbols[k + 1]) }
            while count > 1 {
                var best = 0
                for k in 1..<count - 1 where pairs[k] < pairs[best] { best = k }
                if pairs[best] == UInt64.max { break }
                symbols[best] = Int32(truncatingIfNeeded: pairs[best])
                for k in best + 1..<count - 1 {
                    symbols[k] = symbols[k + 1]
                    pairs[k - 1] = pairs[k]
                }
                count -= 1
                // pairs[best] now holds the old (right symbol, next) pair: recompute both neighbours.
                if best + 1 < count { pairs[best] = pair(symbols[best], symbols[best + 1]) }
                if best > 0 { pairs[best - 1] = pair(symbols[best - 1], symbols[best]) }
            }
            return count
        }
    }

    @inline(__always)
    private func pair(_ a: Int32, _ b: Int32) -> UInt64 {
        guard let m = mergeTable.lookup(MergeTable.key(a, b)) else { return UInt64.max }
        return UInt64(UInt32(bitPattern: m.rank)) << 32 | UInt64(UInt32(bitPattern: m.id))
    }
}
