// llm-mpi-checks: the multi-rank test driver for LLMComm.
//
// XCTest runs every test in one process, but collectives need several processes, so the
// multi-rank tests live here and run under `mpirun -n 2` and `mpirun -n 8 --oversubscribe`
// (Scripts/test.sh, and EndToEndTests which launch it). Every rank checks every value it
// receives; rank 0 prints one line per check and a closing "N passed, N failed" line.
//
//   llm-mpi-checks                 all collective checks (exit 1 if any fails on any rank)
//   llm-mpi-checks abort-on-rank R rank R aborts mid-run: every rank must end, exit non-zero
import LLMComm
#if canImport(Glibc)
import Glibc
#endif

let comm: MPICommunicator
do { comm = try MPICommunicator.world() } catch {
    fputs("llm-mpi-checks: \(error)\n", stderr)
    exit(2)
}
let n = comm.worldSize, rank = comm.rank
let arguments = Array(CommandLine.arguments.dropFirst())

if arguments.first == "abort-on-rank", arguments.count == 2, let victim = Int(arguments[1]) {
    if rank == victim { comm.abort("deliberate abort for the test (abort-on-rank \(victim))") }
    try comm.barrier()  // the other ranks wait here until the abort ends them
    print("rank \(rank): passed the barrier although rank \(victim) aborted")
    exit(0)  // reaching this is the failure the test looks for
}

var passed = 0, failed = 0
/// Runs one check on every rank; it passes only if it passes on all of them.
func check(_ name: String, _ body: () throws -> String?) {
    var problem: String?
    do { problem = try body() } catch { problem = "\(error)" }
    let failures = (try? comm.allReduce([problem == nil ? 0 : 1], .sum)[0]) ?? Double(n)
    if let problem { print("rank \(rank): FAIL \(name): \(problem)") }
    if failures == 0 { passed += 1 } else { failed += 1 }
    if rank == 0 { print("\(failures == 0 ? "ok  " : "FAIL") \(name) (n=\(n))") }
}

/// Small integers: every partial sum is exact in Float, so results compare with ==.
func value(_ i: Int, _ r: Int) -> Float { Float(i % 1024 + r) }

for count in [0, 1, 1_000_003, 16 * 1024 * 1024] {
    for chunkBytes in [MPICommunicator.defaultChunkBytes, 4000] where count < 2_000_000 || chunkBytes > 4000 {
        comm.chunkBytes = chunkBytes
        check("allreduce sum Float count=\(count) chunk=\(chunkBytes)B") {
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
            defer { buffer.deallocate() }
            for i in 0..<count { buffer[i] = value(i, rank) }
            try comm.allReduce(buffer, .sum)
            let rankSum = Float(n * (n - 1) / 2)
            for i in 0..<count where buffer[i] != Float(n) * Float(i % 1024) + rankSum {
                return "element \(i) = \(buffer[i]), expected \(Float(n) * Float(i % 1024) + rankSum)"
            }
            return nil
        }
    }
    comm.chunkBytes = MPICommunicator.defaultChunkBytes
    check("allreduce average Float count=\(count)") {
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
        defer { buffer.deallocate() }
        for i in 0..<count { buffer[i] = value(i, rank) }
        try comm.allReduce(buffer, .average)
        let meanRank = Float(n - 1) / 2
        for i in 0..<count where buffer[i] != Float(i % 1024) + meanRank {
            return "element \(i) = \(buffer[i]), expected \(Float(i % 1024) + meanRank)"
        }
        return nil
    }
}

/// Reduce-scatter (sum or average) checked on the owner's pieces, then the owners' values all-gathered.
func reduceScatterThenAllGather(count: Int, chunk: Int, op: ReduceOp) throws -> String? {
    let plan = ShardPlan(count: count, worldSize: n, chunkElements: chunk)
    let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
    defer { buffer.deallocate() }
    for i in 0..<count { buffer[i] = value(i, rank) }
    try comm.reduceScatter(buffer, plan, op)
    let rankSum = Float(n * (n - 1) / 2), scale: Float = op == .average ? 1 / Float(n) : 1
    for piece in plan.pieces(rank: rank) {
        for i in piece where buffer[i] != (Float(n) * Float(i % 1024) + rankSum) * scale {
            return "reduce-scatter element \(i) = \(buffer[i]), expected \((Float(n) * Float(i % 1024) + rankSum) * scale)"
        }
        for i in piece { buffer[i] = Float(rank) * 1000 + Float(i % 7) }  // what the owner contributes
    }
    try comm.allGather(buffer, plan)
    for r in 0..<n {
        for piece in plan.pieces(rank: r) {
            for i in piece where buffer[i] != Float(r) * 1000 + Float(i % 7) {
                return "all-gather element \(i) = \(buffer[i]), expected rank \(r)'s value"
            }
        }
    }
    return nil
}

