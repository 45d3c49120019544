import Foundation
@testable import LLMTrain
import XCTest

/// The test-only fault list: each fault fires at most once per run directory and rank, so a run
/// resumed before the fault's step passes it the second time.
final class FaultPlanTests: XCTestCase {
    func testEachFaultFiresOncePerRunDirectoryAndRank() throws {
        let run = try TemporaryDirectory()
        let faults = try "rank:1,step:3,kind:drift;rank:1,step:3,kind:drift;step:5,kind:drift".split(separator: ";")
            .map { try FaultInjection.parse(String($0)) }
        XCTAssertEqual(faults.map(\.rank), [1, 1, nil])
        let plan = FaultPlan(faults: faults, firedFile: run.url.appendingPathComponent(FaultPlan.firedFileName))
        var weights: [Float] = [0]
        func perturbations(afterStep step: Int, rank: Int) throws -> Int {
            let before = weights[0]
            try weights.withUnsafeMutableBufferPointer { try plan.apply(afterStep: step, rank: rank, parameters: $0) }
            return weights[0] == before ? 0 : 1
        }
        XCTAssertEqual(try perturbations(afterStep: 3, rank: 0), 0, "rank 0 is not named")
        XCTAssertEqual(try perturbations(afterStep: 2, rank: 1), 0, "not due yet")
        // Listed twice: fires on two passes (two attempts), then never again.
        XCTAssertEqual(try (0..<4).map { _ in try perturbations(afterStep: 3, rank: 1) }, [1, 1, 0, 0])
        // No rank given: every rank fires once, each on its own record.
        XCTAssertEqual(try [0, 1, 0, 1].map { try perturbations(afterStep: 5, rank: $0) }, [1, 1, 0, 0])
        let record = try String(contentsOf: plan.firedFile, encoding: .utf8)
        XCTAssertEqual(record, "0 1\n1 1\n2 0\n2 1\n")
    }

    func testMalformedEntryIsNamed() {
        XCTAssertThrowsError(try FaultInjection.parse("rank:1,step:3,kind:explode")) { error in
            XCTAssertTrue("\(error)".contains("SWIFT_LLM_TRAIN_FAULT=rank:1,step:3,kind:explode"), "\(error)")
        }
    }
}
