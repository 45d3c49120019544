import CMPI
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
    /// Default all-reduce chunk: 1 MiB of payload (`bench allreduce` measured 1-2 MiB as the
    /// fastest here; see `Chunks` for why large single calls are avoided).
    public static let defaultChunkBytes = 1 << 20

    public let rank: Int
    public let worldSize: Int
    /// All-reduces are issued as pieces of at most this many bytes.
    public var chunkBytes: Int

    private let comm: MPI_Comm

    private static let lock = NSLockLike()
    nonisolated(unsafe) private static var instance: MPICommunicator?

    /// The world communicator, initialising MPI (thread level FUNNELED or better) on first use.
    public static func world() throws -> MPICommunicator {
        lock.lock(); defer { lock.unlock() }
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

    private func allReduce<T>(_ buffer: UnsafeMutableBufferPointer<T>, type: MPI_Datatype,
                              op: ReduceOp) throws {
        guard worldSize > 1, let base = buffer.baseAddress else { return }
        let mpiOp: MPI_Op
        switch op {
        case .sum: mpiOp = cmpi_op_sum()
        case .max: mpiOp = cmpi_op_max()
        case .min: mpiOp = cmpi_op_min()
        }
        let elements = max(1, chunkBytes / MemoryLayout<T>.stride)
        for range in Chunks(count: buffer.count, size: elements) {
            let rc = MPI_Allreduce(cmpi_in_place(), base + range.lowerBound, Int32(range.count),
                                   type, mpiOp, comm)
            try check(rc, "MPI_Allreduce(\(range.count) elements at offset \(range.lowerBound))")
        }
    }

    public func reduceScatter(_ buffer: UnsafeMutableBufferPointer<Float>, _ plan: ShardPlan) throws {
        guard worldSize > 1, let base = buffer.baseAddress else { return }
        precondition(plan.count == buffer.count && plan.worldSize == worldSize, "shard plan does not fit the buffer")
        try withPieceCounts(plan) { counts, _ in
            for chunk in plan.chunks {
                fillPieceCounts(plan, chunk, counts, nil)
                // In place, MPI leaves this rank's piece at the start of the chunk; move it home.
                let rc = MPI_Reduce_scatter(cmpi_in_place(), base + chunk.lowerBound, counts, cmpi_float(),
                                            cmpi_op_sum(), comm)
                try check(rc, "MPI_Reduce_scatter(\(chunk.count) elements at offset \(chunk.lowerBound))")
                let mine = plan.piece(of: chunk, rank: rank)
                if mine.lowerBound != chunk.lowerBound {
                    memmove(base + mine.lowerBound, base + chunk.lowerBound, mine.count * MemoryLayout<Float>.stride)
                }
            }
        }
    }

    public func allGather(_ buffer: UnsafeMutableBufferPointer<Float>, _ plan: ShardPlan) throws {
        guard worldSize > 1, let base = buffer.baseAddress else { return }
        precondition(plan.count == buffer.count && plan.worldSize == worldSize, "shard plan does not fit the buffer")
        try withPieceCounts(plan) { counts, offsets in
            for chunk in plan.chunks {
                fillPieceCounts(plan, chunk, counts, offsets)
                let rc = MPI_Allgatherv(cmpi_in_place(), 0, cmpi_float(), base + chunk.lowerBound, counts, offsets,
                                        cmpi_float(), comm)
                try check(rc, "MPI_Allgatherv(\(chunk.count) elements at offset \(chunk.lowerBound))")
            }
        }
    }

    /// Per-rank counts and offsets within one chunk, as MPI's v-collectives want them.
    private func withPieceCounts(_ plan: ShardPlan, _ body: (UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>) throws -> Void) throws {
        try withUnsafeTemporaryAllocation(of: Int32.self, capacity: 2 * worldSize) { scratch in
            try body(scratch.baseAddress!, scratch.baseAddress! + worldSize)
        }
    }

    private func fillPieceCounts(_ plan: ShardPlan, _ chunk: Range<Int>, _ counts: UnsafeMutablePointer<Int32>,
                                 _ offsets: UnsafeMutablePointer<Int32>?) {
        for r in 0..<worldSize {
            let piece = plan.piece(of: chunk, rank: r)
            counts[r] = Int32(piece.count)
            offsets?[r] = Int32(piece.lowerBound - chunk.lowerBound)
        }
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
        fputs(line, stderr)
        fflush(stderr)
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
        return String(cString: buffer)
    }
}

/// A pthread mutex; Foundation's NSLock would pull Foundation into this thin module.
private final class NSLockLike: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    func lock() { pthread_mutex_lock(&mutex) }
    func unlock() { pthread_mutex_unlock(&mutex) }
}
