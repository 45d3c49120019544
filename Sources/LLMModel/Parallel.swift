import Dispatch
import Foundation

/// Splits work over `BLASThreads.current` threads, so one setting governs all compute. Every
/// kernel partitions so that each output element is computed by one thread in a fixed order:
/// results do not depend on the thread count.
public enum Parallel {
    static let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)

    static var workers: Int { min(BLASThreads.current, cores) }

    /// Calls `body` on disjoint ranges covering 0..<count, concurrently when there is enough
    /// work (at least `minChunk` items per range) and more than one worker.
    @inline(__always)
    public static func chunks(_ count: Int, minChunk: Int, _ body: (Range<Int>) -> Void) {
        let n = min(workers, count / max(minChunk, 1))
        if n <= 1 {
            body(0..<count)
            return
        }
        // The kernels' closures capture raw pointers (not Sendable); each worker writes a disjoint
        // range, which is what makes sharing them safe, so the check is opted out of here, once.
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: n) { i in
                body((count * i / n)..<(count * (i + 1) / n))
            }
        }
    }

    /// As `chunks`, also passing the range's index (< workers), e.g. to pick per-thread scratch.
    @inline(__always)
    static func indexedChunks(_ count: Int, minChunk: Int, _ body: (Int, Range<Int>) -> Void) {
        let n = min(workers, count / max(minChunk, 1))
        if n <= 1 {
            body(0, 0..<count)
            return
        }
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: n) { i in
                body(i, (count * i / n)..<(count * (i + 1) / n))
            }
        }
    }
}
