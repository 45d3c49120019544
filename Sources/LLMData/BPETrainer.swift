import Foundation

/// Learns byte-level BPE merges from a corpus. Vocabulary layout: the special tokens (ids 0..<7 in
/// `SpecialTokens.all` order), the 256 bytes in byte order, then one token per merge.
///
/// Speed comes from the classic tricks: words are counted once (a corpus of millions of words has
/// tens of thousands of distinct ones), pair counts are updated incrementally for just the words a
/// merge touches (found through a pair -> words index), and the best pair comes from a max-heap
/// whose stale entries are skipped when popped.
public enum BPETrainer {
    public static var minimumVocabSize: Int { 256 + SpecialTokens.all.count }

    /// `texts` should already be normalised. Ties between equally frequent pairs go to the
    /// smaller (left id, right id), so training is deterministic.
    public static func train(texts: [String], vocabSize: Int) throws -> BPETokenizer {
        guard vocabSize >= minimumVocabSize else {
            throw DataError.vocabularyTooSmall(requested: vocabSize, minimum: minimumVocabSize)
        }
        let specials = SpecialTokens.all
        var tokenBytes: [[UInt8]] = specials.map { Array($0.utf8) }
        for b in 0..<256 { tokenBytes.append([UInt8(b)]) }
        let byteBase = Int32(specials.count)

        var (words, freqs) = countWords(texts, specials: specials, byteBase: byteBase)
        var pairCount = [UInt64: Int]()
        var pairWords = [UInt64: [Int32]]()
        for (w, word) in words.enumerated() where word.count > 1 {
            for i in 0..<word.count - 1 {
                let key = pairKey(word[i], word[i + 1])
                pairCount[key, default: 0] += freqs[w]
                pairWords[key, default: []].append(Int32(w))
            }
        }
        var heap = PairHeap()
        for (key, count) in pairCount { heap.push(count: count, key: key) }

        var merges: [(Int32, Int32)] = []
        var idOfBytes = [[UInt8]: Int32]()
        for (id, bytes) in tokenBytes.enumerated() where id >= specials.count { idOfBytes[bytes] = Int32(id) }
        var lastVisit = [Int](repeating: -1, count: words.count)
        var changed = Set<UInt64>()

        while tokenBytes.count < vocabSize, let top = heap.pop() {
            guard let current = pairCount[top.key], current == top.count, current > 0 else { continue }
            let a = Int32(truncatingIfNeeded: top.key >> 32), b = Int32(truncatingIfNeeded: top.key & 0xFFFF_FFFF)
            let mergedBytes = tokenBytes[Int(a)] + tokenBytes[Int(b)]
            // Two different merges can spell the same bytes ("ab"+"c", "a"+"bc"): share the id, as
            // Hugging Face does, so the vocabulary has no duplicate strings.
            let newID: Int32
            if let existing = idOfBytes[mergedBytes] {
                newID = existing
            } else {
                newID = Int32(tokenBytes.count)
                tokenBytes.append(mergedBytes)
                idOfBytes[mergedBytes] = newID
            }
            merges.append((a, b))
            changed.removeAll(keepingCapacity: true)
            for w in pairWords.removeValue(forKey: top.key) ?? [] where lastVisit[Int(w)] != merges.count {
                lastVisit[Int(w)] = merges.count
                let f = freqs[Int(w)]
                // Only the pairs next to each merge site change; the merged pair itself goes away whole.
                func adjust(_ key: UInt64, _ delta: Int) {
                    pairCount[key, default: 0] += delta
                    changed.insert(key)
                    if delta > 0 { pairWords[key, default: []].append(w) }
                }
                var word = words[Int(w)]
                var i = 0
                while i + 1 < word.count {
                    guard word[i] == a && word[i + 1] == b else { i += 1; continue }
                    if i > 0 {
                        adjust(pairKey(word[i - 1], a), -f)
                        adjust(pairKey(word[i - 1], newID), f)
                    }
                    word[i] = newID
                    word.remove(at: i + 1)
                    if i + 1 < word.count {
                        adjust(pairKey(b, word[i + 1]), -f)
                        adjust(pairKey(newID, word[i + 1]), f)
                    }
                    i += 1
                }
                words[Int(w)] = word
            }
            pairCount[top.key] = nil
            for key in changed {
                if let c = pairCount[key], c > 0 { heap.push(count: c, key: key) } else { pairCount[key] = nil }
            }
        }
        var specialIDs = [String: Int32]()
        for (i, s) in specials.enumerated() { specialIDs[s] = Int32(i) }
        return try BPETokenizer(tokenBytes: tokenBytes, merges: merges, specialTokens: specialIDs)
    }

    /// Distinct words (as byte-token ids) and how often each occurs; special tokens are cut out
    /// of the text first, exactly as encoding does.
    static func countWords(_ texts: [String], specials: [String], byteBase: Int32) -> ([[Int32]], [Int]) {
        var index = [[UInt8]: Int]()
        var words: [[Int32]] = []
        var freqs: [Int] = []
        let specialBytes = specials.map { Array($0.utf8) }
        for text in texts {
            let bytes = Array(text.utf8)
            bytes.withUnsafeBufferPointer { buf in
                for segment in segmentsOutsideSpecials(buf, specialBytes) {
                    PreTokenizer.forEachWord(in: buf, range: segment) { r in
                        let key = Array(buf[r])
                        if let i = index[key] {
                            freqs[i] += 1
                        } else {
                            index[key] = words.count
                            words.append(key.map { byteBase + Int32($0) })
                            freqs.append(1)
                        }
                    }
                }
            }
        }
        return (words, freqs)
    }

    static func segmentsOutsideSpecials(_ buf: UnsafeBufferPointer<UInt8>, _ specials: [[UInt8]]) -> [Range<Int>] {
        var segments: [Range<Int>] = []
        var start = 0
        var i = 0
        outer: while i < buf.count {
            for s in specials where i + s.count <= buf.count && buf[i] == s[0] {
                if (0..<s.count).allSatisfy({ buf[i + $0] == s[$0] }) {
                    segments.append(start..<i)
                    i += s.count
                    start = i
                    continue outer
                }
            }
            i += 1
        }
        segments.append(start..<buf.count)
        return segments.filter { !$0.isEmpty }
    }

    @inline(__always) static func pairKey(_ a: Int32, _ b: Int32) -> UInt64 {
        UInt64(UInt32(a)) << 32 | UInt64(UInt32(b))
    }
}

/// Max-heap of (count, pair), larger count first, then smaller pair key.
struct PairHeap {
    private var items: [(count: Int, key: UInt64)] = []

    private func above(_ x: (count: Int, key: UInt64), _ y: (count: Int, key: UInt64)) -> Bool {
        x.count != y.count ? x.count > y.count : x.key < y.key
    }

    mutating func push(count: Int, key: UInt64) {
        items.append((count, key))
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if !above(items[i], items[parent]) { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> (count: Int, key: UInt64)? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if items.isEmpty { return top }
        items[0] = last
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var best = i
            if l < items.count && above(items[l], items[best]) { best = l }
            if r < items.count && above(items[r], items[best]) { best = r }
            if best == i { break }
            items.swapAt(i, best)
            i = best
        }
        return top
    }
}
