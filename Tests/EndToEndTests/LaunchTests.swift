import Foundation
import XCTest

/// `swift-llm-train launch`: real mpirun, real ranks, faults injected by the test-only
/// SWIFT_LLM_TRAIN_FAULT (see FaultInjection.swift), and what the run directory says afterwards.
final class LaunchTests: XCTestCase {
    /// The embedded corpus, prepared once and shared by the runs below.
    static var sharedDataset: String?

    private func dataset() throws -> [String] {
        if let dataset = Self.sharedDataset { return ["--set", "data.dataset=\(dataset)"] }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("llm-e2e-launch-dataset-\(getpid())")
        let result = try Launcher.run("swift-llm-train", quickRun + ["--steps", "1", "--run-dir", dir.path],
                                      directory: repositoryRoot)
        XCTAssertEqual(result.status, 0, result.output)
        Self.sharedDataset = dir.appendingPathComponent("data").path
        return ["--set", "data.dataset=\(Self.sharedDataset!)"]
    }

    private func trainArguments(_ run: TrainingRun, _ extra: [String]) throws -> [String] {
        ["train"] + quickRun + (try dataset()) + ["--run-dir", run.path] + extra
    }

    private func launch(_ launchOptions: [String], _ run: TrainingRun, _ extra: [String], fault: String? = nil,
                        timeout: Double = 120, started: ((Process) -> Void)? = nil) throws -> Launcher.Result {
        let arguments = ["launch", "--backoff", "0.2"] + launchOptions + ["--"] + (try trainArguments(run, extra))
        return try Launcher.run(try Launcher.binary("swift-llm-train"), arguments,
                                environment: fault.map { ["SWIFT_LLM_TRAIN_FAULT": $0] } ?? [:], timeout: timeout,
                                directory: repositoryRoot, started: started)
    }

    private func finalFiles(_ run: TrainingRun) throws -> [String: Data] {
        let checkpoint = try run.latestCheckpoint()
        return try Dictionary(uniqueKeysWithValues: ["model.safetensors", "optimizer.safetensors"].map {
            ($0, try Data(contentsOf: checkpoint.appendingPathComponent($0)))
        })
    }

