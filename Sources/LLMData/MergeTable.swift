/// Open-addressing hash map (left id, right id) -> (rank, merged id). Encoding looks a pair up
/// for every adjacent symbol pair, and Swift's Dictionary (SipHash) made those lookups most of the
/// encode time; a multiplicative hash over a power-of-two table is several times faster.
struct MergeTable {
    private var keys: [UInt64]
    private var values: [UInt64]
    private let mask: Int
    private static let empty = UInt64.max

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = [UInt64](repeating: MergeTable.empty, count: size)
        values = [UInt64](repeating: 0, count: size)
        mask = size - 1
    }

    @inline(__always) static func key(_ a: Int32, _ b: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
    }

    @inline(__always) private func slot(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    /// Keeps the first (lowest-rank) entry when a pair is inserted twice.
    mutating func insertIfAbsent(_ key: UInt64, rank: Int32, id: Int32) {
        var i = slot(key)
        while keys[i] != MergeTable.empty {
            if keys[i] == key { return }
            i = (i + 1) & mask
        }
        keys[i] = key
        values[i] = UInt64(UInt32(bitPattern: rank)) << 32 | UInt64(UInt32(bitPattern: id))
    }

    @inline(__always) func lookup(_ key: UInt64) -> (rank: Int32, id: Int32)? {
        var i = slot(key)
        while true {
            let k = keys[i]
            if k == key {
                let v = values[i]
                return (Int32(truncatingIfNeeded: v >> 32), Int32(truncatingIfNeeded: v))
            }
            if k == MergeTable.empty { return nil }
            i = (i + 1) & mask
        }
    }
}
