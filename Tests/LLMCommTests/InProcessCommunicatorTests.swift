import XCTest
import LLMComm

/// The threads-as-ranks communicator against hand-computed results (the MPI one is checked the
/// same way under mpirun by llm-mpi-checks).
final class InProcessCommunicatorTests: XCTestCase {
    /// Runs `body` on `worldSize` ranks and returns each rank's result, in rank order.
    func perRank<T: Sendable>(_ worldSize: Int, _ body: @escaping @Sendable (InProcessCommunicator) throws -> T) throws -> [T] {
        let results = Results<T>(count: worldSize)
        try InProcessCommunicator.run(worldSize: worldSize) { comm in results.set(comm.rank, try body(comm)) }
        return results.values
    }

    func testAllReduceSumMaxMinOfFloatsAndDoubles() throws {
        let results = try perRank(3) { comm -> [[Float]] in
            let r = Float(comm.rank)
            return try [ReduceOp.sum, .max, .min].map { op in
                var values: [Float] = [r, -r, r * r]
                try values.withUnsafeMutableBufferPointer { try comm.allReduce($0, op) }
                return values
            } + [try comm.allReduce([Double(comm.rank) + 0.5, 1], .sum).map(Float.init)]
        }
        for (rank, result) in results.enumerated() {
            XCTAssertEqual(result[0], [3, -3, 5], "sum on rank \(rank)")
            XCTAssertEqual(result[1], [2, 0, 4], "max on rank \(rank)")
            XCTAssertEqual(result[2], [0, -2, 0], "min on rank \(rank)")
            XCTAssertEqual(result[3], [4.5, 3], "double sum on rank \(rank)")
        }
    }

    func testReduceScatterGivesEachOwnerItsTotalsAndAllGatherRestoresTheWhole() throws {
        let count = 23, plan = ShardPlan(count: 23, worldSize: 3, chunkElements: 8)
        let results = try perRank(3) { comm -> ([Float], [Float]) in
            var buffer = (0..<count).map { Float($0 * (comm.rank + 1)) }
            try buffer.withUnsafeMutableBufferPointer { try comm.reduceScatter($0, plan, .sum) }
            let scattered = buffer
            // Each owner doubles its totals; the gather must spread exactly those.
            for piece in plan.pieces(rank: comm.rank) { for i in piece { buffer[i] *= 2 } }
            try buffer.withUnsafeMutableBufferPointer { try comm.allGather($0, plan) }
            return (scattered, buffer)
        }
        for (rank, (scattered, gathered)) in results.enumerated() {
            for i in plan.pieces(rank: rank).joined() { XCTAssertEqual(scattered[i], Float(i * 6), "rank \(rank) [\(i)]") }
            XCTAssertEqual(gathered, (0..<count).map { Float($0 * 12) }, "rank \(rank)")
        }
    }

    /// The average is the sum times 1 / n, each piece scaled once its sum is complete: the bits of
    /// summing first and multiplying after, in a reduce-scatter and an all-reduce alike.
    func testAverageIsTheSumTimesTheReciprocalOfTheWorldSize() throws {
        let count = 23, plan = ShardPlan(count: count, worldSize: 3, chunkElements: 8)
        let contribution = { (rank: Int, i: Int) in Float(i) * 0.1 + Float(rank) * 0.7 }
        let results = try perRank(3) { comm -> ([Float], [Float]) in
            var scattered = (0..<count).map { contribution(comm.rank, $0) }
            try scattered.withUnsafeMutableBufferPointer { try comm.reduceScatter($0, plan, .average) }
            var reduced = (0..<count).map { contribution(comm.rank, $0) }
            try reduced.withUnsafeMutableBufferPointer { try comm.allReduce($0, .average) }
            return (scattered, reduced)
        }
        let expected = (0..<count).map { i in (0..<3).map { contribution($0, i) }.reduce(0, +) * (1 / Float(3)) }
        for (rank, (scattered, reduced)) in results.enumerated() {
            for i in plan.pieces(rank: rank).joined() {
                XCTAssertEqual(scattered[i].bitPattern, expected[i].bitPattern, "reduce-scatter rank \(rank) [\(i)]")
            }
            XCTAssertEqual(reduced.map(\.bitPattern), expected.map(\.bitPattern), "all-reduce rank \(rank)")
        }
        XCTAssertNotEqual(expected[5].bitPattern, ((0..<3).map { contribution($0, 5) }.reduce(0, +) / 3).bitPattern,
                          "the check tells a multiplication by 1/3 from a division by 3")
    }

    func testBroadcastAndGatherOfScalars() throws {
        let results = try perRank(4) { comm -> ([UInt8], [Double]) in
            let text = try comm.broadcast(comm.rank == 2 ? Array("from two".utf8) : [], root: 2)
            return (text, try comm.allGather([Double(comm.rank), -1]))
        }
        for (text, gathered) in results {
            XCTAssertEqual(String(decoding: text, as: UTF8.self), "from two")
            XCTAssertEqual(gathered, [0, -1, 1, -1, 2, -1, 3, -1])
        }
    }

    /// A rank that fails must not leave the others waiting in a collective forever.
    func testAFailingRankEndsTheOthersCollectivesAndIsNamed() {
        struct Boom: Error {}
        XCTAssertThrowsError(try InProcessCommunicator.run(worldSize: 3) { comm in
            if comm.rank == 1 { throw Boom() }
            try comm.barrier()
        }) { error in
            let failure = error as? InProcessCommunicator.RankError
            XCTAssertEqual(failure?.rank, 1, "\(error)")
            XCTAssertTrue(failure?.underlying is Boom, "\(error)")
        }
    }
}

/// One slot per rank, written from the ranks' threads.
final class Results<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [T?]
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ value: T) { lock.lock(); slots[i] = value; lock.unlock() }
    var values: [T] { lock.lock(); defer { lock.unlock() }; return slots.map { $0! } }
}