    /// Seconds from each restart's failure (the last train record before it) to the first train
    /// record after it: the figure "time from an injected failure to training again".
    private func recoveryTimes(_ run: TrainingRun) throws -> [Double] {
        let text = try String(contentsOf: run.directory.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        let records = try text.split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        return records.indices.filter { records[$0]["event"] as? String == "restart" }.compactMap { index in
            let before = records[..<index].last { $0["event"] as? String == "train" }
            let after = records[index...].first { $0["event"] as? String == "train" }
            guard let failed = before?["time"] as? Double, let again = after?["time"] as? Double else { return nil }
            return again - failed
        }
    }

    /// Rank 1 is killed (SIGKILL) after step 37 and again after step 81; launch relaunches from
    /// the checkpoints of steps 30 and 80 and the run ends exactly as an uninterrupted one.
    func testKilledTwiceFinishesByItselfBitIdentical() throws {
        let steps = ["--steps", "100", "--set", "checkpoint.every=10"]
        let reference = try TrainingRun(self, "launch-reference")
        let straight = try Launcher.mpirun(2, "swift-llm-train", try trainArguments(reference, steps),
                                           directory: repositoryRoot)
        XCTAssertEqual(straight.status, 0, straight.output)

        let run = try TrainingRun(self, "launch-kill9")
        let result = try launch(["-n", "2", "--max-restarts", "3"], run, steps,
                                fault: "rank:1,step:37,kind:kill9;rank:1,step:81,kind:kill9")
        XCTAssertEqual(result.status, 0, result.output)
        let restarts = try run.records(event: "restart")
        XCTAssertEqual(restarts.count, 2, result.output)
        XCTAssertEqual(restarts.map { $0["checkpoint_step"] as? Double }, [30, 80])
        for restart in restarts {
            let cause = restart["cause"] as? String ?? ""
            XCTAssertTrue(cause.contains("rank 1") && cause.contains("signal 9"), cause)
        }
        XCTAssertEqual(try run.trainLosses().last?.step, 100)
        XCTAssertEqual(try run.latestCheckpoint().lastPathComponent, "step-000100")
        let got = try finalFiles(run), want = try finalFiles(reference)
        for name in want.keys.sorted() {
            XCTAssertTrue(got[name] == want[name], "\(name) differs from the uninterrupted run")
        }
        print("launch: time from an injected kill -9 to training again (s):",
              try recoveryTimes(run).map { String(format: "%.2f", $0) }.joined(separator: ", "))
        // The report's reader still parses the file with restart records in it.
        let plotted = try Launcher.run("swift-llm-train", ["plot", run.path], directory: repositoryRoot)
        XCTAssertEqual(plotted.status, 0, plotted.output)
    }

    /// Rank 1 fails at every attempt with 2 ranks; after --shrink-after 2 failures without a new
    /// checkpoint, launch continues with 1 rank (16 sequences split over 1) and finishes.
    func testRepeatedFailuresShrinkToMinRanks() throws {
        let run = try TrainingRun(self, "launch-shrink")
        let fault = Array(repeating: "rank:1,step:3,kind:abort", count: 4).joined(separator: ";")
        let result = try launch(["-n", "2", "--min-ranks", "1", "--max-restarts", "3"], run, ["--steps", "6"],
                                fault: fault)
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("2 ranks failed 2 times in a row without a new checkpoint; shrinking to 1"),
                      result.output)
        let restarts = try run.records(event: "restart")
        XCTAssertEqual(restarts.map { $0["world_size"] as? Double }, [2, 1], result.output)
        XCTAssertTrue((restarts.last?["world_size_change"] as? String)?.contains("shrinking to 1") ?? false)
        XCTAssertTrue((restarts.first?["cause"] as? String)?.contains("injected fault") ?? false, "\(restarts)")
        XCTAssertEqual(try run.records(event: "start").last?["world_size"] as? Double, 1)
        XCTAssertEqual(try run.trainLosses().last?.step, 6)
    }

