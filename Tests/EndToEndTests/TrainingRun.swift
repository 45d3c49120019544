import Foundation
import XCTest

/// A scratch run directory, removed after the test.
struct TrainingRun: RunDirectoryReading {
    let directory: URL

    init(_ testCase: XCTestCase, _ name: String) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("llm-e2e-\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let dir = directory
        testCase.addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    }

    var path: String { directory.path }
}

/// Any run directory, e.g. one a run created below a scratch directory.
struct TrainingRunReader: RunDirectoryReading {
    let directory: URL
}

/// Readers for what a training run leaves in its directory.
protocol RunDirectoryReading {
    var directory: URL { get }
}

extension RunDirectoryReading {
    /// (step, train_loss) of every logged training step, in file order.
    func trainLosses() throws -> [(step: Int, loss: Double)] {
        try records(event: "train").map { (Int($0["step"] as! Double), $0["train_loss"] as! Double) }
    }

    func records(event: String) throws -> [[String: Any]] {
        let text = try String(contentsOf: directory.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").compactMap { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            return object["event"] as? String == event ? object : nil
        }
    }

    var checkpoints: URL { directory.appendingPathComponent("checkpoints") }

    func latestCheckpoint() throws -> URL {
        let name = try String(contentsOf: checkpoints.appendingPathComponent("latest"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return checkpoints.appendingPathComponent(name)
    }

    /// sha256 of each file in a checkpoint, from its manifest.
    func checksums(_ checkpoint: URL) throws -> [String: String] {
        let data = try Data(contentsOf: checkpoint.appendingPathComponent("manifest.json"))
        let manifest = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let files = manifest["files"] as! [[String: Any]]
        return Dictionary(uniqueKeysWithValues: files.map { ($0["name"] as! String, $0["sha256"] as! String) })
    }
}

/// The debug preset, shrunk so a whole run takes seconds: every step logged, no evaluation
/// except at the end, few checkpoints.
let quickRun = ["--config", "Configs/tiny.yaml", "--set", "train.log_every=1", "--set", "train.global_batch=16",
                "--set", "train.micro_batch=2", "--set", "train.sequence_length=32", "--set", "eval.every=0",
                "--set", "eval.sequences=16", "--set", "checkpoint.every=0"]

/// The embedded corpus, prepared once per test process (tokenizer + token files) and shared by
/// the runs of every test that uses it.
enum SharedDataset {
    private static var path: String?

    /// `--set data.dataset=...` for the shared dataset, preparing it on first use.
    static func arguments() throws -> [String] {
        if let path { return ["--set", "data.dataset=\(path)"] }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("llm-e2e-dataset-\(getpid())")
        let result = try Launcher.run("swift-llm-train", quickRun + ["--steps", "1", "--run-dir", dir.path], directory: repositoryRoot)
        XCTAssertEqual(result.status, 0, result.output)
        path = dir.appendingPathComponent("data").path
        return ["--set", "data.dataset=\(path!)"]
    }
}

/// The repository root, where Configs/ lives: tests run the binary from there.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
