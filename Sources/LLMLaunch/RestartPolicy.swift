import Foundation

/// When and how `launch` relaunches a failed job: pure decisions, no processes, so they are
/// unit-tested on their own.
///
/// - Back-off: the k-th restart waits `backoff * 2^(k-1)` seconds, at most `maxBackoff`, so a
///   job that fails at once does not hammer the machines (or the scheduler) in a tight loop.
/// - Shrinking: a world size "keeps failing" when it failed `shrinkAfter` times in a row
///   without a newer checkpoint in between (a job that makes progress between crashes is
///   merely unlucky). Then the job is relaunched with the largest size below it, at least
///   `minRanks`, that the global batch splits into (resuming at another world size continues
///   the same optimisation problem; see README, "Resuming").
public struct RestartPolicy: Equatable, Sendable {
    public var maxRestarts: Int
    public var minRanks: Int
    public var shrinkAfter: Int
    public var backoff: Double
    public var maxBackoff: Double

    public init(maxRestarts: Int, minRanks: Int, shrinkAfter: Int = 2, backoff: Double = 1, maxBackoff: Double = 60) {
        self.maxRestarts = maxRestarts
        self.minRanks = minRanks
        self.shrinkAfter = shrinkAfter
        self.backoff = backoff
        self.maxBackoff = maxBackoff
    }

    /// Seconds to wait before restart number `restart` (1 for the first).
    public func delay(beforeRestart restart: Int) -> Double {
        min(maxBackoff, backoff * Double(1 << min(max(restart - 1, 0), 30)))
    }

    /// The world size for the next attempt after `failuresWithoutProgress` failures in a row at
    /// `current` ranks, and why it changed (nil: unchanged). `fits` says whether the config's
    /// batch splits over a world size (the trainer's own `batchPlan` check).
    public func worldSize(current: Int, failuresWithoutProgress: Int,
                          fits: (Int) -> Bool) -> (size: Int, reason: String?) {
        guard failuresWithoutProgress >= shrinkAfter, current > minRanks else { return (current, nil) }
        guard let smaller = (minRanks..<current).reversed().first(where: fits) else {
            return (current, "\(current) ranks failed \(failuresWithoutProgress) times in a row without a new "
                             + "checkpoint, but no smaller world size >= --min-ranks \(minRanks) splits the global "
                             + "batch; staying at \(current)")
        }
        return (smaller, "\(current) ranks failed \(failuresWithoutProgress) times in a row without a new checkpoint; "
                         + "shrinking to \(smaller) (the largest size >= --min-ranks \(minRanks) that splits the "
                         + "global batch)")
    }
}

/// How one `mpirun` attempt ended, as far as restarting goes.
public enum AttemptOutcome: Equatable, Sendable {
    /// Exit 0: the trainer ended by itself (finished, --until-step, or a stop signal with a checkpoint).
    case finished
    /// A user's or scheduler's stop: never restarted.
    case stopped(String)
    /// Anything else: restarted while restarts remain.
    case failed(String)

    /// A stop is told from a failure by two facts that do not depend on mpirun's exit status
    /// (which is non-zero whenever mpirun itself was signalled): `launch` itself received
    /// SIGINT/SIGTERM, or the trainer wrote its stop marker (`Trainer.stopMarkerName`) because a
    /// rank received one. Otherwise status 0 is success and any other status a failure.
    public static func classify(status: Int32, launchSignalled: Bool, stopMarker: String?,
                                cause: String) -> AttemptOutcome {
        if launchSignalled { return .stopped("launch received a stop signal") }
        if let stopMarker { return .stopped(stopMarker) }
        return status == 0 ? .finished : .failed(cause)
    }
}

/// The most telling line of a failed attempt's stderr: the watchdog's verdict, then a rank's own
/// error, then mpirun's account of a rank that died; else the exit status.
public func failureCause(stderrLines: [String], status: Int32) -> String {
    let preferences: [(String) -> Bool] = [
        { $0.contains("step watchdog:") },
        { $0.contains("swift-llm-train: rank ") || $0.contains("swift-llm-train: error:") },
        { $0.contains("exited on signal") || $0.contains("noticed that process rank") },
        { $0.contains("exiting improperly") || $0.contains("MPI_ABORT was invoked") },
    ]
    for matches in preferences {
        if let line = stderrLines.first(where: matches) {
            return line.trimmingCharacters(in: .whitespaces) + " (mpirun exit status \(status))"
        }
    }
    return "mpirun exited with status \(status)"
}
