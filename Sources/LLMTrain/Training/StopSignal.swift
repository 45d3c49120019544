#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM / SIGINT / SIGUSR1 become a request to stop at the next step boundary; a second one
/// ends the process at once (exit 128 + signal), as users expect of a second Ctrl-C. SIGUSR1 is
/// how `launch` stops a job: mpirun forwards it to every rank on every host (Open MPI's
/// `ess_base_forward_signals` default) without starting its own kill sequence, which SIGTERM to
/// mpirun does.
///
/// The handler only sets a flag, or writes a fixed message and `_exit`s: async-signal-safe. The
/// trainer folds the flag into the small per-step all-reduce, so when any rank was signalled
/// every rank stops after the same step, the coordinator saves a checkpoint, and all exit
/// cleanly; one signalled rank is enough. Checkpoints are renamed into place whole, so ending
/// mid-save leaves `latest` on the previous complete one.
public enum StopSignal {
    nonisolated(unsafe) private static var received: sig_atomic_t = 0
    private static let secondSignalMessage: StaticString =
        "\nswift-llm-train: second stop signal: exiting now, without a checkpoint (the latest saved one is intact)\n"

    public static func install() {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { signal in
            if StopSignal.received != 0 {
                let message = StopSignal.secondSignalMessage
                _ = write(STDERR_FILENO, message.utf8Start, message.utf8CodeUnitCount)
                _exit(128 + signal)
            }
            StopSignal.received = 1
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(SIGTERM, &action, nil)
        sigaction(SIGINT, &action, nil)
        sigaction(SIGUSR1, &action, nil)
    }

    public static var isRequested: Bool { received != 0 }
}
