import CMPI
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// An MPI call that returned an error code, with the rank it happened on.
public struct MPIError: Error, CustomStringConvertible {
    public let call: String
    public let rank: Int
    public let code: Int32
    public let message: String
    public var description: String { "rank \(rank): \(call) failed (MPI error \(code)): \(message)" }
}

/// `Communicator` over `MPI_COMM_WORLD`.
///
/// MPI can be initialised once per process and never again after `MPI_Finalize`, and test
/// runners host many tests in one process, so the communicator is a process-wide singleton:
/// `MPICommunicator.world()` initialises on first use and registers `MPI_Finalize` at exit.
public final class MPICommunicator: Communicator {
    public static let defaultChunkBytes = Chunks.defaultBytes

    public let rank: Int
    public let worldSize: Int
    /// All-reduces are issued as pieces of at most this many bytes.
    public var chunkBytes: Int

    private let comm: MPI_Comm

    /// Guards `instance`: tests may ask for the world from several threads at once.
    private static let lock = Mutex(())
    nonisolated(unsafe) private static var instance: MPICommunicator?

    /// The world communicator, initialising MPI (thread level FUNNELED or better) on first use.
    public static func world() throws -> MPICommunicator {
        try lock.withLock { _ in try initializeOnce() }
    }

    /// `world()`'s work, under `lock`.
    private static func initializeOnce() throws -> MPICommunicator {
        if let instance { return instance }
        var finalized: Int32 = 0
        MPI_Finalized(&finalized)
        if finalized != 0 {
            throw MPIError(call: "MPI_Init_thread", rank: -1, code: -1,
                           message: "MPI was already finalised in this process and cannot be restarted")
        }
        var initialized: Int32 = 0
        MPI_Initialized(&initialized)
        if initialized == 0 {
            var provided: Int32 = 0
            let rc = MPI_Init_thread(nil, nil, Int32(MPI_THREAD_FUNNELED), &provided)
            guard rc == MPI_SUCCESS else {
                throw MPIError(call: "MPI_Init_thread", rank: -1, code: rc, message: errorString(rc))
            }
            guard provided >= Int32(MPI_THREAD_FUNNELED) else {
                throw MPIError(call: "MPI_Init_thread", rank: -1, code: provided,
                               message: "MPI granted thread level \(provided); FUNNELED (1) or better is required")
            }
            atexit {
                var done: Int32 = 0
                MPI_Finalized(&done)
                if done == 0 { MPI_Finalize() }
            }
        }
        let comm: MPI_Comm = cmpi_comm_world()!
        // Return error codes instead of MPI's default of aborting silently, so a failed call
        // becomes a Swift error that names the rank and the call.
        MPI_Comm_set_errhandler(comm, cmpi_errors_return())
        var rank: Int32 = 0, size: Int32 = 0
        MPI_Comm_rank(comm, &rank)
        MPI_Comm_size(comm, &size)
        let world = MPICommunicator(comm: comm, rank: Int(rank), worldSize: Int(size))
        instance = world
        return world
    }

    private init(comm: MPI_Comm, rank: Int, worldSize: Int) {
        self.comm = comm
        self.rank = rank
        self.worldSize = worldSize
        self.chunkBytes = Self.defaultChunkBytes
    }

    public func allReduce(_ buffer: UnsafeMutableBufferPointer<Float>, _ op: ReduceOp) throws {
        try allReduce(buffer, type: cmpi_float(), op: op)
    }

    public func allReduce(_ buffer: UnsafeMutableBufferPointer<Double>, _ op: ReduceOp) throws {
        try allReduce(buffer, type: cmpi_double(), op: op)
    }

    private func allReduce<T: BinaryFloatingPoint>(_ buffer: UnsafeMutableBufferPointer<T>, type: MPI_Datatype,
                                                   op: ReduceOp) throws {
        guard worldSize > 1, let base = buffer.baseAddress else { return }
        let mpiOp: MPI_Op
        switch op {
        case .sum, .average: mpiOp = cmpi_op_sum()
        case .max: mpiOp = cmpi_op_max()
        case .min: mpiOp = cmpi_op_min()
        }
        let elements = max(1, chunkBytes / MemoryLayout<T>.stride)
        let scale = 1 / T(worldSize)
        for range in Chunks(count: buffer.count, size: elements) {
            let rc = MPI_Allreduce(cmpi_in_place(), base + range.lowerBound, Int32(range.count),
                                   type, mpiOp, comm)
            try check(rc, "MPI_Allreduce(\(range.count) elements at offset \(range.lowerBound))")
            if op == .average { for k in range { base[k] *= scale } }
        }
    }

