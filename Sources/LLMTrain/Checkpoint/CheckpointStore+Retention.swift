import Foundation

extension CheckpointStore {
    /// Keeps the newest `keepLast` checkpoints plus `latest` and `best`. Runs only after the new
    /// checkpoint and its pointers are durable, so a crash here never loses the checkpoint we
    /// would resume from.
    func applyRetention() throws {
        let all = try checkpoints()
        var keep = Set(all.suffix(keepLast).map(\.name))
        for pointer in [CheckpointStore.latestPointerName, CheckpointStore.bestPointerName] {
            if let target = try pointedCheckpoint(pointer) { keep.insert(target.name) }
        }
        for checkpoint in all where !keep.contains(checkpoint.name) {
            // Rename first so a crash mid-delete leaves an ignored leftover, not a checkpoint
            // with missing files.
            let doomed = "\(checkpoint.directory.path).old-\(getpid())"
            try DurableFile.move(checkpoint.directory.path, to: doomed)
            try? FileManager.default.removeItem(atPath: doomed)
        }
    }

    /// Deletes staging directories, displaced directories and pointer temp files left by a
    /// process that died mid-save. They are never read, only cleaned up here.
    func removeLeftovers() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return }
        for name in names where name.contains(".tmp-") || name.contains(".old-") {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
    }
}
