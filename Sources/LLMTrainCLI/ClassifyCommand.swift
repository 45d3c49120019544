import LLMSupport
import ArgumentParser
import Foundation
import LLMComm
import LLMData
import LLMModel
import LLMTasks
import LLMTrain

struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Label new posts with a fine-tuned checkpoint: one JSON line per post.",
        discussion: """
        Reads posts (plain text one a line, .jsonl with a text field, .tsv/.csv with a header), \
        normalises and tokenises them as the training data was, and writes \
        {"text": ..., "label": ..., "probabilities": {...}} per post (regression: "rating") to \
        --output or stdout. The rate (posts/s) goes to stderr.

        Examples:
          swift-llm-train classify --checkpoint runs/sentiment-en --input posts.txt
          swift-llm-train classify --checkpoint runs/sentiment-zh --input reviews.jsonl --output labels.jsonl
        """
    )

    @Option(help: ArgumentHelp("Fine-tuned checkpoint directory, or a run directory (its best checkpoint).", valueName: "path"))
    var checkpoint: String

    @Option(help: ArgumentHelp("The posts: .txt (one a line), .jsonl, .tsv or .csv.", valueName: "file"))
    var input: String

    @Option(help: ArgumentHelp("JSONL field or TSV/CSV column holding the text.", valueName: "name"))
    var textField: String = "text"

    @Option(help: ArgumentHelp("Write the JSON lines here instead of stdout.", valueName: "file"))
    var output: String?

    @Option(help: ArgumentHelp("Prepared dataset directory (its tokenizer); default: the checkpoint's.", valueName: "dir"))
    var dataset: String?

    mutating func run() throws {
        let comm = try MPICommunicator.world()
        do {
            BLASThreads.set(comm.worldSize > 1 ? 1 : ProcessInfo.processInfo.activeProcessorCount)
            let task = try TrainedTask(path: checkpoint, dataset: dataset)
            let posts = try CorpusReader.read(url: URL(fileURLWithPath: input), fields: CorpusFields(textField: textField))
            guard !posts.isEmpty else { throw DataError.emptyCorpus(path: input) }
            let start = monotonicSeconds()
            let outputs = try task.predict(task.encode(posts.map(\.text)), comm: comm)
            let seconds = monotonicSeconds() - start
            guard comm.isCoordinator else { return }
            let K = task.spec.outputs
            let lines = posts.indices.map {
                PredictionLines.line(task.spec, outputs: outputs[($0 * K)..<(($0 + 1) * K)], text: posts[$0].text) + "\n"
            }.joined()
            if let output { try DurableFile.writeAtomically(Data(lines.utf8), to: output) } else { print(lines, terminator: "") }
            FileHandle.standardError.write(Data("classified \(posts.count) posts in \(format(seconds, 2)) s: \(Int(Double(posts.count) / seconds)) posts/s\n".utf8))
        } catch {
            if comm.worldSize > 1 { comm.abort("\(error)") }
            FileHandle.standardError.write(Data("swift-llm-train: error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
