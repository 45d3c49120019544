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
        guard let handle = FileHandle(forUpdatingAtPath: url.path) else {
            throw TrainingError("\(url.path): cannot open the metrics file for writing; check the run directory's "
                                + "permissions")
        }
        // A run killed mid-line leaves no newline: end that line so a resumed run's first record
        // is not glued to it (readers drop the broken line, and only that one).
        if handle.seekToEndOfFile() > 0 {
            handle.seek(toFileOffset: handle.offsetInFile - 1)
            if handle.readData(ofLength: 1) != Data("\n".utf8) { handle.write(Data("\n".utf8)) }
        }
        self.handle = handle
    }

    /// Appends one metrics record; keys are sorted so lines diff and grep well. `strings` holds
    /// text fields (the BLAS kernel), `arrays` JSON arrays (label names, a confusion matrix as [[Int]]).
    public func record(_ fields: [String: Double], strings: [String: String] = [:], arrays: [String: Any] = [:],
                       event: String) {
        var object: [String: Any] = fields.mapValues { $0.isFinite ? $0 as Any : String(describing: $0) as Any }
        object.merge(strings) { number, _ in number }
        object.merge(arrays) { $1 }
        object["event"] = event
        object["time"] = Date().timeIntervalSince1970
        write(object)
    }

    /// Appends a record of strings under `changes` (e.g. the config fields a resume changed).
    public func record(_ changes: [String], event: String) {
        write(["changes": changes, "event": event, "time": Date().timeIntervalSince1970])
    }

    private func write(_ object: [String: Any]) {
        guard let handle, let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        handle.write(data + Data("\n".utf8))
    }

    /// The one-line progress display: rewritten in place on a terminal, a plain line otherwise.
    public func progress(_ line: String) {
        guard enabled else { return }
        ConsoleWriter.standardOutput.write(interactive ? "\r\u{1B}[K" + line : line + "\n")
    }

    /// A message that must stay on screen (evaluation, checkpoints, warnings).
    public func note(_ line: String) {
        guard enabled else { return }
        ConsoleWriter.standardOutput.write((interactive ? "\r\u{1B}[K" : "") + line + "\n")
    }

    /// Waits (at most a few seconds) until the console lines so far are out, so what the caller
    /// prints next comes after them.
    public func flushConsole() {
        guard enabled else { return }
        ConsoleWriter.standardOutput.flush(within: 5)
    }
}

/// A training failure with a message that says what to do.
public struct TrainingError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