for (count, chunk) in [(0, 1 << 18), (5, 16), (1_000_003, 1 << 18), (1_000_003, 4099)] {
    for op in [ReduceOp.sum, .average] {
        check("reduce-scatter \(op) + all-gather count=\(count) chunk=\(chunk)") {
            try reduceScatterThenAllGather(count: count, chunk: chunk, op: op)
        }
    }
}

// One host's shared memory: the same collectives by reading the other ranks' copies in place
// must give the ring's bits. The values' sums are inexact, so a different order of additions shows.
for (count, chunk) in [(5, 16), (1_000_003, 1 << 18), (1_000_003, 4099)] {
    check("shared-memory reduce-scatter + all-gather = the ring's bits, count=\(count) chunk=\(chunk)") {
        // A world of one has no other rank to share with: nil is the answer there.
        guard let shared = try comm.sharedFloats(count: count) else {
            return n == 1 ? nil : "no shared memory among \(n) ranks of one host"
        }
        if n == 1 { return "a world of one rank was given shared memory" }
        let plan = ShardPlan(count: count, worldSize: n, chunkElements: chunk)
        let ring = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
        defer { ring.deallocate() }
        // Every rank makes every collective call before it reports: a rank returning early would
        // leave the others waiting in the next one.
        var problem: String?
        for op in [ReduceOp.sum, .average] {
            for i in 0..<count { shared[i] = Float(i % 997) * 0.013 + Float(rank) * 0.37 }
            for i in 0..<count { ring[i] = shared[i] }
            try comm.reduceScatter(shared, plan, op)
            try comm.reduceScatter(ring, plan, op)
            for i in plan.pieces(rank: rank).joined() where problem == nil && shared[i].bitPattern != ring[i].bitPattern {
                problem = "\(op): element \(i) = \(shared[i]) in shared memory, \(ring[i]) by the ring"
            }
        }
        for i in plan.pieces(rank: rank).joined() { shared[i] = Float(rank) + Float(i) * 0.5 }
        try comm.allGather(shared, plan)
        for r in 0..<n {
            for i in plan.pieces(rank: r).joined() where problem == nil && shared[i] != Float(r) + Float(i) * 0.5 {
                problem = "all-gather element \(i) = \(shared[i]), expected rank \(r)'s value"
            }
        }
        return problem
    }
}

check("allreduce sum/max/min/average Double count=1000003") {
    let count = 1_000_003
    let buffer = UnsafeMutableBufferPointer<Double>.allocate(capacity: count)
    defer { buffer.deallocate() }
    for op in [ReduceOp.sum, .max, .min, .average] {
        for i in 0..<count { buffer[i] = Double(i) * 0.5 + Double(rank) }
        try comm.allReduce(buffer, op)
        for i in 0..<count {
            let base = Double(i) * 0.5
            let expected: Double
            switch op {
            case .sum: expected = Double(n) * base + Double(n * (n - 1) / 2)
            case .max: expected = base + Double(n - 1)
            case .min: expected = base
            case .average: expected = (Double(n) * base + Double(n * (n - 1) / 2)) * (1 / Double(n))
            }
            if buffer[i] != expected { return "\(op) element \(i) = \(buffer[i]), expected \(expected)" }
        }
    }
    return nil
}

for root in Set([0, n - 1]).sorted() {
    check("broadcast 3000001 bytes from root \(root)") {
        comm.chunkBytes = 65536  // several chunks with an uneven tail
        defer { comm.chunkBytes = MPICommunicator.defaultChunkBytes }
        var bytes = [UInt8](repeating: 0, count: 3_000_001)
        if rank == root { for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i &* 31 &+ root) } }
        try comm.broadcast(&bytes, root: root)
        for i in bytes.indices where bytes[i] != UInt8(truncatingIfNeeded: i &* 31 &+ root) {
            return "byte \(i) = \(bytes[i])"
        }
        let text = try comm.broadcast(rank == root ? Array("from \(root) ✓".utf8) : [], root: root)
        return String(decoding: text, as: UTF8.self) == "from \(root) ✓" ? nil : "string broadcast mismatch"
    }
}

check("allgather") {
    let gathered = try comm.allGather([Double(rank), Double(rank * rank) + 0.25])
    let expected = (0..<n).flatMap { [Double($0), Double($0 * $0) + 0.25] }
    return gathered == expected ? nil : "got \(gathered), expected \(expected)"
}

check("barrier") { try comm.barrier(); return nil }

if rank == 0 { print("llm-mpi-checks: \(passed) passed, \(failed) failed") }
exit(failed == 0 ? 0 : 1)