    // Reduce-scatter and all-gather are rings of MPI_Sendrecv over each chunk's pieces, the
    // bandwidth-optimal schedule: every rank sends and receives (n-1)/n of a chunk per phase,
    // both directions at once. Open MPI's own MPI_Reduce_scatter / MPI_Allgatherv moved the
    // same bytes ~1.7x slower here (bench allreduce, sharded column).

    public func reduceScatter(_ buffer: UnsafeMutableBufferPointer<Float>, _ plan: ShardPlan, _ op: ReduceOp) throws {
        precondition(op == .sum || op == .average, "reduce-scatter sums or averages, not \(op)")
        guard worldSize > 1, let base = buffer.baseAddress else { return }
        precondition(plan.count == buffer.count && plan.worldSize == worldSize, "shard plan does not fit the buffer")
        let incoming = scratch(capacity: plan.chunkElements / worldSize + 1)
        if let shared = sharedWindow(of: buffer) {
            return try reduceScatterInPlace(shared, plan, average: op == .average, partial: incoming)
        }
        let scale = 1 / Float(worldSize)
        for chunk in plan.chunks {
            // Step s passes the partial sum of piece (r - s - 1) on to the next rank and adds
            // the previous rank's partial sum of piece (r - s - 2); after n - 1 steps piece r
            // holds the total of every rank. An average scales it in that last addition.
            for s in 0..<(worldSize - 1) {
                let send = plan.piece(of: chunk, rank: ringIndex(rank - s - 1))
                let receive = plan.piece(of: chunk, rank: ringIndex(rank - s - 2))
                try exchange(send: base + send.lowerBound, send.count, receive: incoming, receive.count,
                             what: "reduce-scatter of \(chunk.count) elements at offset \(chunk.lowerBound)")
                let target = base + receive.lowerBound
                if op == .average && s == worldSize - 2 {
                    for k in 0..<receive.count { target[k] = (target[k] + incoming[k]) * scale }
                } else {
                    for k in 0..<receive.count { target[k] += incoming[k] }
                }
            }
        }
    }

    public func allGather(_ buffer: UnsafeMutableBufferPointer<Float>, _ plan: ShardPlan) throws {
        guard worldSize > 1, let base = buffer.baseAddress else { return }
        precondition(plan.count == buffer.count && plan.worldSize == worldSize, "shard plan does not fit the buffer")
        if let shared = sharedWindow(of: buffer) {
            try synchronize(shared)
            for chunk in plan.chunks {
                for q in 0..<worldSize where q != rank {
                    let piece = plan.piece(of: chunk, rank: q)
                    (base + piece.lowerBound).update(from: shared.ranks[q] + piece.lowerBound, count: piece.count)
                }
            }
            return try synchronize(shared)  // the owners change their pieces only once every copy is made
        }
        for chunk in plan.chunks {
            // Step s forwards piece (r - s), received complete one step earlier (or owned).
            for s in 0..<(worldSize - 1) {
                let send = plan.piece(of: chunk, rank: ringIndex(rank - s))
                let receive = plan.piece(of: chunk, rank: ringIndex(rank - s - 1))
                try exchange(send: base + send.lowerBound, send.count, receive: base + receive.lowerBound, receive.count,
                             what: "all-gather of \(chunk.count) elements at offset \(chunk.lowerBound)")
            }
        }
    }

    private func ringIndex(_ i: Int) -> Int { ((i % worldSize) + worldSize) % worldSize }

    // MARK: One host's shared memory
    //
    // With every rank on one host, a buffer in an MPI shared-memory window is reduce-scattered
    // and all-gathered by plain loads from the other ranks' copies: no messages, no kernel copy
    // (CMA) into a scratch buffer, no pinning of pages. A C harness of bench-ii's reduce-scatter
    // (13.9M floats, n=2, Zen 5) ran 2.2-2.3x faster this way than the ring of MPI_Sendrecv.

