#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM / SIGINT become a request to stop at the next step boundary.
///
/// The handler only sets a flag (async-signal-safe). The trainer folds the flag into the small
/// per-step all-reduce, so when any rank was signalled every rank stops after the same step,
/// the coordinator saves a checkpoint, and all exit cleanly; one signalled rank is enough.
public enum StopSignal {
    nonisolated(unsafe) private static var received: sig_atomic_t = 0

    public static func install() {
        let handler: @convention(c) (Int32) -> Void = { _ in StopSignal.received = 1 }
        signal(SIGTERM, handler)
        signal(SIGINT, handler)
    }

    public static var isRequested: Bool { received != 0 }
}
