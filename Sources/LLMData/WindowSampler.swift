import LLMSupport
/// (input, target) windows over a token file in a seeded, epoch-wise shuffled global order.
///
/// The stream is cut into `windowCount` non-overlapping windows of `sequenceLength + 1` tokens
/// (stride `sequenceLength`; the target is the input shifted by one). Global sample `g` is
/// window `perm_e[g mod W]` with epoch `e = g / W` and `perm_e` a Fisher-Yates permutation from
/// (seed, e). The loader's whole position is therefore one integer: the trainer gives rank r of
/// n its slice of each global batch by index, and a checkpoint resumes at any world size.
///
/// One sampler per thread: `fill` replaces the cached permutation when the epoch changes.
public final class WindowSampler: @unchecked Sendable {
    public let tokens: TokenFile
    public let sequenceLength: Int
    public let seed: UInt64
    public let windowCount: Int
    private var permutation: [Int32]
    private var permutationEpoch = -1

    public init(tokens: TokenFile, sequenceLength: Int, seed: UInt64) throws {
        precondition(sequenceLength > 0, "sequence length must be positive")
        guard tokens.count >= sequenceLength + 1 else {
            throw DataError.tooFewTokens(path: tokens.url.path, count: tokens.count, needed: sequenceLength + 1)
        }
        self.tokens = tokens
        self.sequenceLength = sequenceLength
        self.seed = seed
        windowCount = (tokens.count - 1) / sequenceLength
        permutation = [Int32](repeating: 0, count: windowCount)
    }

    /// Writes sample `g`'s `sequenceLength` inputs and targets. Allocates nothing; the
    /// permutation is recomputed in place only when the epoch changes.
    public func fill(sample g: Int, inputs: UnsafeMutablePointer<Int32>, targets: UnsafeMutablePointer<Int32>) {
        precondition(g >= 0, "negative sample index \(g)")
        let epoch = g / windowCount
        if epoch != permutationEpoch { shuffle(epoch: epoch) }
        let start = Int(permutation[g % windowCount]) * sequenceLength
        for t in 0..<sequenceLength {
            inputs[t] = tokens[start + t]
            targets[t] = tokens[start + t + 1]
        }
    }

    private func shuffle(epoch: Int) {
        // SplitMix64: portable, so every machine sees the same order.
        var rng = SplitMix64(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
        for i in 0..<windowCount { permutation[i] = Int32(i) }
        var i = windowCount - 1
        while i > 0 {
            let j = Int(bounded(UInt64(i + 1)) { rng.next() })
            permutation.swapAt(i, j)
            i -= 1
        }
        permutationEpoch = epoch
    }

    /// Uniform in 0..<n by rejection (plain `% n` would favour small values slightly).
    private func bounded(_ n: UInt64, _ next: () -> UInt64) -> UInt64 {
        let limit = UInt64.max - UInt64.max % n
        while true {
            let x = next()
            if x < limit { return x % n }
        }
    }
}
