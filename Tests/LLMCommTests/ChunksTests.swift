import XCTest
import LLMComm

final class ChunksTests: XCTestCase {
    func testEmptyBufferHasNoChunks() {
        XCTAssertEqual(Array(Chunks(count: 0, size: 4)), [])
    }

    func testEvenSplit() {
        XCTAssertEqual(Array(Chunks(count: 12, size: 4)), [0..<4, 4..<8, 8..<12])
    }

    func testUnevenTail() {
        XCTAssertEqual(Array(Chunks(count: 10, size: 4)), [0..<4, 4..<8, 8..<10])
        XCTAssertEqual(Array(Chunks(count: 3, size: 4)), [0..<3])
        XCTAssertEqual(Array(Chunks(count: 1_000_003, size: 262_144)).last, 786_432..<1_000_003)
    }

    func testChunksCoverTheBufferExactlyOnce() {
        for count in [1, 2, 7, 1000, 1_000_003] {
            for size in [1, 3, 1000, 262_144, 10_000_000] {
                var next = 0
                for range in Chunks(count: count, size: size) {
                    XCTAssertEqual(range.lowerBound, next)
                    XCTAssertLessThanOrEqual(range.count, size)
                    XCTAssertGreaterThan(range.count, 0)
                    next = range.upperBound
                }
                XCTAssertEqual(next, count, "count \(count) size \(size)")
                XCTAssertEqual(Chunks(count: count, size: size).underestimatedCount, (count + size - 1) / size)
            }
        }
    }

    /// MPI counts are Int32: a buffer beyond 2^31 elements must be split even when the requested
    /// chunk is larger (nothing is allocated: only the arithmetic is checked).
    func testCountsBeyondInt32AreSplitIntoInt32Pieces() {
        let count = 5_000_000_000
        let chunks = Array(Chunks(count: count, size: Int.max))
        XCTAssertEqual(chunks.count, 3)
        XCTAssertEqual(chunks[0], 0..<Int(Int32.max))
        XCTAssertEqual(chunks[1], Int(Int32.max)..<2 * Int(Int32.max))
        XCTAssertEqual(chunks[2], 2 * Int(Int32.max)..<count)
        XCTAssertTrue(chunks.allSatisfy { $0.count <= Int(Int32.max) })
    }
}

final class ShardPlanTests: XCTestCase {
    func testPiecesTileTheBufferExactlyOnce() {
        for (count, worldSize, chunk) in [(0, 2, 8), (5, 2, 8), (17, 3, 4), (1_000_003, 8, 4099), (10, 8, 8)] {
            let plan = ShardPlan(count: count, worldSize: worldSize, chunkElements: chunk)
            var owner = [Int](repeating: -1, count: count)
            for r in 0..<worldSize {
                for piece in plan.pieces(rank: r) {
                    for i in piece {
                        XCTAssertEqual(owner[i], -1, "element \(i) owned twice")
                        owner[i] = r
                    }
                }
            }
            XCTAssertFalse(owner.contains(-1), "count \(count) n \(worldSize) chunk \(chunk): some element has no "
                                               + "owner")
        }
    }

    func testPiecesAreNearlyEqualWithTheRemainderFirst() {
        let plan = ShardPlan(count: 10, worldSize: 4, chunkElements: 10)
        XCTAssertEqual((0..<4).map { plan.piece(of: 0..<10, rank: $0) }, [0..<3, 3..<6, 6..<8, 8..<10])
        XCTAssertEqual(ShardPlan(count: 7, worldSize: 1).pieces(rank: 0), [0..<7])
    }
}
