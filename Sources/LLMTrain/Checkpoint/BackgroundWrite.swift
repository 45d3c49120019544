import Dispatch
import Foundation
import LLMSupport
import Synchronization

/// One job (a checkpoint save) running on its own thread while the caller goes on; the caller
/// later waits for it or polls it. A thread per save rather than a pool: saves are minutes apart,
/// and a dedicated thread keeps the job off the cooperative pool that Swift concurrency may use.
///
/// Data-race free by construction: the job is `@Sendable`, the outcome lives in a `Mutex`, and
/// the semaphore orders the job's effects before whatever the waiter does next.
final class BackgroundWrite: Sendable {
    /// How the job ended: what it returned, or its error as text (an `any Error` is not
    /// Sendable), and how long it ran.
    struct Outcome: Sendable {
        let result: Result<Checkpoint, Failure>
        let seconds: Double
    }

    struct Failure: Error, Sendable, CustomStringConvertible {
        let description: String
    }

    private let outcome = Mutex<Outcome?>(nil)
    private let finished = DispatchSemaphore(value: 0)

    /// Starts `job` on a new thread named `name`.
    init(name: String, _ job: @escaping @Sendable () throws -> Checkpoint) {
        let thread = Thread { [self] in
            let start = monotonicSeconds()
            let result: Result<Checkpoint, Failure>
            do { result = .success(try job()) } catch { result = .failure(Failure(description: "\(error)")) }
            outcome.withLock { $0 = Outcome(result: result, seconds: monotonicSeconds() - start) }
            finished.signal()
        }
        thread.name = name
        thread.start()
    }

    /// The outcome if the job has ended, without blocking.
    var finishedOutcome: Outcome? { outcome.withLock { $0 } }

    /// Blocks until the job has ended.
    func wait() -> Outcome {
        finished.wait()
        finished.signal()  // later waits return at once
        return outcome.withLock { $0! }
    }
}
