import XCTest
@testable import LLMModel

final class GEMMPartitionTests: XCTestCase {
    func testPartsCoverTheExtentOnSixteenBoundaries() {
        for (extent, parts) in [(1024, 2), (2048, 4), (1000, 3), (8192, 4)] {
            let bounds = (0...parts).map { GEMMPartition.boundary($0, of: parts, extent: extent) }
            XCTAssertEqual(bounds.first, 0)
            XCTAssertEqual(bounds.last, extent)
            XCTAssertEqual(bounds, bounds.sorted(), "boundaries must increase")
            XCTAssertTrue(bounds.dropLast().allSatisfy { $0 % 16 == 0 }, "\(bounds)")
        }
    }

    /// ThreadingTests relies on its model's products being cut (else 1 vs 2 threads is trivial).
    func testThreadingTestShapesAreCut() {
        let BT = 16 * 64, C = 128, V = 2048
        XCTAssertGreaterThan(GEMMPartition.parts(m: BT, n: 4 * C, k: C), 1, "mlp.c_fc forward")
        XCTAssertGreaterThan(GEMMPartition.parts(m: BT, n: V, k: C), 1, "logits")
        XCTAssertGreaterThan(GEMMPartition.parts(m: V, n: C, k: BT), 1, "wte gradient")
        XCTAssertEqual(GEMMPartition.parts(m: 64, n: 64, k: 64), 1, "small products stay whole")
    }
}
