import LLMSupport
#if canImport(Glibc)
import Glibc
#endif

/// SIGINT / SIGTERM to `launch` (a user's Ctrl-C, a scheduler's stop) end the job for good:
/// the handler only counts them, and the launcher forwards each one to mpirun as SIGUSR1 (the
/// trainer's stop request) and does not relaunch. Unlike the trainer's `StopSignal`, a second
/// signal does not end `launch` at once: it is forwarded too (the ranks then exit at once, as
/// on a second Ctrl-C), and `launch` keeps waiting, so the ranks are never left without a parent.
enum LaunchSignal {
    nonisolated(unsafe) private static var count: sig_atomic_t = 0
    nonisolated(unsafe) private static var last: sig_atomic_t = 0

    static func install() {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { signal in
            LaunchSignal.last = signal
            LaunchSignal.count += 1
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(SIGTERM, &action, nil)
        sigaction(SIGINT, &action, nil)
    }

    /// How many stop signals arrived so far.
    static var received: Int { Int(count) }
    /// The exit status a stop by signal reports: 128 + the signal.
    static var exitStatus: Int32 { 128 + Int32(last) }

    /// Sleeps up to `seconds`; false if a stop signal arrived meanwhile.
    static func sleep(_ seconds: Double) -> Bool {
        let end = monotonicSeconds() + seconds
        let before = received
        while monotonicSeconds() < end {
            if received != before { return false }
            usleep(20_000)
        }
        return received == before
    }
}