    /// This rank's part of an `MPI_Win_allocate_shared` window, and every rank's part.
    private struct SharedWindow {
        let window: MPI_Win
        let mine: UnsafeMutableBufferPointer<Float>
        let ranks: [UnsafeMutablePointer<Float>]
    }

    private var sharedWindows: [SharedWindow] = []
    /// Whether every rank runs on this host (MPI_COMM_TYPE_SHARED spans the world); nil until asked.
    private var worldSharesMemory: Bool?

    public func sharedFloats(count: Int) throws -> UnsafeMutableBufferPointer<Float>? {
        guard worldSize > 1, count > 0 else { return nil }
        if worldSharesMemory == nil {
            var host: MPI_Comm?
            try check(MPI_Comm_split_type(comm, cmpi_comm_type_shared(), Int32(rank), cmpi_info_null(), &host),
                      "MPI_Comm_split_type(MPI_COMM_TYPE_SHARED)")
            var size: Int32 = 0
            MPI_Comm_size(host, &size)
            MPI_Comm_free(&host)
            worldSharesMemory = Int(size) == worldSize
        }
        guard worldSharesMemory == true else { return nil }
        // Whole pages per rank: no two ranks' floats share a cache line.
        let bytes = (count * MemoryLayout<Float>.stride + 4095) & ~4095
        // Open MPI backs the window with a file in /dev/shm. A tmpfs without room for it fails a
        // page fault later (SIGBUS), not this call, and containers often give /dev/shm 64 MB: so
        // the window is made only when every rank sees room for it, else the rings serve.
        let room = try allReduce([MPICommunicator.freeBytes(at: MPICommunicator.sharedMemoryDirectory)], .min)[0]
        guard room >= Double(bytes * worldSize) * 1.25 else { return nil }
        var base: UnsafeMutableRawPointer?
        var window: MPI_Win?
        try check(MPI_Win_allocate_shared(MPI_Aint(bytes), 4, cmpi_info_null(), comm, &base, &window),
                  "MPI_Win_allocate_shared(\(bytes) bytes)")
        var ranks: [UnsafeMutablePointer<Float>] = []
        for q in 0..<worldSize {
            var size: MPI_Aint = 0, unit: Int32 = 0
            var pointer: UnsafeMutableRawPointer?
            try check(MPI_Win_shared_query(window, Int32(q), &size, &unit, &pointer), "MPI_Win_shared_query(rank \(q))")
            ranks.append(pointer!.assumingMemoryBound(to: Float.self))
        }
        // One passive epoch for the window's life; `synchronize` orders the accesses within it.
        try check(MPI_Win_lock_all(Int32(cmpi_mode_nocheck()), window), "MPI_Win_lock_all")
        let mine = UnsafeMutableBufferPointer(start: ranks[rank], count: count)
        mine.initialize(repeating: 0)  // first touch by the owner
        sharedWindows.append(SharedWindow(window: window!, mine: mine, ranks: ranks))
        return mine
    }

    /// Where Open MPI's shared-memory windows keep their backing files (its osc/sm component).
    static let sharedMemoryDirectory = "/dev/shm"

    /// Bytes free to an unprivileged writer in the file system holding `path` (0 if it cannot be read).
    static func freeBytes(at path: String) -> Double {
        var stats = statvfs()
        guard statvfs(path, &stats) == 0 else { return 0 }
        return Double(stats.f_bavail) * Double(stats.f_frsize)
    }

    private func sharedWindow(of buffer: UnsafeMutableBufferPointer<Float>) -> SharedWindow? {
        sharedWindows.first { $0.mine.baseAddress == buffer.baseAddress && $0.mine.count == buffer.count }
    }

    /// Every rank's writes to the window so far are visible to every rank (MPI's unified
    /// memory model: a memory barrier, a barrier, a memory barrier).
    private func synchronize(_ shared: SharedWindow) throws {
        try check(MPI_Win_sync(shared.window), "MPI_Win_sync")
        try check(MPI_Barrier(comm), "MPI_Barrier")
        try check(MPI_Win_sync(shared.window), "MPI_Win_sync")
    }

