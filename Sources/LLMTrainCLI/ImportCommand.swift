import ArgumentParser
import Foundation
import LLMExchange

/// `swift-llm-train import`: a Hugging Face GPT-2 directory as a checkpoint.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import a Hugging Face GPT-2 directory (config.json + model.safetensors) as a checkpoint.",
        discussion: """
        Writes a run directory whose checkpoints/step-000000 holds the weights (zero optimiser \
        state), the tokenizer and the normaliser; `generate --model DIR`, `export DIR` and \
        `train --resume DIR` (with a config of the same model shape and data made with that \
        tokenizer) accept it.

        Example:
          swift-llm-train import hf/tiny --output runs/imported
        """)

    @Argument(help: ArgumentHelp("A Hugging Face model directory.", valueName: "dir"))
    var directory: String
    @Option(help: ArgumentHelp("Run directory to write.", valueName: "dir"))
    var output: String
    @Flag(help: "Replace --output if it exists.")
    var force = false

    func run() throws {
        let notes = try HuggingFaceImport.import(directory: URL(fileURLWithPath: directory),
                                                 output: URL(fileURLWithPath: output), force: force)
        notes.forEach { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
        print("imported \(directory) to \(output)")
    }
}
