/// What the trainer needs from a collective-communication layer, and nothing more.
///
/// The model knows nothing of this protocol; the trainer talks to it. `MPICommunicator` is the
/// implementation: under `mpirun` it spans every rank, and started without `mpirun` it is an MPI
/// singleton of world size 1 — the single-process debug mode runs the very same code path.
public protocol Communicator: AnyObject {
    /// This process's rank in `0..<worldSize`. Rank 0 is the coordinator.
    var rank: Int { get }
    var worldSize: Int { get }

    /// In-place element-wise reduction across all ranks; every rank receives the result.
    func allReduce(_ buffer: UnsafeMutableBufferPointer<Float>, _ op: ReduceOp) throws
    func allReduce(_ buffer: UnsafeMutableBufferPointer<Double>, _ op: ReduceOp) throws

    /// Reduces `buffer` across ranks (`op` is `.sum` or `.average`), but only this rank's pieces
    /// of `plan` receive their results; the rest of `buffer` is left undefined.
    func reduceScatter(_ buffer: UnsafeMutableBufferPointer<Float>, _ plan: ShardPlan, _ op: ReduceOp) throws

    /// Fills every rank's `buffer` with each piece of `plan` as its owner holds it.
    func allGather(_ buffer: UnsafeMutableBufferPointer<Float>, _ plan: ShardPlan) throws

    /// Collective: `count` floats of this rank's (zeroed) in memory every rank of this host can
    /// read, or nil where the ranks do not all share one host (or there is one rank). A buffer
    /// from here is reduce-scattered and all-gathered by reading the other ranks' copies in
    /// place, with no messages; it lives until the process ends.
    func sharedFloats(count: Int) throws -> UnsafeMutableBufferPointer<Float>?

    /// Copies `root`'s bytes into `buffer` on every other rank.
    func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws

    /// Every rank's `values` (each rank must pass the same count), concatenated in rank order.
    func allGather(_ values: [Double]) throws -> [Double]

    func barrier() throws

    /// Ends every rank with a non-zero exit after printing `message` with this rank's number.
    func abort(_ message: String) -> Never
}

public enum ReduceOp: Sendable {
    case sum, max, min
    /// The sum times 1 / worldSize, as PyTorch's ReduceOp.AVG: the data-parallel gradient mean.
    /// Implementations scale each piece as its sum completes, while it is still in cache, rather
    /// than in a pass of their own over the buffer afterwards (the same bits either way).
    case average
}

extension Communicator {
    public var isCoordinator: Bool { rank == 0 }

    /// Threads of one process share their memory anyway: nothing to gain (see `MPICommunicator`).
    public func sharedFloats(count: Int) throws -> UnsafeMutableBufferPointer<Float>? { nil }

    /// Reduces a handful of scalars (losses, counts) in one call.
    public func allReduce(_ values: [Double], _ op: ReduceOp) throws -> [Double] {
        var copy = values
        try copy.withUnsafeMutableBufferPointer { try allReduce($0, op) }
        return copy
    }

    /// Broadcasts an array of trivial values whose count every rank already knows.
    public func broadcast<T: BitwiseCopyable>(_ values: inout [T], root: Int) throws {
        try values.withUnsafeMutableBytes { try broadcast($0, root: root) }
    }

    /// Broadcasts a byte string of any length from `root` (length first, then the bytes).
    public func broadcast(_ bytes: [UInt8], root: Int) throws -> [UInt8] {
        var length = [Int64(bytes.count)]
        try broadcast(&length, root: root)
        var result = rank == root ? bytes : [UInt8](repeating: 0, count: Int(length[0]))
        try broadcast(&result, root: root)
        return result
    }
}
