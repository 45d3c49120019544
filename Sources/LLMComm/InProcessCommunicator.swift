import Foundation

/// Several ranks as threads of one process: the `Communicator` for unit tests of the trainer,
/// checkpointing and resume at world sizes above 1 without `mpirun` (the end-to-end tests still
/// run the real binary under `mpirun`).
///
/// Every collective is the same three phases: each rank publishes its buffer's address, all
/// meet, each computes its result from the published buffers into its own scratch, all meet
/// again (nobody reads a buffer any more), each writes its result. Reductions add the ranks'
/// values in rank order, so every rank gets the identical total (an order MPI does not promise;
/// tests compare against `mpirun` results with a tolerance). If one rank's thread throws, the
/// others' next collective throws too instead of waiting for it forever.
public final class InProcessCommunicator: Communicator {
    public let rank: Int
    public var worldSize: Int { group.size }
    private let group: Group
    private var floatScratch: [Float] = [], doubleScratch: [Double] = []

    /// Runs `body` once per rank, each on its own thread with its own communicator, and waits
    /// for all; rethrows the first rank's error (by rank order) if any failed.
    public static func run(worldSize: Int, _ body: @escaping @Sendable (InProcessCommunicator) throws -> Void) throws {
        precondition(worldSize >= 1, "world size must be at least 1")
        let group = Group(size: worldSize)
        let errors = ErrorSlots(count: worldSize)
        let threads = (0..<worldSize).map { rank in
            Thread {
                let comm = InProcessCommunicator(rank: rank, group: group)
                do { try body(comm) } catch {
                    errors.set(rank, error)
                    group.fail(rank: rank)
                }
                group.finished()
            }
        }
        threads.forEach { $0.stackSize = 8 << 20; $0.start() }
        group.waitUntilAllFinished()
        if let (rank, error) = errors.first { throw RankError(rank: rank, underlying: error) }
    }

    /// A rank's error as `run` rethrows it, naming the rank.
    public struct RankError: Error, CustomStringConvertible {
        public let rank: Int
        public let underlying: Error
        public var description: String { "rank \(rank): \(underlying)" }
    }

    private init(rank: Int, group: Group) {
        self.rank = rank
        self.group = group
    }

    public func allReduce(_ buffer: UnsafeMutableBufferPointer<Float>, _ op: ReduceOp) throws {
        try reduce(buffer, op, ranges: [0..<buffer.count], scratch: &floatScratch)
    }

    public func allReduce(_ buffer: UnsafeMutableBufferPointer<Double>, _ op: ReduceOp) throws {
        try reduce(buffer, op, ranges: [0..<buffer.count], scratch: &doubleScratch)
    }

    public func reduceScatter(_ buffer: UnsafeMutableBufferPointer<Float>, _ plan: ShardPlan, _ op: ReduceOp) throws {
        precondition(op == .sum || op == .average, "reduce-scatter sums or averages, not \(op)")
        precondition(plan.count == buffer.count && plan.worldSize == worldSize, "shard plan does not fit the buffer")
        try reduce(buffer, op, ranges: plan.pieces(rank: rank), scratch: &floatScratch)
    }

    public func allGather(_ buffer: UnsafeMutableBufferPointer<Float>, _ plan: ShardPlan) throws {
        precondition(plan.count == buffer.count && plan.worldSize == worldSize, "shard plan does not fit the buffer")
        let published = try group.exchange(rank: rank, UnsafeMutableRawPointer(buffer.baseAddress))
        // Each rank writes only pieces it does not own; others read only the owner's piece.
        for q in 0..<worldSize where q != rank {
            let owner = published[q]!.assumingMemoryBound(to: Float.self)
            for piece in plan.pieces(rank: q) {
                (buffer.baseAddress! + piece.lowerBound).update(from: owner + piece.lowerBound, count: piece.count)
            }
        }
        try group.meet()
    }

    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {
        let published = try group.exchange(rank: rank, buffer.baseAddress)
        if rank != root, buffer.count > 0 { buffer.baseAddress!.copyMemory(from: published[root]!, byteCount: buffer.count) }
        try group.meet()
    }

    public func allGather(_ values: [Double]) throws -> [Double] {
        guard !values.isEmpty else { return [] }  // every rank passes the same count
        var values = values
        return try values.withUnsafeMutableBufferPointer { mine in
            let published = try group.exchange(rank: rank, UnsafeMutableRawPointer(mine.baseAddress))
            let result = (0..<worldSize).flatMap { q in
                Array(UnsafeBufferPointer(start: published[q]!.assumingMemoryBound(to: Double.self), count: mine.count))
            }
            try group.meet()
            return result
        }
    }

