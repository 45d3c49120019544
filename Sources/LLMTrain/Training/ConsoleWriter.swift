import Foundation
import Synchronization

/// The console lines of `RunLog`, written to a file descriptor (stdout) by a thread of their
/// own, so the training loop never waits for whoever reads them.
///
/// Why: under mpirun a rank's stdout is a pseudo-terminal that mpirun drains. When mpirun ends a
/// job (`kill -TERM <mpirun>`, Ctrl-C, a failed rank) it sends SIGCONT, sleeps
/// odls_base_sigkill_timeout seconds, sends SIGTERM, sleeps again and sends SIGKILL, reading
/// nothing meanwhile. A rank printing a line a step filled the terminal's buffer (about 20 KB,
/// measured) during the first sleep and blocked in write(2): it never reached the step boundary
/// where SIGTERM makes it stop and save, and was killed without a checkpoint.
///
/// Lines beyond `limit` waiting bytes are dropped, and the next line that gets through says how
/// many (metrics.jsonl keeps every record).
public final class ConsoleWriter: Sendable {
    public static let standardOutput: ConsoleWriter = {
        // Lines still queued when the process exits are written first (for at most 5 s).
        atexit { ConsoleWriter.standardOutput.flush(within: 5) }
        return ConsoleWriter(fileDescriptor: STDOUT_FILENO)
    }()

    private let fileDescriptor: Int32
    private let limit: Int
    private let queue = DispatchQueue(label: "swift-llm-train.console")
    private let waitingBytes = Atomic<Int>(0)
    private let droppedLines = Atomic<Int>(0)

    public init(fileDescriptor: Int32, limit: Int = 1 << 20) {
        self.fileDescriptor = fileDescriptor
        self.limit = limit
    }

    /// Queues `text` and returns at once.
    public func write(_ text: String) {
        let size = text.utf8.count
        guard waitingBytes.add(size, ordering: .relaxed).newValue <= limit else {
            waitingBytes.subtract(size, ordering: .relaxed)
            droppedLines.add(1, ordering: .relaxed)
            return
        }
        // Counted here, not on the writing thread, so the notice lands where the lines went missing.
        let dropped = droppedLines.exchange(0, ordering: .relaxed)
        let notice = dropped == 0 ? ""
            : "[\(dropped) console line\(dropped == 1 ? "" : "s") dropped: output was not being read]\n"
        let bytes = Array((notice + text).utf8)
        queue.async {
            self.writeAll(bytes)
            self.waitingBytes.subtract(size, ordering: .relaxed)
        }
    }

    /// Waits until everything queued so far is written, or `seconds` have passed: output nobody
    /// reads must not keep the process from ending. Returns whether it was all written.
    @discardableResult
    public func flush(within seconds: Double) -> Bool {
        let done = DispatchSemaphore(value: 0)
        queue.async { done.signal() }
        return done.wait(timeout: .now() + seconds) == .success
    }

    private func writeAll(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Foundation.write(fileDescriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return  // stdout closed or broken: there is nobody to tell
                }
            }
        }
    }
}
