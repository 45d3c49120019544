import ArgumentParser
import Foundation
import LLMExchange

/// `swift-llm-train export`: a checkpoint as a Hugging Face GPT-2 directory.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a checkpoint as a Hugging Face GPT-2 directory (GPT2LMHeadModel + tokenizer).",
        discussion: """
        The directory loads with GPT2LMHeadModel.from_pretrained(DIR) and AutoTokenizer.from_pretrained(DIR); \
        its tokenizer.json carries our normaliser, so raw posts give the same ids as `tokenizer encode`.

        Example:
          swift-llm-train export runs/tiny --format hf --output hf/tiny
        """)

    enum Format: String, ExpressibleByArgument { case hf }

    @Argument(help: ArgumentHelp("A checkpoint directory, or a run directory (its latest checkpoint).", valueName: "checkpoint"))
    var checkpoint: String
    @Option(help: "Output format (hf: Hugging Face transformers).")
    var format: Format = .hf
    @Option(help: ArgumentHelp("Directory to write.", valueName: "dir"))
    var output: String
    @Option(help: ArgumentHelp("tokenizer.json to use instead of the one found with the checkpoint.", valueName: "file"))
    var tokenizer: String?
    @Flag(help: "Replace --output if it exists.")
    var force = false

    func run() throws {
        let notes = try HuggingFaceExport.export(checkpoint: checkpoint, tokenizer: tokenizer,
                                                 to: URL(fileURLWithPath: output), force: force)
        notes.forEach { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
        print("exported \(checkpoint) to \(output)")
    }
}
