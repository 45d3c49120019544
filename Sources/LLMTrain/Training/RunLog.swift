import Foundation

/// The coordinator's record of a run: `metrics.jsonl` (one JSON object a line, for plotting)
/// and the human-readable progress line. Other ranks get a log that writes nothing.
public final class RunLog {
    private let handle: FileHandle?
    private let interactive: Bool
    public let enabled: Bool

    public init(runDirectory: URL, enabled: Bool) throws {
        self.enabled = enabled
        // Under mpirun the ranks' stdout is a pseudo-terminal even when mpirun's own output goes
        // to a file, so in-place rewriting is kept for single-process runs on a real terminal.
        interactive = isatty(STDOUT_FILENO) != 0 && ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"] == nil
        guard enabled else { handle = nil; return }
        let url = runDirectory.appendingPathComponent("metrics.jsonl")
        if !FileManager.default.fileExists(atPath: url.path) {
            _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        }
        guard let handle = FileHandle(forWritingAtPath: url.path) else {
            throw TrainingError("\(url.path): cannot open the metrics file for writing; check the run directory's permissions")
        }
        handle.seekToEndOfFile()
        self.handle = handle
    }

    /// Appends one metrics record; keys are sorted so lines diff and grep well. `arrays` holds
    /// JSON arrays (label names, a confusion matrix as [[Int]]).
    public func record(_ fields: [String: Double], arrays: [String: Any] = [:], event: String) {
        guard let handle else { return }
        var object: [String: Any] = fields.mapValues { $0.isFinite ? $0 as Any : String(describing: $0) as Any }
        object.merge(arrays) { $1 }
        object["event"] = event
        object["time"] = Date().timeIntervalSince1970
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        handle.write(data + Data("\n".utf8))
    }

    /// The one-line progress display: rewritten in place on a terminal, a plain line otherwise.
    public func progress(_ line: String) {
        guard enabled else { return }
        if interactive {
            print("\r\u{1B}[K" + line, terminator: "")
            fflush(stdout)
        } else {
            print(line)
        }
    }

    /// A message that must stay on screen (evaluation, checkpoints, warnings).
    public func note(_ line: String) {
        guard enabled else { return }
        if interactive { print("\r\u{1B}[K", terminator: "") }
        print(line)
        fflush(stdout)
    }
}

/// A training failure with a message that says what to do.
public struct TrainingError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
