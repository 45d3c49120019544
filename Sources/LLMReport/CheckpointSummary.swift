import Foundation
import LLMTrain

/// What the report says about a run's checkpoints: each one's step, validation loss and size,
/// and from the latest its state (model shape, world size, progress) and resolved config.
struct CheckpointSummary {
    struct Entry {
        let checkpoint: Checkpoint
        let manifest: CheckpointManifest?
        var bytes: Int? { manifest?.files.reduce(0) { $0 + $1.bytes } }
    }

    var all: [Entry] = []
    var latest: Checkpoint?
    var best: Checkpoint?
    var state: TrainingState?
    var configYAML: String?
    /// Elements of every tensor in the latest model.safetensors.
    var parameterCount: Int?

    /// Reads without creating anything: a run directory without checkpoints gives an empty summary.
    static func read(runDirectory: URL) throws -> CheckpointSummary {
        var summary = CheckpointSummary()
        let directory = runDirectory.appendingPathComponent("checkpoints")
        guard FileManager.default.fileExists(atPath: directory.path) else { return summary }
        let store = try CheckpointStore(runDirectory: runDirectory)
        summary.all = try store.checkpoints().map { Entry(checkpoint: $0, manifest: try? $0.manifest()) }
        summary.latest = try store.latest()
        summary.best = try store.best()
        if let latest = summary.latest {
            summary.state = try? latest.loadState(TrainingState.self)
            summary.configYAML = try? String(contentsOf: latest.file("config.yaml"), encoding: .utf8)
            let weights = try? SafeTensorsFile(contentsOf: latest.file("model.safetensors"))
            summary.parameterCount = weights.map { $0.tensors.reduce(0) { $0 + $1.elementCount } }
        }
        return summary
    }

    func table() -> String {
        var rows = "<table class=\"checkpoints\"><tr><th>checkpoint</th><th>step</th><th>validation "
                   + "loss</th><th>size</th><th></th></tr>"
        for entry in all {
            let c = entry.checkpoint
            let marks = [c == latest ? "latest" : nil, c == best ? "best" : nil].compactMap { $0 }.joined(separator: ", ")
            let loss = entry.manifest?.validationLoss.map { format($0, 4) } ?? "-"
            let size = entry.bytes.map { "\(format(Double($0) / 1_048_576, 2)) MiB" } ?? "manifest unreadable"
            rows += "<tr><td>\(xmlEscape(c.name))</td><td>\(c.step)</td><td>\(loss)</td><td>\(size)</td><td>\(marks)</td></tr>"
        }
        return rows + "</table>"
    }
}
