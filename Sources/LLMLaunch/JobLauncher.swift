import Foundation
import LLMTrain
import Synchronization

/// What `swift-llm-train launch` runs: the training command, under mpirun, restarted by the policy.
public struct LaunchRequest: Sendable {
    public var mpirun: MPIRunCommand
    /// The mpirun executable (a path, or a name looked up in PATH).
    public var mpirunPath: String
    /// The swift-llm-train binary every rank runs.
    public var program: String
    /// `train ARGS` or `finetune ARGS`, without --resume (launch adds `--resume auto`).
    public var command: [String]
    public var runDirectory: URL
    public var policy: RestartPolicy
    /// Whether the run's global batch splits over a world size (the config's `batchPlan`).
    public var fits: @Sendable (Int) -> Bool

    public init(mpirun: MPIRunCommand, mpirunPath: String, program: String, command: [String], runDirectory: URL,
                policy: RestartPolicy, fits: @escaping @Sendable (Int) -> Bool) {
        self.mpirun = mpirun
        self.mpirunPath = mpirunPath
        self.program = program
        self.command = command
        self.runDirectory = runDirectory
        self.policy = policy
        self.fits = fits
    }
}

/// Runs the job, relaunching it after failures as `RestartPolicy` says, and returns the exit
/// status for `launch`: 0 when the job finished, mpirun's status (or 128 + the signal) when it
/// was stopped or restarts ran out. Every restart is printed and recorded in the run's
/// metrics.jsonl as `event: restart` with its cause.
public enum JobLauncher {
    public static func run(_ request: LaunchRequest) throws -> Int32 {
        LaunchSignal.install()
        try FileManager.default.createDirectory(at: request.runDirectory, withIntermediateDirectories: true)
        let marker = request.runDirectory.appendingPathComponent(Trainer.stopMarkerName)
        var mpirun = request.mpirun
        var restarts = 0, failuresWithoutProgress = 0
        try placeOnAnsweringHosts(&mpirun, request)
        while true {
            try? FileManager.default.removeItem(at: marker)
            let checkpointBefore = try latestCheckpointStep(request.runDirectory)
            try runLog(request).note("launch: attempt \(restarts + 1) (at most \(request.policy.maxRestarts + 1)): "
                                     + "\(mpirun.ranks) "
                     + "rank\(mpirun.ranks == 1 ? "" : "s"), "
                     + (checkpointBefore.map { "resuming from the checkpoint of step \($0)" } ?? "no checkpoint yet"))
            let signalsBefore = LaunchSignal.received
            let (status, stderrLines) = try runAttempt(mpirun, request)
            // Opened after the attempt: the ranks appended to metrics.jsonl meanwhile.
            let log = try runLog(request)
            let outcome = AttemptOutcome.classify(
                status: status, launchSignalled: LaunchSignal.received != signalsBefore,
                stopMarker: (try? String(contentsOf: marker, encoding: .utf8))?.trimmingCharacters(in: .newlines),
                cause: mpirun.hostfile.flatMap {
                    HostProbe.lostHost(stderrLines: stderrLines, hostfile: URL(fileURLWithPath: $0), ranks: mpirun.ranks)
                } ?? failureCause(stderrLines: stderrLines, status: status))
            switch outcome {
            case .finished:
                log.note("launch: the job ended by itself (mpirun exit status 0) after \(restarts) "
                         + "restart\(restarts == 1 ? "" : "s")")
                return 0
            case .stopped(let why):
                log.note("launch: stopped for good (\(why)); not restarting. Run the same command again to continue "
                         + "from the latest checkpoint")
                return LaunchSignal.received > 0 ? LaunchSignal.exitStatus : status
            case .failed(let cause):
                guard restarts < request.policy.maxRestarts else {
                    log.note("launch: giving up after \(restarts) restart\(restarts == 1 ? "" : "s") "
                             + "(--max-restarts \(request.policy.maxRestarts)); last failure: \(cause)")
                    return status == 0 ? 1 : status
                }
                let checkpointAfter = try latestCheckpointStep(request.runDirectory)
                log.note("launch: attempt \(restarts + 1) failed: \(cause)")
                let previousRanks = mpirun.ranks
                try placeOnAnsweringHosts(&mpirun, request)
                failuresWithoutProgress = checkpointAfter != checkpointBefore ? 1 : failuresWithoutProgress + 1
                let next = request.policy.worldSize(current: mpirun.ranks,
                                                    failuresWithoutProgress: failuresWithoutProgress, fits: request.fits)
                if next.size != mpirun.ranks { failuresWithoutProgress = 0 }
                restarts += 1
                let delay = request.policy.delay(beforeRestart: restarts)
                if let reason = next.reason { log.note("launch: \(reason)") }
                log.note("launch: restart \(restarts) of at most \(request.policy.maxRestarts) in "
                         + "\(String(format: "%.1f", delay)) s with \(next.size) rank\(next.size == 1 ? "" : "s")")
                var strings = ["cause": cause]
                strings["world_size_change"] = next.reason
                log.record(["restart": Double(restarts), "world_size": Double(next.size),
                            "previous_world_size": Double(previousRanks), "exit_status": Double(status),
                            "backoff_s": delay, "checkpoint_step": Double(checkpointAfter ?? 0)],
                           strings: strings, event: "restart")
                mpirun.ranks = next.size
                guard LaunchSignal.sleep(delay) else {
                    log.note("launch: stop signal during the back-off; not restarting")
                    return LaunchSignal.exitStatus
                }
            }
        }
    }

