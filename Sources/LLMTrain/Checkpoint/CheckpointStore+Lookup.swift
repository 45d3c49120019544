import Foundation

/// A checkpoint that passed verification, and the newer ones passed over to reach it.
public struct ValidCheckpoint {
    public struct Skipped {
        public let checkpoint: Checkpoint
        public let reason: CheckpointError
    }

    public let checkpoint: Checkpoint
    public let skipped: [Skipped]
}

extension CheckpointStore {
    /// Finished checkpoints in step order. Leftover `*.tmp-*` / `*.old-*` directories are not
    /// checkpoints and never appear here.
    public func checkpoints() throws -> [Checkpoint] {
        try DurableFile.entries(of: directory.path).compactMap { name in
            Checkpoint.step(fromDirectoryName: name).map {
                Checkpoint(step: $0, directory: directory.appendingPathComponent(name, isDirectory: true))
            }
        }.sorted { $0.step < $1.step }
    }

    /// The checkpoint `latest` names; if the pointer is absent, the highest step on disk.
    /// Not verified: use `latestValid(allowFallback:)` to resume.
    public func latest() throws -> Checkpoint? {
        if let pointed = try pointedCheckpoint(CheckpointStore.latestPointerName) { return pointed }
        return try checkpoints().last
    }

    /// The checkpoint with the lowest validation loss seen so far, if any save reported one.
    public func best() throws -> Checkpoint? {
        try pointedCheckpoint(CheckpointStore.bestPointerName)
    }

    /// The checkpoint to resume from. Returns nil when there are no checkpoints at all.
    /// If the latest fails verification this throws, unless `allowFallback` is set: then it walks
    /// back to the newest earlier checkpoint that verifies and lists the ones it skipped.
    public func latestValid(allowFallback: Bool) throws -> ValidCheckpoint? {
        guard let latest = try latest() else { return nil }
        var skipped: [ValidCheckpoint.Skipped] = []
        do {
            try latest.verify()
            return ValidCheckpoint(checkpoint: latest, skipped: [])
        } catch let error as CheckpointError {
            guard allowFallback else { throw CheckpointError.latestCorrupt(directory: latest.directory.path, cause: error.description) }
            skipped.append(.init(checkpoint: latest, reason: error))
        }
        for candidate in try checkpoints().reversed() where candidate.step < latest.step {
            do {
                try candidate.verify()
                return ValidCheckpoint(checkpoint: candidate, skipped: skipped)
            } catch let error as CheckpointError {
                skipped.append(.init(checkpoint: candidate, reason: error))
            }
        }
        throw CheckpointError.noValidCheckpoint(directory: directory.path, skipped: skipped.map { "\($0.checkpoint.name): \($0.reason)" })
    }

    /// Resolves what a user typed for `--resume`: "latest", "best", a step number, a directory
    /// name such as "step-000123", or a path to a checkpoint directory.
    public func resolve(_ reference: String) throws -> Checkpoint {
        switch reference {
        case "latest":
            guard let latest = try latest() else { throw CheckpointError.noCheckpoints(directory: directory.path) }
            return latest
        case "best":
            guard let best = try best() else {
                throw CheckpointError.checkpointNotFound(reference: reference, searched: directory.appendingPathComponent(CheckpointStore.bestPointerName).path)
            }
            return best
        default:
            break
        }
        if let step = Int(reference), step >= 0 {
            return try existing(Checkpoint(step: step, directory: directory.appendingPathComponent(Checkpoint.directoryName(step: step), isDirectory: true)), reference: reference)
        }
        if let step = Checkpoint.step(fromDirectoryName: reference) {
            return try existing(Checkpoint(step: step, directory: directory.appendingPathComponent(reference, isDirectory: true)), reference: reference)
        }
        let url = URL(fileURLWithPath: reference, isDirectory: true).standardizedFileURL
        let manifest = try? CheckpointManifest.read(from: url)
        guard let step = Checkpoint.step(fromDirectoryName: url.lastPathComponent) ?? manifest?.step else {
            throw CheckpointError.checkpointNotFound(reference: reference, searched: url.path)
        }
        return try existing(Checkpoint(step: step, directory: url), reference: reference)
    }

    private func existing(_ checkpoint: Checkpoint, reference: String) throws -> Checkpoint {
        guard FileManager.default.fileExists(atPath: checkpoint.directory.path) else {
            throw CheckpointError.checkpointNotFound(reference: reference, searched: checkpoint.directory.path)
        }
        return checkpoint
    }

    /// Reads a pointer file. Its content must be a plain checkpoint directory name, so a damaged
    /// pointer can never send us outside the checkpoints directory.
    func pointedCheckpoint(_ pointer: String) throws -> Checkpoint? {
        let url = directory.appendingPathComponent(pointer)
        guard let data = FileManager.default.contents(atPath: url.path),
              let name = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines),
              let step = Checkpoint.step(fromDirectoryName: name) else { return nil }
        return Checkpoint(step: step, directory: directory.appendingPathComponent(name, isDirectory: true))
    }
}
