import LLMTrain
import XCTest

final class StopSignalTests: XCTestCase {
    private let underMpirun = ["OMPI_COMM_WORLD_SIZE": "2"]

    /// Open MPI's default grace (1 s) against a GPT-2-small-sized stop (a 5 s step, a 20 s save):
    /// the note names both figures and suggests three times the need.
    func testNoteWhenAStepPlusASaveOutlastTheDefaultGrace() throws {
        let note = try XCTUnwrap(StopSignal.graceNote(stepSeconds: 5, saveSeconds: 20, environment: underMpirun))
        XCTAssertTrue(note.contains("take 25.0 s here"), note)
        XCTAssertTrue(note.contains("allows the ranks 1 s"), note)
        XCTAssertTrue(note.contains("--mca odls_base_sigkill_timeout 75 (launch: --stop-grace 75)"), note)
    }

    /// The grace mpirun passes on to the ranks counts; twice the need is enough; outside mpirun
    /// there is no mpirun to signal.
    func testNoNoteWhenTheGraceCoversTheStopTwiceOrOutsideMpirun() {
        var environment = underMpirun
        environment["OMPI_MCA_odls_base_sigkill_timeout"] = "50"
        XCTAssertNil(StopSignal.graceNote(stepSeconds: 5, saveSeconds: 20, environment: environment))
        environment["OMPI_MCA_odls_base_sigkill_timeout"] = "49"
        XCTAssertNotNil(StopSignal.graceNote(stepSeconds: 5, saveSeconds: 20, environment: environment))
        XCTAssertNil(StopSignal.graceNote(stepSeconds: 0.1, saveSeconds: 0.3, environment: underMpirun))
        XCTAssertNil(StopSignal.graceNote(stepSeconds: 5, saveSeconds: 20, environment: [:]))
    }
}