    /// With a hostfile: the next attempt runs on the hosts that still answer (`HostProbe`), with
    /// no more ranks than their slots once a host is gone.
    private static func placeOnAnsweringHosts(_ mpirun: inout MPIRunCommand, _ request: LaunchRequest) throws {
        guard let hostfile = request.mpirun.hostfile else { return }
        let log = try runLog(request)
        let probe = HostProbe(mpirunArguments: request.mpirun.extraArguments,
                              environment: ProcessInfo.processInfo.environment)
        let hosts = try probe.answering(hostfile: URL(fileURLWithPath: hostfile), runDirectory: request.runDirectory,
                                        log: log.note)
        mpirun.hostfile = hosts.hostfile.path
        guard !hosts.everyHost else { return }
        guard let size = HostProbe.worldSize(current: mpirun.ranks, slots: hosts.slots,
                                             minRanks: request.policy.minRanks, fits: request.fits) else {
            throw TrainingError("launch: the hosts that answer have \(hosts.slots) slots, and no world size from "
                                + "--min-ranks \(request.policy.minRanks) up to that splits the global batch")
        }
        if size != mpirun.ranks {
            log.note("launch: \(mpirun.ranks) ranks -> \(size), to fit the slots of the hosts that answer")
        }
        mpirun.ranks = size
    }

    private static func runLog(_ request: LaunchRequest) throws -> RunLog {
        try RunLog(runDirectory: request.runDirectory, enabled: true)
    }

    /// The step of the run directory's latest checkpoint, if any (not verified: progress only).
    static func latestCheckpointStep(_ runDirectory: URL) throws -> Int? {
        try CheckpointStore(runDirectory: runDirectory).latest()?.step
    }

    /// One mpirun: its stderr is passed through and kept (for the failure's cause). Stop signals
    /// to launch are forwarded to mpirun as SIGUSR1, which it passes to every rank (a stop with a
    /// checkpoint) without starting its own kill sequence.
    private static func runAttempt(_ mpirun: MPIRunCommand, _ request: LaunchRequest) throws -> (Int32, [String]) {
        let environment = mpirun.environment(base: ProcessInfo.processInfo.environment, isRoot: getuid() == 0,
                                              cores: ProcessInfo.processInfo.activeProcessorCount)
        let process = Process()
        process.executableURL = try executable(request.mpirunPath, path: environment["PATH"] ?? "/usr/bin:/bin")
        process.arguments = mpirun.arguments(program: request.program, command: request.command,
                                             environment: environment)
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        let captured = CapturedStream()
        let reader = Thread { captured.drain(errors.fileHandleForReading) }
        reader.start()
        try process.run()
        try? errors.fileHandleForWriting.close()
        var forwarded = LaunchSignal.received
        while process.isRunning {
            if LaunchSignal.received > forwarded {
                forwarded += 1
                kill(process.processIdentifier, SIGUSR1)
            }
            usleep(20_000)
        }
        process.waitUntilExit()
        let lines = captured.waitForLines()
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus
            : process.terminationStatus
        return (status, lines)
    }

    private static func executable(_ name: String, path: String) throws -> URL {
        if name.contains("/") { return URL(fileURLWithPath: name) }
        for directory in path.split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw TrainingError("launch: \(name) is not in PATH; install Open MPI (apt-get install openmpi-bin) or pass "
                            + "--mpirun PATH")
    }
}

/// mpirun's stderr: copied to launch's stderr as it arrives, and the last lines kept.
private final class CapturedStream: Sendable {
    private let text = Mutex(Data())
    private let done = DispatchSemaphore(value: 0)
    private static let keptBytes = 1 << 20

    func drain(_ handle: FileHandle) {
        while case let chunk = handle.availableData, !chunk.isEmpty {
            FileHandle.standardError.write(chunk)
            text.withLock { text in
                text.append(chunk)
                if text.count > 2 * Self.keptBytes { text.removeFirst(text.count - Self.keptBytes) }
            }
        }
        done.signal()
    }

    func waitForLines() -> [String] {
        done.wait()
        return text.withLock { String(decoding: $0, as: UTF8.self) }.split(separator: "\n").map(String.init)
    }
}