    public func barrier() throws {
        try group.meet()
    }

    public func abort(_ message: String) -> Never {
        FileHandle.standardError.write(Data("swift-llm-train: rank \(rank) of \(worldSize) (in-process): \(message)\n".utf8))
        exit(1)
    }

    /// The totals of `ranges` (rank order) into this rank's buffer; the rest is left as it was.
    private func reduce<T: BinaryFloatingPoint>(_ buffer: UnsafeMutableBufferPointer<T>, _ op: ReduceOp,
                                                ranges: [Range<Int>], scratch: inout [T]) throws {
        let published = try group.exchange(rank: rank, UnsafeMutableRawPointer(buffer.baseAddress))
        let total = ranges.reduce(0) { $0 + $1.count }
        if scratch.count < total { scratch = [T](repeating: 0, count: total) }
        var cursor = 0
        for range in ranges {
            for q in 0..<worldSize {
                let other = published[q]!.assumingMemoryBound(to: T.self)
                for (j, i) in range.enumerated() {
                    scratch[cursor + j] = q == 0 ? other[i] : combine(scratch[cursor + j], other[i], op)
                }
            }
            cursor += range.count
        }
        if op == .average && worldSize > 1 {
            let scale = 1 / T(worldSize)
            for j in 0..<total { scratch[j] *= scale }
        }
        try group.meet()
        cursor = 0
        for range in ranges {
            for (j, i) in range.enumerated() { buffer[i] = scratch[cursor + j] }
            cursor += range.count
        }
    }

    private func combine<T: FloatingPoint>(_ a: T, _ b: T, _ op: ReduceOp) -> T {
        switch op {
        case .sum, .average: a + b
        case .max: Swift.max(a, b)
        case .min: Swift.min(a, b)
        }
    }

    /// The ranks' meeting point: a reusable barrier with a slot per rank for published addresses.
    private final class Group: @unchecked Sendable {
        let size: Int
        private let condition = NSCondition()
        private var arrived = 0, generation = 0, running: Int
        private var failedRank: Int?
        private var slots: [UnsafeMutableRawPointer?]

        init(size: Int) {
            self.size = size
            running = size
            slots = Array(repeating: nil, count: size)
        }

        /// Publishes `pointer` for `rank` and returns every rank's, once all have published.
        func exchange(rank: Int, _ pointer: UnsafeMutableRawPointer?) throws -> [UnsafeMutableRawPointer?] {
            condition.lock()
            slots[rank] = pointer
            condition.unlock()
            try meet()
            condition.lock()
            defer { condition.unlock() }
            return slots
        }

        func meet() throws {
            condition.lock()
            defer { condition.unlock() }
            if let failedRank { throw PeerFailure(rank: failedRank) }
            let mine = generation
            arrived += 1
            if arrived == size {
                arrived = 0
                generation += 1
                condition.broadcast()
                return
            }
            while generation == mine && failedRank == nil { condition.wait() }
            if generation == mine, let failedRank { throw PeerFailure(rank: failedRank) }
        }

        func fail(rank: Int) {
            condition.lock()
            if failedRank == nil { failedRank = rank }
            condition.broadcast()
            condition.unlock()
        }

        func finished() {
            condition.lock()
            running -= 1
            condition.broadcast()
            condition.unlock()
        }

        func waitUntilAllFinished() {
            condition.lock()
            while running > 0 { condition.wait() }
            condition.unlock()
        }
    }

    /// What a rank's collective throws when another rank's thread has failed.
    public struct PeerFailure: Error, CustomStringConvertible {
        public let rank: Int
        public var description: String { "rank \(rank) failed, so this collective cannot complete" }
    }

    private final class ErrorSlots: @unchecked Sendable {
        private let lock = NSLock()
        private var errors: [Error?]
        init(count: Int) { errors = Array(repeating: nil, count: count) }
        func set(_ rank: Int, _ error: Error) { lock.lock(); errors[rank] = error; lock.unlock() }
        /// The failing rank with the lowest number, preferring a real cause over a knock-on failure.
        var first: (Int, Error)? {
            lock.lock(); defer { lock.unlock() }
            let failed = errors.enumerated().compactMap { rank, error in error.map { (rank, $0) } }
            return failed.first { !($0.1 is PeerFailure) } ?? failed.first
        }
    }
}
