import ArgumentParser
import Foundation
import LLMGenerate
import LLMModel

/// `swift-llm-train generate`: sample continuations from a checkpoint, with a KV cache.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Continue prompts with a trained model (KV cache, prompts batched).",
        discussion: """
        Prompts are normalised as in training. Generation stops at end-of-text, after --max-tokens, \
        or at the context limit; a prompt longer than the context keeps its last tokens. Text \
        streams to stdout as it comes; timings go to stderr.

        Examples:
          swift-llm-train generate --model runs/tiny --prompt "what a day" --greedy
          swift-llm-train generate --model runs/tiny/checkpoints/step-000300 --input prompts.txt --json --seed 7
        """)

    @Option(help: ArgumentHelp("A checkpoint directory, or a run directory (its latest checkpoint).", valueName: "dir"))
    var model: String
    @Option(help: "A prompt to continue (repeatable).")
    var prompt: [String] = []
    @Option(help: ArgumentHelp("A file of prompts, one a line.", valueName: "file"))
    var input: String?
    @Option(help: ArgumentHelp("tokenizer.json to use instead of the one found with the checkpoint.", valueName: "file"))
    var tokenizer: String?
    @Option(help: "Most tokens to generate per prompt.")
    var maxTokens = 64
    @Option(help: "Softmax temperature; 0 is greedy.")
    var temperature: Float = 1
    @Option(help: "Sample only among the k most likely tokens (0: all).")
    var topK = 0
    @Option(help: "Sample only among the most likely tokens whose probabilities reach p (1: all).")
    var topP: Float = 1
    @Option(help: "Random seed; the same seed and options give the same text.")
    var seed: UInt64 = 1337
    @Flag(help: "Always take the most likely token (no sampling).")
    var greedy = false
    @Flag(help: "Print one JSON object a prompt: prompt, prompt_ids, ids (generated), text, finish_reason, truncated.")
    var json = false
    @Option(help: "Prompts decoded together (one KV-cache slot each).")
    var batchSize = 8
    @Option(help: "Compute threads (0: all cores).")
    var threads = 0
    @Option(help: ArgumentHelp("Check-only (Scripts/check-hf-parity.py): write every prompt position's logits to this safetensors file.",
                               visibility: .hidden))
    var dumpLogits: String?

    func run() throws {
        BLASThreads.set(threads > 0 ? threads : ProcessInfo.processInfo.activeProcessorCount)
        var options = GenerateTool.Options(model: model, prompts: try prompt + (input.map(GenerateTool.prompts(inputFile:)) ?? []))
        options.tokenizer = tokenizer
        options.maxTokens = maxTokens
        options.sampling = SamplingOptions(temperature: temperature, topK: topK, topP: topP, greedy: greedy, seed: seed)
        options.batchSize = batchSize
        options.json = json
        options.dumpLogits = dumpLogits
        try GenerateTool.run(options, output: { text in
            FileHandle.standardOutput.write(Data(text.utf8))
        }, notes: { FileHandle.standardError.write(Data(($0 + "\n").utf8)) })
    }
}
