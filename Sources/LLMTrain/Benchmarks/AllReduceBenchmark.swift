import LLMComm
import LLMSupport

/// Chunked versus single-call all-reduce, side by side in one run.
///
/// For each size both variants reduce the same pre-touched buffer, interleaved round by round so
/// that machine noise hits both alike. A round's time is the slowest rank's (an all-reduce is
/// done only when every rank has its result), and the figure kept is the median round.
public struct AllReduceBenchmark {
    public struct Row: Sendable {
        public let bytes: Int
        public let chunkedSeconds: Double
        public let plainSeconds: Double
        /// Reduce-scatter then all-gather of the same buffer: the sharded optimiser's traffic.
        public let shardedSeconds: Double
        public var chunkedGBps: Double { Double(bytes) / chunkedSeconds / 1e9 }
        public var plainGBps: Double { Double(bytes) / plainSeconds / 1e9 }
        public var shardedGBps: Double { Double(bytes) / shardedSeconds / 1e9 }
        public var scriptLine: String {
            "bytes=\(bytes) chunked_gbps=\(format(chunkedGBps, 2)) plain_gbps=\(format(plainGBps, 2)) "
            + "sharded_gbps=\(format(shardedGBps, 2))"
        }
    }

    /// 4 KiB .. 128 MiB, by factors of 4 plus the 128 MiB end point.
    public static let defaultSizes = [4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20,
                                      16 << 20, 64 << 20, 128 << 20]

    public static func run(comm: MPICommunicator, chunkBytes: Int, sizes: [Int] = defaultSizes,
                           secondsPerSize: Double = 0.6) throws -> [Row] {
        var rows: [Row] = []
        for bytes in sizes {
            let count = bytes / MemoryLayout<Float>.stride
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
            defer { buffer.deallocate() }
            buffer.initialize(repeating: 1)  // first touch outside the timed region
            func timed(_ chunk: Int) throws -> Double {
                comm.chunkBytes = chunk
                try comm.barrier()
                let start = monotonicSeconds()
                try comm.allReduce(buffer, .sum)
                let local = monotonicSeconds() - start
                return try comm.allReduce([local], .max)[0]
            }
            let plan = ShardPlan(count: count, worldSize: comm.worldSize, chunkElements: max(comm.worldSize, chunkBytes / 4))
            func timedSharded() throws -> Double {
                try comm.barrier()
                let start = monotonicSeconds()
                try comm.reduceScatter(buffer, plan, .sum)
                try comm.allGather(buffer, plan)
                return try comm.allReduce([monotonicSeconds() - start], .max)[0]
            }
            _ = try timed(chunkBytes); _ = try timed(Int.max); _ = try timedSharded()  // warm-up: MPI sets up its buffers
            // Rounds sized from the warm-up-free estimate, agreed by all ranks (same loop count).
            let probe = try max(timed(chunkBytes), timed(Int.max), 1e-6)
            let rounds = max(3, min(200, Int(secondsPerSize / (2 * probe))))
            var chunked: [Double] = [], plain: [Double] = [], sharded: [Double] = []
            for _ in 0..<rounds {
                chunked.append(try timed(chunkBytes))
                plain.append(try timed(Int.max))
                sharded.append(try timedSharded())
            }
            comm.chunkBytes = chunkBytes
            rows.append(Row(bytes: bytes, chunkedSeconds: median(chunked), plainSeconds: median(plain),
                            shardedSeconds: median(sharded)))
        }
        return rows
    }

    public static func table(_ rows: [Row], worldSize: Int, chunkBytes: Int) -> String {
        var lines = ["all-reduce of Float, in place, n=\(worldSize) ranks, chunk \(chunkBytes) bytes (median of "
                     + "interleaved rounds)",
                     pad("bytes", 12) + pad("chunked ms", 12) + pad("GB/s", 8) + pad("plain ms", 12) + pad("GB/s", 8)
                     + pad("speed-up", 10) + "sharded GB/s (reduce-scatter + all-gather)"]
        for row in rows {
            lines.append(pad("\(row.bytes)", 12) + pad(format(row.chunkedSeconds * 1e3, 3), 12)
                         + pad(format(row.chunkedGBps, 2), 8) + pad(format(row.plainSeconds * 1e3, 3), 12)
                         + pad(format(row.plainGBps, 2), 8) + pad(format(row.plainSeconds / row.chunkedSeconds, 2) + "x", 10)
                         + format(row.shardedGBps, 2))
        }
        return lines.joined(separator: "\n")
    }
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
}
