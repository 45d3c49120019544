/// Splits `0..<count` into consecutive ranges of at most `size` elements (the last may be
/// shorter; none for an empty buffer).
///
/// Why: on these machines one Open MPI all-reduce above ~8 MB collapses to ~2 GB/s (kernel page
/// faults and CMA copies inside the library), while the same bytes reduced as 1-2 MB pieces hold
/// ~5.5 GB/s. MPI counts are also `Int32`, so buffers beyond 2^31 elements must be split anyway:
/// `size` is clamped to `Int32.max`.
public struct Chunks: Sequence, Sendable {
    /// The collectives' default chunk: 1 MiB of payload (`bench allreduce` measured 1-2 MiB as
    /// the fastest here).
    public static let defaultBytes = 1 << 20

    public let count: Int
    public let size: Int

    public init(count: Int, size: Int) {
        precondition(count >= 0, "negative element count \(count)")
        precondition(size > 0, "chunk size must be positive, got \(size)")
        self.count = count
        self.size = Swift.min(size, Int(Int32.max))
    }

    public func makeIterator() -> Iterator { Iterator(count: count, size: size, start: 0) }

    public struct Iterator: IteratorProtocol, Sendable {
        let count: Int, size: Int
        var start: Int
        public mutating func next() -> Range<Int>? {
            guard start < count else { return nil }
            let end = start + Swift.min(size, count - start)
            defer { start = end }
            return start..<end
        }
    }

    public var underestimatedCount: Int { count == 0 ? 0 : (count - 1) / size + 1 }
}
