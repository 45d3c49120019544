import LLMLaunch
import XCTest

/// The restart decisions of `launch`, without processes.
final class RestartPolicyTests: XCTestCase {
    private let policy = RestartPolicy(maxRestarts: 5, minRanks: 1, shrinkAfter: 2, backoff: 0.5, maxBackoff: 3)

    func testBackoffDoublesUpToTheCap() {
        XCTAssertEqual((1...5).map { policy.delay(beforeRestart: $0) }, [0.5, 1, 2, 3, 3])
        XCTAssertEqual(RestartPolicy(maxRestarts: 1, minRanks: 1, backoff: 0).delay(beforeRestart: 40), 0)
    }

    func testShrinksOnlyAfterRepeatedFailuresWithoutProgress() {
        let divides16: (Int) -> Bool = { 16 % $0 == 0 }
        XCTAssertEqual(policy.worldSize(current: 8, failuresWithoutProgress: 1, fits: divides16).size, 8)
        let shrunk = policy.worldSize(current: 8, failuresWithoutProgress: 2, fits: divides16)
        XCTAssertEqual(shrunk.size, 4, "7, 6 and 5 do not divide a global batch of 16")
        XCTAssertTrue(shrunk.reason?.contains("shrinking to 4") ?? false, "\(shrunk)")
        XCTAssertEqual(policy.worldSize(current: 6, failuresWithoutProgress: 3, fits: { 12 % $0 == 0 }).size, 4)
        XCTAssertEqual(policy.worldSize(current: 2, failuresWithoutProgress: 2, fits: divides16).size, 1)
    }

    func testNeverShrinksBelowMinRanks() {
        let atLeast3 = RestartPolicy(maxRestarts: 5, minRanks: 3, shrinkAfter: 1)
        let stay = atLeast3.worldSize(current: 4, failuresWithoutProgress: 1, fits: { 16 % $0 == 0 })
        XCTAssertEqual(stay.size, 4, "3 does not divide 16 and 2 is below --min-ranks")
        XCTAssertTrue(stay.reason?.contains("staying at 4") ?? false, "\(stay)")
        XCTAssertNil(atLeast3.worldSize(current: 3, failuresWithoutProgress: 9, fits: { _ in true }).reason)
    }

    func testStopIsToldFromFailure() {
        XCTAssertEqual(AttemptOutcome.classify(status: 0, launchSignalled: false, stopMarker: nil, cause: "-"), .finished)
        XCTAssertEqual(AttemptOutcome.classify(status: 1, launchSignalled: false, stopMarker: nil, cause: "killed"),
                       .failed("killed"))
        // mpirun exits non-zero when it was itself signalled, although the ranks saved and stopped.
        XCTAssertEqual(AttemptOutcome.classify(status: 143, launchSignalled: false, stopMarker: "stopped by SIGTERM",
                                               cause: "-"), .stopped("stopped by SIGTERM"))
        XCTAssertEqual(AttemptOutcome.classify(status: 1, launchSignalled: true, stopMarker: nil, cause: "-"),
                       .stopped("launch received a stop signal"))
    }

    func testFailureCausePrefersTheStuckRanksOwnWords() {
        let lines = [
            "swift-llm-train: rank 0 of 2: step watchdog: rank 0 waited 10.0 s in a collective in step 8",
            "swift-llm-train: rank 1 of 2: step watchdog: rank 1 is stuck: no progress for 5.0 s in step 8",
        ]
        XCTAssertTrue(failureCause(stderrLines: lines, status: 1).hasPrefix(lines[0]))
        let killed = ["--------", "mpirun noticed that process rank 1 with PID 4242 on node a exited on signal 9 (Killed)."]
        XCTAssertEqual(failureCause(stderrLines: killed, status: 137), killed[1] + " (mpirun exit status 137)")
        XCTAssertEqual(failureCause(stderrLines: ["noise"], status: 2), "mpirun exited with status 2")
    }

    func testMpirunCommandAddsOnlyWhatIsNeeded() {
        let command = MPIRunCommand(ranks: 4, hostfile: nil, extraArguments: ["--bind-to", "none"], stopGrace: 30)
        let root = command.environment(base: ["PATH": "/usr/bin"], isRoot: true, cores: 2)
        XCTAssertEqual(root["OMPI_ALLOW_RUN_AS_ROOT"], "1")
        XCTAssertEqual(root["OMPI_MCA_rmaps_base_oversubscribe"], "1", "4 ranks on 2 cores")
        XCTAssertEqual(root["OPENBLAS_NUM_THREADS"], "1")
        let user = command.environment(base: ["OPENBLAS_NUM_THREADS": "2"], isRoot: false, cores: 8)
        XCTAssertNil(user["OMPI_ALLOW_RUN_AS_ROOT"])
        XCTAssertNil(user["OMPI_MCA_rmaps_base_oversubscribe"])
        XCTAssertEqual(user["OPENBLAS_NUM_THREADS"], "2", "the user's own setting is kept")
        XCTAssertEqual(command.arguments(program: "/bin/t", command: ["train", "--steps", "3"], environment: root),
                       ["-n", "4", "--mca", "odls_base_sigkill_timeout", "30", "-x", "OPENBLAS_NUM_THREADS",
                        "--bind-to", "none", "/bin/t", "train", "--steps", "3", "--resume", "auto"])
        let defaultGrace = MPIRunCommand(ranks: 1, hostfile: "hosts", stopGrace: 0)
        XCTAssertEqual(defaultGrace.arguments(program: "/bin/t", command: ["train"], environment: [:]),
                       ["-n", "1", "--hostfile", "hosts", "/bin/t", "train", "--resume", "auto"])
        XCTAssertNil(defaultGrace.environment(base: [:], isRoot: false, cores: 1)["OMPI_MCA_rmaps_base_oversubscribe"],
                     "with a hostfile its slots decide")
    }
}
