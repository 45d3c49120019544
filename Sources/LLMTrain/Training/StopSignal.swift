#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM / SIGINT / SIGUSR1 become a request to stop at the next step boundary; the same signal
/// a second time ends the process at once (exit 128 + signal), as users expect of a second Ctrl-C
/// (under launch each Ctrl-C arrives as SIGUSR1). A different one does not: `pkill -TERM -f
/// swift-llm-train` reaches both the ranks (SIGTERM) and launch, which forwards SIGUSR1, and must
/// still end with a checkpoint. SIGUSR1 is
/// how `launch` stops a job: mpirun forwards it to every rank on every host (Open MPI's
/// `ess_base_forward_signals` default) at once. SIGTERM or SIGINT to mpirun itself (Ctrl-C in a
/// terminal reaches only mpirun: each rank has a process group of its own) starts Open MPI 4.1's
/// kill sequence instead (traced): SIGCONT to the ranks, sleep G, SIGTERM, sleep G, SIGKILL, with
/// G = odls_base_sigkill_timeout (default 1 s). So the ranks hear of it G seconds late and have G
/// seconds to finish the step and save; console output must not block meanwhile (ConsoleWriter).
///
/// The handler only sets a flag, or writes a fixed message and `_exit`s: async-signal-safe. The
/// trainer folds the flag into the small per-step all-reduce, so when any rank was signalled
/// every rank stops after the same step, the coordinator saves a checkpoint, and all exit
/// cleanly; one signalled rank is enough. Checkpoints are renamed into place whole, so ending
/// mid-save leaves `latest` on the previous complete one.
public enum StopSignal {
    /// The first stop signal's number, 0 before any.
    nonisolated(unsafe) private static var received: sig_atomic_t = 0
    private static let secondSignalMessage: StaticString =
        "\nswift-llm-train: second stop signal: exiting now, without a checkpoint (the latest saved one is intact)\n"

    public static func install() {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { signal in
            if StopSignal.received == signal {
                let message = StopSignal.secondSignalMessage
                _ = write(STDERR_FILENO, message.utf8Start, message.utf8CodeUnitCount)
                _exit(128 + signal)
            }
            if StopSignal.received == 0 { StopSignal.received = signal }
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(SIGTERM, &action, nil)
        sigaction(SIGINT, &action, nil)
        sigaction(SIGUSR1, &action, nil)
    }

    public static var isRequested: Bool { received != 0 }

    /// Under mpirun, the note a run deserves when a stop by `kill -TERM <mpirun>` or Ctrl-C
    /// would be killed before its checkpoint: mpirun allows the ranks G seconds between its
    /// SIGTERM and its SIGKILL (odls_base_sigkill_timeout, which mpirun passes on to the ranks
    /// when it is set, and 1 s otherwise), and a stop takes the step in flight plus a save. Nil
    /// when G covers it twice over, or outside mpirun.
    public static func graceNote(stepSeconds: Double, saveSeconds: Double, environment: [String: String]) -> String? {
        guard environment["OMPI_COMM_WORLD_SIZE"] != nil else { return nil }
        let grace = environment["OMPI_MCA_odls_base_sigkill_timeout"].flatMap(Double.init) ?? 1
        let needed = stepSeconds + saveSeconds
        guard 2 * needed > grace else { return nil }
        let suggested = max(10, Int((3 * needed).rounded(.up)))
        return "note: a step plus a save take \(String(format: "%.1f", needed)) s here, and mpirun allows the ranks "
            + "\(Int(grace)) s between its SIGTERM and its SIGKILL (odls_base_sigkill_timeout), so `kill -TERM "
            + "<mpirun>` or Ctrl-C may end this run without a checkpoint. Start mpirun with --mca "
            + "odls_base_sigkill_timeout \(suggested) (launch: --stop-grace \(suggested)), or stop it by SIGTERM to "
            + "launch or SIGUSR1 to mpirun, which need no grace"
    }
}
