import XCTest
@testable import LLMTasks

final class PostBatchesTests: XCTestCase {
    /// Each epoch visits every post once; batches straddling an epoch continue the next order.
    func testEpochsVisitEveryPostOnce() {
        var batches = PostBatches(count: 10, globalBatch: 4, seed: 5)
        let stream = (0..<5).flatMap { batches.batch(step: $0) }   // 20 positions = 2 epochs
        XCTAssertEqual(Set(stream[0..<10]), Set(0..<10))
        XCTAssertEqual(Set(stream[10..<20]), Set(0..<10))
        XCTAssertNotEqual(Array(stream[0..<10]), Array(stream[10..<20]), "each epoch has its own order")
        var again = PostBatches(count: 10, globalBatch: 4, seed: 5)
        XCTAssertEqual(again.batch(step: 3), Array(stream[12..<16]), "a batch is a pure function of (seed, step)")
    }

    func testMicroBatchesSortByLength() {
        let lengths = [5, 1, 3, 3, 9]
        XCTAssertEqual(PostBatches.microBatches([0, 1, 2, 3, 4], lengths: { lengths[$0] }, size: 2), [[1, 2], [3, 0], [4]])
    }
}
