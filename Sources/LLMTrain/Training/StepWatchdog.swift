import Foundation
import LLMComm
import LLMSupport
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The per-step watchdog (`train.step_timeout_s` > 0): a thread on every rank that ends the
/// process when a step takes longer than the timeout, so `mpirun` ends the job and `launch`
/// restarts it instead of the job hanging until the scheduler's time limit.
///
/// Naming the stuck rank needs no shared files: each rank's watchdog knows whether its rank is
/// inside a collective (`WatchedCommunicator` marks every call). When one rank hangs, the
/// others soon block in the next collective, waiting for it; only the stuck rank times out
/// *outside* a collective, so it fires first (after one timeout) and names itself. A waiting
/// rank fires only after twice the timeout (when the stuck one cannot act, e.g. it was
/// stopped), saying that it waited. A step here is everything between two step boundaries,
/// including evaluation and checkpoints, so the timeout must cover the slowest save.
final class StepWatchdog: Sendable {
    private struct State {
        var step = 0
        var stepStarted = monotonicSeconds()
        var inCollective = false
        var stopped = false
    }

    let timeout: Double
    private let rank: Int, worldSize: Int
    private let state = Mutex(State())

    init(timeout: Double, rank: Int, worldSize: Int) {
        self.timeout = timeout
        self.rank = rank
        self.worldSize = worldSize
    }

    /// Arms the watchdog: from now on every step must end within the timeout.
    func start(completed: Int) {
        stepStarts(completed: completed)
        Thread.detachNewThread { [self] in watch() }
    }

    /// A step boundary: `completed` steps are done and the next one starts now.
    func stepStarts(completed: Int) {
        state.withLock { $0.step = completed; $0.stepStarted = monotonicSeconds() }
    }

    func stop() { state.withLock { $0.stopped = true } }

    func collective<T>(_ body: () throws -> T) rethrows -> T {
        state.withLock { $0.inCollective = true }
        defer { state.withLock { $0.inCollective = false } }
        return try body()
    }

    private func watch() {
        let poll = UInt32(min(max(timeout / 20, 0.01), 1) * 1_000_000)
        while true {
            usleep(poll)
            let now = monotonicSeconds()
            let (state, stuck) = self.state.withLock { state in
                (state, !state.stopped && now - state.stepStarted > (state.inCollective ? 2 : 1) * timeout)
            }
            if state.stopped { return }
            guard stuck else { continue }
            let elapsed = String(format: "%.1f", now - state.stepStarted)
            let what = state.inCollective
                ? "waited \(elapsed) s in a collective in step \(state.step + 1); another rank is stuck and its own "
                  + "watchdog did not end it (stopped or unresponsive?)"
                : "is stuck in step \(state.step + 1): no progress for \(elapsed) s outside any collective"
            let line = "swift-llm-train: rank \(rank) of \(worldSize): step watchdog: rank \(rank) \(what) "
                + "(train.step_timeout_s=\(timeout)); ending the job so `launch` can restart it\n"
            FileHandle.standardError.write(Data(line.utf8))
            // Not exit(): the trainer's thread may hold locks that atexit handlers need. A rank that
            // ends without MPI_Finalize makes mpirun end every rank.
            _exit(Self.exitStatus)
        }
    }

    static let exitStatus: Int32 = 3
}

/// A communicator that tells the step watchdog when its rank waits inside a collective.
final class WatchedCommunicator: Communicator {
    let base: Communicator
    let watchdog: StepWatchdog

    init(_ base: Communicator, watchdog: StepWatchdog) {
        self.base = base
        self.watchdog = watchdog
    }

    var rank: Int { base.rank }
    var worldSize: Int { base.worldSize }

    func allReduce(_ buffer: UnsafeMutableBufferPointer<Float>, _ op: ReduceOp) throws {
        try watchdog.collective { try base.allReduce(buffer, op) }
    }
    func allReduce(_ buffer: UnsafeMutableBufferPointer<Double>, _ op: ReduceOp) throws {
        try watchdog.collective { try base.allReduce(buffer, op) }
    }
    func reduceScatter(_ buffer: UnsafeMutableBufferPointer<Float>, _ plan: ShardPlan, _ op: ReduceOp) throws {
        try watchdog.collective { try base.reduceScatter(buffer, plan, op) }
    }
    func allGather(_ buffer: UnsafeMutableBufferPointer<Float>, _ plan: ShardPlan) throws {
        try watchdog.collective { try base.allGather(buffer, plan) }
    }
    func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {
        try watchdog.collective { try base.broadcast(buffer, root: root) }
    }
    func allGather(_ values: [Double]) throws -> [Double] { try watchdog.collective { try base.allGather(values) } }
    func sharedFloats(count: Int) throws -> UnsafeMutableBufferPointer<Float>? {
        try watchdog.collective { try base.sharedFloats(count: count) }
    }
    func barrier() throws { try watchdog.collective { try base.barrier() } }
    func abort(_ message: String) -> Never { base.abort(message) }
}
