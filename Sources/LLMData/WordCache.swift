import LLMSupport
/// Word bytes -> token ids, for the encoder. Posts repeat the same words endlessly, so most
/// words are looked up, not merged. A Dictionary keyed by byte slices hashed every byte through
/// SipHash (`Hasher.combine(UInt8)`), which cost as much as merging; this table hashes with
/// FNV-1a and stores keys and ids in two flat arenas, with no allocation per entry.
struct WordCache {
    private struct Slot {
        var hash: UInt64 = 0
        var keyStart: Int32 = -1
        var keyLength: Int32 = 0
        var idsStart: Int32 = 0
        var idsLength: Int32 = 0
    }

    private var slots: [Slot]
    private var keys: [UInt8] = []
    private var ids: [Int32] = []
    private var used = 0
    private let mask: Int
    /// Cleared when full: a bounded memory cost even on endless distinct input.
    private let maxEntries: Int

    init(slotCount: Int = 1 << 18) {
        slots = [Slot](repeating: Slot(), count: slotCount)
        mask = slotCount - 1
        maxEntries = slotCount / 2
    }

    @inline(__always) static func hash(_ buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> UInt64 {
        fnv1a64(UnsafeBufferPointer(rebasing: buf[range]))
    }

    /// Appends the cached ids of `buf[range]` to `out`; false when the word is not cached.
    func append(_ buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, hash: UInt64, to out: inout [Int32]) -> Bool {
        var i = Int(truncatingIfNeeded: hash) & mask
        while true {
            let slot = slots[i]
            if slot.keyStart < 0 { return false }
            if slot.hash == hash && Int(slot.keyLength) == range.count && sameBytes(slot, buf, range) {
                let start = Int(slot.idsStart)
                out.append(contentsOf: ids[start..<start + Int(slot.idsLength)])
                return true
            }
            i = (i + 1) & mask
        }
    }

    mutating func insert(_ buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, hash: UInt64, ids wordIDs: [Int32]) {
        if used >= maxEntries || keys.count + range.count >= Int(Int32.max) || ids.count + wordIDs.count >= Int(Int32.max) {
            slots = [Slot](repeating: Slot(), count: slots.count)
            keys.removeAll(keepingCapacity: true)
            ids.removeAll(keepingCapacity: true)
            used = 0
        }
        var i = Int(truncatingIfNeeded: hash) & mask
        while slots[i].keyStart >= 0 { i = (i + 1) & mask }
        slots[i] = Slot(hash: hash, keyStart: Int32(keys.count), keyLength: Int32(range.count),
                        idsStart: Int32(ids.count), idsLength: Int32(wordIDs.count))
        keys.append(contentsOf: buf[range])
        ids.append(contentsOf: wordIDs)
        used += 1
    }

    @inline(__always) private func sameBytes(_ slot: Slot, _ buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        var k = Int(slot.keyStart)
        for i in range {
            if keys[k] != buf[i] { return false }
            k += 1
        }
        return true
    }
}
