/// How a flat buffer is split among ranks for a sharded optimiser step (ZeRO stage 1).
///
/// Why: with every rank running the identical AdamW over every parameter, the update (memory
/// bound, ~11 ms for 4 M parameters here) is paid n times over; at small per-rank batches it
/// was the largest scaling loss. Instead the gradient sum is reduce-scattered (each rank gets
/// the total of its own pieces only), each rank updates its pieces, and the parameters are
/// all-gathered: the same bytes on the wire as one all-reduce, 1/n of the update work.
///
/// The buffer is walked in chunks of `chunkElements` (the all-reduce chunking, for the same
/// reason: large single MPI calls collapse here); each chunk is cut into `worldSize` nearly equal
/// consecutive pieces and rank r owns piece r of every chunk.
public final class ShardPlan: Sendable {
    public static let defaultChunkElements = Chunks.defaultBytes / MemoryLayout<Float>.stride

    public let count: Int
    public let worldSize: Int
    public let chunkElements: Int

    public init(count: Int, worldSize: Int, chunkElements: Int = ShardPlan.defaultChunkElements) {
        precondition(worldSize >= 1 && chunkElements >= worldSize, "each chunk needs at least one element per rank")
        self.count = count
        self.worldSize = worldSize
        self.chunkElements = chunkElements
    }

    public var chunks: Chunks { Chunks(count: count, size: chunkElements) }

    /// Rank `rank`'s piece of `chunk`: the remainder goes one element each to the first ranks.
    public func piece(of chunk: Range<Int>, rank: Int) -> Range<Int> {
        let base = chunk.count / worldSize, extra = chunk.count % worldSize
        let start = chunk.lowerBound + rank * base + Swift.min(rank, extra)
        return start..<start + base + (rank < extra ? 1 : 0)
    }

    /// Every piece `rank` owns, in order; together the ranks' pieces tile `0..<count` exactly.
    public func pieces(rank: Int) -> [Range<Int>] {
        chunks.map { piece(of: $0, rank: rank) }.filter { !$0.isEmpty }
    }
}
