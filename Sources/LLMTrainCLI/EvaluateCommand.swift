import ArgumentParser
import Foundation
import LLMComm
import LLMData
import LLMModel
import LLMTasks
import LLMTrain

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Score a fine-tuned checkpoint on a labelled split: accuracy, F1s, confusion matrix (or MAE/RMSE/Spearman).",
        discussion: """
        Prints the metrics, and with --output writes them as one JSON object (the fields of a \
        metrics.jsonl eval event). Runs alone or under mpirun (the posts are split across ranks).

        Examples:
          swift-llm-train evaluate --checkpoint runs/sentiment-en --split test
          swift-llm-train evaluate --checkpoint runs/sentiment-en/checkpoints/step-000300 --output test.json
          swift-llm-train evaluate --checkpoint runs/sentiment-en --predictions test.jsonl
        """
    )

    @Option(help: ArgumentHelp("Fine-tuned checkpoint directory, or a run directory (its best checkpoint).", valueName: "path"))
    var checkpoint: String

    @Option(help: ArgumentHelp("Which labelled split to score: validation or test.", valueName: "split"))
    var split: String = "test"

    @Option(help: ArgumentHelp("Prepared dataset directory; default: the one the checkpoint was trained on.", valueName: "dir"))
    var dataset: String?

    @Option(help: ArgumentHelp("Write the metrics as a JSON object to this file.", valueName: "file"))
    var output: String?

    @Option(help: ArgumentHelp("Write one JSON line per post: true label, predicted label (or rating) and outputs.", valueName: "file"))
    var predictions: String?

    mutating func run() throws {
        let comm = try MPICommunicator.world()
        do {
            guard let split = CorpusSplit(rawValue: split), split != .train else {
                throw ValidationError("--split must be validation or test, got '\(self.split)'")
            }
            BLASThreads.set(comm.worldSize > 1 ? 1 : ProcessInfo.processInfo.activeProcessorCount)
            let task = try TrainedTask(path: checkpoint, dataset: dataset)
            let examples = try task.examples(split)
            let outputs = try task.predict(examples, comm: comm)
            let report = TaskReport(spec: task.spec, examples: examples, outputs: outputs)
            guard comm.isCoordinator else { return }
            print("\(task.trained.checkpoint.directory.path) on \(split.rawValue) (\(examples.count) posts): "
                  + "\(report.summary)")
            if let confusion = report.classification?.confusion {
                print("confusion (rows true, columns predicted; \(task.spec.labels.joined(separator: ", "))):")
                for (label, row) in zip(task.spec.labels, confusion) { print("  \(label): \(row.map(String.init).joined(separator: " "))") }
            }
            if let output {
                var object: [String: Any] = report.numbers.merging(["step": Double(task.trained.state.step)]) { $1 }
                object.merge(report.arrays) { $1 }
                object["split"] = split.rawValue
                try DurableFile.writeAtomically(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]),
                                                to: output)
            }
            if let predictions {
                let lines = PredictionLines.make(task.spec, examples: examples, outputs: outputs)
                try DurableFile.writeAtomically(Data(lines.utf8), to: predictions)
            }
        } catch {
            if comm.worldSize > 1 { comm.abort("\(error)") }
            FileHandle.standardError.write(Data("swift-llm-train: error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