    /// Each rank totals its own pieces from every rank's copy, adding in the ring's order: piece r
    /// starts from rank r+1's values, adds r+2's, ..., and rank r's own last. Floating-point
    /// addition is commutative but not associative, so the same grouping gives the ring's bits
    /// (a host's ranks and ranks across hosts train identically).
    private func reduceScatterInPlace(_ shared: SharedWindow, _ plan: ShardPlan, average: Bool,
                                      partial: UnsafeMutablePointer<Float>) throws {
        try synchronize(shared)
        let scale = 1 / Float(worldSize), mine = shared.mine.baseAddress!
        for chunk in plan.chunks {
            let piece = plan.piece(of: chunk, rank: rank), count = piece.count
            let own = mine + piece.lowerBound
            var others = UnsafePointer(shared.ranks[ringIndex(rank + 1)] + piece.lowerBound)
            if worldSize > 2 {
                partial.update(from: others, count: count)
                for q in 2..<worldSize {
                    let next = shared.ranks[ringIndex(rank + q)] + piece.lowerBound
                    for k in 0..<count { partial[k] = next[k] + partial[k] }
                }
                others = UnsafePointer(partial)
            }
            if average {
                for k in 0..<count { own[k] = (own[k] + others[k]) * scale }
            } else {
                for k in 0..<count { own[k] += others[k] }
            }
        }
        try synchronize(shared)  // the others have read this rank's copy before it changes again
    }

    /// Sends to the next rank and receives from the previous one, at once.
    private func exchange(send: UnsafeMutablePointer<Float>, _ sendCount: Int, receive: UnsafeMutablePointer<Float>,
                          _ receiveCount: Int, what: @autoclosure () -> String) throws {
        let next = Int32(ringIndex(rank + 1)), previous = Int32(ringIndex(rank - 1))
        let rc = MPI_Sendrecv(send, Int32(sendCount), cmpi_float(), next, 0,
                              receive, Int32(receiveCount), cmpi_float(), previous, 0, comm, cmpi_status_ignore())
        try check(rc, "MPI_Sendrecv (\(what()))")
    }

    /// A receive buffer reused by every reduce-scatter (allocated once, grown only if needed).
    private var scratchBuffer = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)

    private func scratch(capacity: Int) -> UnsafeMutablePointer<Float> {
        if scratchBuffer.count < capacity {
            scratchBuffer.deallocate()
            scratchBuffer = .allocate(capacity: capacity)
            scratchBuffer.initialize(repeating: 0)
        }
        return scratchBuffer.baseAddress!
    }

    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {
        guard let base = buffer.baseAddress else { return }
        for range in Chunks(count: buffer.count, size: chunkBytes) {
            let rc = MPI_Bcast(base + range.lowerBound, Int32(range.count), cmpi_byte(), Int32(root), comm)
            try check(rc, "MPI_Bcast(\(range.count) bytes from root \(root))")
        }
    }

    public func allGather(_ values: [Double]) throws -> [Double] {
        var result = [Double](repeating: 0, count: values.count * worldSize)
        let rc = values.withUnsafeBufferPointer { send in
            result.withUnsafeMutableBufferPointer { recv in
                MPI_Allgather(send.baseAddress, Int32(values.count), cmpi_double(),
                              recv.baseAddress, Int32(values.count), cmpi_double(), comm)
            }
        }
        try check(rc, "MPI_Allgather(\(values.count) doubles)")
        return result
    }

    public func barrier() throws {
        try check(MPI_Barrier(comm), "MPI_Barrier")
    }

    public func abort(_ message: String) -> Never {
        let line = "swift-llm-train: rank \(rank) of \(worldSize): \(message)\n"
        FileHandle.standardError.write(Data(line.utf8))
        MPI_Abort(comm, 1)
        exit(1)  // MPI_Abort does not return; this satisfies the type checker.
    }

    private func check(_ rc: Int32, _ call: @autoclosure () -> String) throws {
        guard rc != MPI_SUCCESS else { return }
        throw MPIError(call: call(), rank: rank, code: rc, message: Self.errorString(rc))
    }

    private static func errorString(_ rc: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: Int(MPI_MAX_ERROR_STRING) + 1)
        var length: Int32 = 0
        MPI_Error_string(rc, &buffer, &length)
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}

/// A pthread mutex; Foundation's NSLock would pull Foundation into this thin module.
