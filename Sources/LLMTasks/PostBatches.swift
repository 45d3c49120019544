import LLMSupport
import LLMModel

/// Which posts make each global batch, and how a rank runs its share.
///
/// The global batch is a fixed set of posts whatever the world size: positions
/// step * G ..< (step + 1) * G of an endless stream that visits the train posts once per epoch in
/// a seeded random order, so the data order is a pure function of (seed, step) and resuming
/// needs no loader state. Rank r takes the r-th contiguous slice; it sorts its posts by length
/// and runs them in micro-batches padded to their own longest, which keeps padding low.
public struct PostBatches {
    let count: Int
    let globalBatch: Int
    let seed: UInt64
    private var permutations: [Int: [Int]] = [:]

    init(count: Int, globalBatch: Int, seed: UInt64) {
        self.count = count
        self.globalBatch = globalBatch
        self.seed = seed
    }

    /// Indices of the posts of global batch `step`, in stream order.
    mutating func batch(step: Int) -> [Int] {
        (step * globalBatch..<(step + 1) * globalBatch).map { position in
            let epoch = position / count
            if permutations[epoch] == nil {
                if permutations.count > 2 { permutations.removeAll() }
                permutations[epoch] = Self.permutation(count: count, seed: seed, epoch: epoch)
            }
            return permutations[epoch]![position % count]
        }
    }

    /// Fisher-Yates with a generator seeded per epoch.
    static func permutation(count: Int, seed: UInt64, epoch: Int) -> [Int] {
        var rng = SplitMix64(seed: seed ^ (UInt64(epoch + 1) &* 0x9E37_79B9_7F4A_7C15))
        var order = Array(0..<count)
        for i in stride(from: count - 1, to: 0, by: -1) {
            order.swapAt(i, Int(rng.next() % UInt64(i + 1)))
        }
        return order
    }

    /// `indices` sorted by post length (ties by index), cut into micro-batches of at most `size`.
    public static func microBatches(_ indices: [Int], lengths: (Int) -> Int, size: Int) -> [[Int]] {
        let sorted = indices.sorted { (lengths($0), $0) < (lengths($1), $1) }
        return stride(from: 0, to: sorted.count, by: size).map { Array(sorted[$0..<min($0 + size, sorted.count)]) }
    }
}