    /// A rank that hangs is named by its own watchdog within train.step_timeout_s; the job ends
    /// and launch restarts it.
    func testHangIsDetectedWithinTheStepTimeoutAndRestarted() throws {
        let run = try TrainingRun(self, "launch-hang")
        let timeout = 3.0
        let result = try launch(["-n", "2", "--max-restarts", "1"], run,
                                ["--steps", "8", "--set", "train.step_timeout_s=\(timeout)", "--set", "checkpoint.every=4"],
                                fault: "rank:1,step:5,kind:hang")
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("rank 1 of 2: step watchdog: rank 1 is stuck in step 5: no progress for"),
                      result.output)
        XCTAssertFalse(result.output.contains("rank 0 of 2: step watchdog"), "rank 0 only waited: \(result.output)")
        let restart = try XCTUnwrap(try run.records(event: "restart").first)
        XCTAssertTrue((restart["cause"] as? String)?.contains("rank 1 is stuck in step 5") ?? false, "\(restart)")
        let hungAt = try XCTUnwrap(try run.records(event: "train").first { $0["step"] as? Double == 5 }?["time"] as? Double)
        let detected = try XCTUnwrap(restart["time"] as? Double)
        XCTAssertLessThan(detected - hungAt, timeout + 3, "the hang must end the job soon after the timeout")
        XCTAssertGreaterThan(detected - hungAt, timeout - 0.5, "not before the timeout")
        XCTAssertEqual(try run.trainLosses().last?.step, 8)
    }

    /// SIGTERM to launch (a scheduler's stop) stops for good: the ranks save a checkpoint at the
    /// step they agree on, and launch does not relaunch.
    func testSigtermToLaunchCheckpointsAndDoesNotRestart() throws {
        try assertStopsForGood([], signalling: { [$0.processIdentifier] })
    }

    /// `pkill -TERM -f swift-llm-train` under launch: SIGTERM to launch and to both ranks at once.
    /// launch's SIGUSR1 then reaches the ranks as a second stop signal, but not the same one, so
    /// they still save (the same one twice would mean "exit now").
    func testSigtermToLaunchAndRanksAtOnceCheckpoints() throws {
        try assertStopsForGood([], signalling: { launch in
            let ranks = Self.children(of: launch.processIdentifier, named: "mpirun").flatMap {
                Self.children(of: $0, named: "swift-llm-train")
            }
            XCTAssertEqual(ranks.count, 2)
            return [launch.processIdentifier] + ranks
        })
    }

    /// `kill -TERM <mpirun pid>` under launch: mpirun's own kill sequence (SIGCONT, 5 s, SIGTERM,
    /// 5 s, SIGKILL) ends with a checkpoint, and launch does not relaunch. Rank 0 prints a line
    /// a step all along while mpirun, asleep, reads none of it (issue 14: it used to block there).
    func testSigtermToMpirunCheckpointsAndDoesNotRestart() throws {
        try assertStopsForGood(["--stop-grace", "5"], signalling: { launch in
            Self.children(of: launch.processIdentifier, named: "mpirun")
        })
    }

    /// Plain `mpirun -n 2 swift-llm-train train ...`, no launch: `kill -TERM <mpirun pid>`.
    func testSigtermToMpirunWithoutLaunchCheckpoints() throws {
        try assertMpirunStopsWithACheckpoint(["--mca", "odls_base_sigkill_timeout", "5"]) { kill($0, SIGTERM) }
    }

    /// Ctrl-C in a terminal: SIGINT to the foreground process group, which holds mpirun but not the
    /// ranks (Open MPI gives each its own), with Open MPI's default grace of 1 s.
    func testCtrlCToMpirunProcessGroupCheckpoints() throws {
        try assertMpirunStopsWithACheckpoint([]) { mpirun in
            XCTAssertEqual(getpgid(mpirun), mpirun, "Process starts mpirun in a process group of its own")
            return kill(-mpirun, SIGINT)
        }
    }

    /// Issue 14's cause, without mpirun: stdout is a pipe nobody reads, as a rank's terminal is
    /// while mpirun sleeps in its kill sequence (shrunk to one page, a few dozen lines). Training
    /// goes on past the full pipe, and SIGTERM still ends it with a checkpoint.
    func testStopWithUnreadStdoutCheckpoints() throws {
        let run = try TrainingRun(self, "unread-stdout")
        let process = Process()
        process.executableURL = try Launcher.binary("swift-llm-train")
        process.arguments = try trainArguments(run, ["--steps", "100000"])
        process.currentDirectoryURL = repositoryRoot
        process.environment = Launcher.inheritedEnvironment.merging(Launcher.mpiEnvironment) { $1 }
        let unread = Pipe()
        XCTAssertGreaterThan(fcntl(unread.fileHandleForWriting.fileDescriptor, 1031 /* F_SETPIPE_SZ */, 4096), 0)
        process.standardOutput = unread
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        waitForTrainRecords(run, 200)  // ~20 KB of progress lines into a 4 KB pipe
        XCTAssertGreaterThanOrEqual(try run.trainLosses().count, 200, "training must go on past a full stdout pipe")
        XCTAssertEqual(kill(process.processIdentifier, SIGTERM), 0)
        let latest = run.checkpoints.appendingPathComponent("latest")
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline && !FileManager.default.fileExists(atPath: latest.path) { usleep(50_000) }
        try assertStoppedWithACheckpoint(run, "(stdout was not read)", file: #filePath, line: #line)
    }

    private func assertStopsForGood(_ options: [String], signalling targets: @escaping (Process) -> [Int32],
                                    file: StaticString = #filePath, line: UInt = #line) throws {
        let run = try TrainingRun(self, "launch-stop")
        var delivered = false
        let result = try launch(["-n", "2"] + options, run, ["--steps", "100000"]) { process in
            self.waitForTrainRecords(run, 3)
            let pids = targets(process)
            delivered = !pids.isEmpty && pids.allSatisfy { kill($0, SIGTERM) == 0 }
        }
        XCTAssertTrue(delivered, file: file, line: line)
        XCTAssertTrue(result.output.contains("launch: stopped for good"), result.output, file: file, line: line)
        XCTAssertEqual(try run.records(event: "restart").count, 0, result.output, file: file, line: line)
        try assertStoppedWithACheckpoint(run, result.output, file: file, line: line)
    }

    private func assertMpirunStopsWithACheckpoint(_ mpirunOptions: [String], signal: @escaping (Int32) -> Int32,
                                                  file: StaticString = #filePath, line: UInt = #line) throws {
        let run = try TrainingRun(self, "mpirun-stop")
        var delivered = false
        let arguments = ["-n", "2"] + mpirunOptions + [try Launcher.binary("swift-llm-train").path]
            + (try trainArguments(run, ["--steps", "100000"]))
        let result = try Launcher.run(URL(fileURLWithPath: "/usr/bin/mpirun"), arguments,
                                      environment: Launcher.mpiEnvironment, timeout: 60, directory: repositoryRoot) {
            self.waitForTrainRecords(run, 3)
            delivered = signal($0.processIdentifier) == 0
        }
        XCTAssertTrue(delivered, file: file, line: line)
        try assertStoppedWithACheckpoint(run, result.output, file: file, line: line)
    }

    /// The coordinator's stop marker names the last step logged, and `latest` is that step's
    /// checkpoint. (Not its console line: what rank 0 prints while mpirun sleeps may be lost.)
    private func assertStoppedWithACheckpoint(_ run: TrainingRun, _ output: String,
                                              file: StaticString, line: UInt) throws {
        let stopStep = try XCTUnwrap(try run.trainLosses().last?.step, file: file, line: line)
        let marker = try? String(contentsOf: run.directory.appendingPathComponent("stopped-by-signal"), encoding: .utf8)
        XCTAssertEqual(marker, "stopped by a signal (SIGTERM/SIGINT/SIGUSR1) after step \(stopStep)\n", output,
                       file: file, line: line)
        XCTAssertEqual(try run.latestCheckpoint().lastPathComponent, String(format: "step-%06d", stopStep), output,
                       file: file, line: line)
    }

    /// Waits (up to a minute) until metrics.jsonl holds `count` train records.
    private func waitForTrainRecords(_ run: TrainingRun, _ count: Int) {
        let metrics = run.directory.appendingPathComponent("metrics.jsonl")
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline,
              ((try? String(contentsOf: metrics, encoding: .utf8))?.components(separatedBy: "\"train\"").count ?? 0)
                <= count {
            usleep(20_000)
        }
    }

    /// `--resume auto`: an empty run directory starts fresh; one with checkpoints resumes.
    func testResumeAutoStartsFreshThenResumes() throws {
        let run = try TrainingRun(self, "resume-auto")
        let first = try Launcher.run("swift-llm-train", try trainArguments(run, ["--steps", "6", "--until-step", "3",
                                                                                 "--resume", "auto"]),
                                     directory: repositoryRoot)
        XCTAssertEqual(first.status, 0, first.output)
        XCTAssertTrue(first.output.contains("--resume auto: no checkpoint"), first.output)
        let again = try Launcher.run("swift-llm-train", try trainArguments(run, ["--steps", "6", "--resume", "auto"]),
                                     directory: repositoryRoot)
        XCTAssertEqual(again.status, 0, again.output)
        XCTAssertTrue(again.output.contains("resumed from") && again.output.contains("at step 3"), again.output)
        XCTAssertEqual(try run.trainLosses().map(\.step), Array(1...6))
    }

    /// The pids of `parent`'s children called `name` (found by parent pid and command name in
    /// /proc: launch may have other children, and /proc/PID/task/PID/children lists only one
    /// thread's).
    private static func children(of parent: Int32, named name: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { return false }
            let command = stat[stat.index(after: open)..<close]
            let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
            return command == name && fields.count > 1 && Int32(fields[1]) == parent
        }
    }
}
