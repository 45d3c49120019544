import XCTest

/// The communicator for real, across processes: `llm-mpi-checks` under mpirun checks every
/// value on every rank (odd sizes 1, 1000003 and 16 M elements, chunk tails, broadcast from two
/// roots, all-gather) and exits non-zero if any rank saw a wrong value.
final class CollectivesTests: XCTestCase {
    func testCollectivesOnTwoRanks() throws {
        try checkCollectives(ranks: 2)
    }

    func testCollectivesOnEightOversubscribedRanks() throws {
        try checkCollectives(ranks: 8)
    }

    func testCollectivesAsSingleton() throws {
        let result = try Launcher.run("llm-mpi-checks", [])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.stdout.contains("passed, 0 failed"), result.output)
    }

    private func checkCollectives(ranks: Int) throws {
        let result = try Launcher.mpirun(ranks, "llm-mpi-checks", [])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.stdout.contains(" passed, 0 failed"), result.output)
        XCTAssertTrue(result.stdout.contains("allreduce sum Float count=16777216 chunk=1048576B "
                                             + "(n=\(ranks))"), result.output)
        XCTAssertFalse(result.stdout.contains("FAIL"), result.output)
    }

    /// An abort on one rank must end every rank (none may pass the barrier) with a non-zero
    /// exit and the message naming the rank.
    func testAbortOnOneRankEndsAllRanks() throws {
        for (ranks, victim) in [(2, 1), (8, 5)] {
            let result = try Launcher.mpirun(ranks, "llm-mpi-checks", ["abort-on-rank", "\(victim)"], timeout: 60)
            XCTAssertNotEqual(result.status, 0, result.output)
            XCTAssertTrue(result.output.contains("rank \(victim) of \(ranks): deliberate abort"), result.output)
            XCTAssertFalse(result.output.contains("passed the barrier"), result.output)
        }
    }
}
