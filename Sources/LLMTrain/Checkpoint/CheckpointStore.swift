#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import LLMData
import LLMSupport

/// Manages `RUN_DIR/checkpoints/`: atomic saves, the `latest` and `best` pointers, retention,
/// verification and fallback. Only one process (rank 0) may save into a directory at a time.
///
/// Layout:
///
///     checkpoints/
///       step-000100/   model.safetensors, optimizer.safetensors, state.json, manifest.json
///       step-000200/
///       latest         text file: "step-000200"
///       best           text file: name of the checkpoint with the lowest validation loss
public final class CheckpointStore: Sendable {
    public static let latestPointerName = "latest"
    public static let bestPointerName = "best"

    public let directory: URL
    /// How many of the newest checkpoints survive retention (the best one is kept in addition).
    public let keepLast: Int

    /// - Parameter runDirectory: the run's directory; checkpoints live in its `checkpoints/`.
    public init(runDirectory: URL, keepLast: Int = 3) throws {
        precondition(keepLast >= 1, "keepLast must be at least 1 so the latest checkpoint survives")
        self.directory = runDirectory.appendingPathComponent("checkpoints", isDirectory: true)
        self.keepLast = keepLast
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw CheckpointError.io(path: directory.path, operation: "create directory", reason: error.localizedDescription)
        }
    }

    /// Saves checkpoint `step` atomically: it becomes visible (and `latest`) only once every file
    /// is durable and listed in its manifest. If `writeFiles` throws, or the process dies first,
    /// `latest` still names the previous checkpoint.
    ///
    /// - Parameters:
    ///   - state: the trainer's resumable state, stored as `state.json`.
    ///   - validationLoss: if given and finite, the checkpoint becomes `best` when its loss is the
    ///     lowest so far (ties keep the earlier checkpoint).
    ///   - writeFiles: writes the checkpoint's files (plain files, no subdirectories) into the
    ///     directory it is handed, e.g. with `SafeTensorsWriter.write(_:metadata:to:)`.
    @discardableResult
    public func save<State: Encodable>(step: Int, state: State, validationLoss: Double? = nil,
                                       writeFiles: (URL) throws -> Void) throws -> Checkpoint {
        guard step >= 0 else { throw CheckpointError.invalidStep(step) }
        removeLeftovers()

        let name = Checkpoint.directoryName(step: step)
        let staging = directory.appendingPathComponent("\(name).tmp-\(getpid())", isDirectory: true)
        do {
            try DurableFile.makeDirectory(staging.path)
            try writeFiles(staging)
            try writeState(state, into: staging)
            try writeManifest(step: step, validationLoss: validationLoss, in: staging)
        } catch {
            try? FileManager.default.removeItem(at: staging)
            throw error
        }

        let checkpoint = Checkpoint(step: step, directory: directory.appendingPathComponent(name, isDirectory: true))
        try publish(staging, as: checkpoint)
        try writePointer(CheckpointStore.latestPointerName, to: checkpoint)
        if let validationLoss = validationLoss, validationLoss.isFinite, try isBetterThanBest(validationLoss) {
            try writePointer(CheckpointStore.bestPointerName, to: checkpoint)
        }
        try applyRetention()
        return checkpoint
    }

    private func writeState<State: Encodable>(_ state: State, into staging: URL) throws {
        let url = staging.appendingPathComponent(Checkpoint.stateFileName)
        guard !FileManager.default.fileExists(atPath: url.path) else {
            throw CheckpointError.reservedFileName(name: Checkpoint.stateFileName)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = Checkpoint.nonFiniteFloatEncoding
        let data = try encoder.encode(state)
        do {
            try data.write(to: url)
        } catch {
            throw CheckpointError.io(path: url.path, operation: "write", reason: error.localizedDescription)
        }
    }

    /// fsyncs and hashes every file the writer produced, then writes the manifest last and
    /// fsyncs the directory, so a manifest only ever describes files that are on disk.
    private func writeManifest(step: Int, validationLoss: Double?, in staging: URL) throws {
        var entries: [CheckpointManifest.Entry] = []
        for name in try DurableFile.entries(of: staging.path) {
            if name == CheckpointManifest.fileName { throw CheckpointError.reservedFileName(name: name) }
            let url = staging.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
                throw CheckpointError.unexpectedSubdirectory(directory: staging.path, name: name)
            }
            let size = try DurableFile.syncAndMeasure(path: url.path)
            entries.append(.init(name: name, bytes: size, sha256: try SHA256.hash(fileAt: url)))
        }
        // JSON has no NaN; a diverged run still gets its checkpoint, just without a loss.
        let manifest = CheckpointManifest(formatVersion: CheckpointManifest.currentFormatVersion, step: step,
                                          validationLoss: validationLoss.flatMap { $0.isFinite ? $0 : nil },
                                          createdAt: ISO8601DateFormatter().string(from: Date()), files: entries)
        try DurableFile.writeAtomically(try manifest.encoded(), to: staging.appendingPathComponent(CheckpointManifest.fileName).path)
    }

    /// Renames the staged directory into place. A re-save of an existing step moves the old
    /// directory aside first (rename cannot replace a non-empty directory) and deletes it only
    /// after the new one is in place. A crash between the two renames leaves no directory for
    /// this step; `latestValid(allowFallback: true)` then resumes from the one before.
    private func publish(_ staging: URL, as checkpoint: Checkpoint) throws {
        let target = checkpoint.directory.path
        var displaced: String?
        if FileManager.default.fileExists(atPath: target) {
            let aside = "\(target).old-\(getpid())"
            try DurableFile.move(target, to: aside)
            displaced = aside
        }
        do {
            try DurableFile.move(staging.path, to: target)
        } catch {
            // Put the previous checkpoint back: an `.old-*` name would be deleted as a leftover.
            if let displaced = displaced { try? DurableFile.move(displaced, to: target) }
            try? FileManager.default.removeItem(at: staging)
            throw error
        }
        try DurableFile.sync(path: directory.path)
        if let displaced = displaced {
            try? FileManager.default.removeItem(atPath: displaced)
        }
    }

    private func writePointer(_ pointer: String, to checkpoint: Checkpoint) throws {
        try DurableFile.writeAtomically(Data((checkpoint.name + "\n").utf8),
                                        to: directory.appendingPathComponent(pointer).path)
    }

    /// Lower validation loss wins; a missing or unreadable current best is always replaced.
    private func isBetterThanBest(_ validationLoss: Double) throws -> Bool {
        guard let best = try pointedCheckpoint(CheckpointStore.bestPointerName),
              let bestLoss = (try? best.manifest())?.validationLoss else { return true }
        return validationLoss < bestLoss
    }
}
