import LLMSupport
import Foundation
import LLMData
import LLMModel
import LLMTrain

/// The logic behind `swift-llm-train generate`, so the command-line file only parses options.
public enum GenerateTool {
    public struct Options {
        public var model: String
        public var prompts: [String]
        public var tokenizer: String?
        public var maxTokens = 64
        public var sampling = SamplingOptions()
        public var batchSize = 8
        public var json = false
        /// Check-only: writes every prompt position's logits to this safetensors file.
        public var dumpLogits: String?

        public init(model: String, prompts: [String]) {
            self.model = model
            self.prompts = prompts
        }
    }

    /// Prompts of an `--input` file: one a line; blank lines are skipped, not prompts.
    public static func prompts(inputFile path: String) throws -> [String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw GenerationError("\(path): cannot read the prompt file (one prompt a line)")
        }
        let lines = text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.allSatisfy(\.isWhitespace) }
        guard !lines.isEmpty else { throw GenerationError("\(path): no prompts (one prompt a line)") }
        return lines
    }

    /// Runs generation, writing text (streamed, prompts in order) or one JSON object a prompt to
    /// `output`, and notes and timings to `notes`.
    public static func run(_ options: Options, output: @escaping (String) -> Void, notes: (String) -> Void) throws {
        guard !options.prompts.isEmpty else { throw GenerationError("no prompt: give --prompt TEXT or --input FILE") }
        guard options.maxTokens >= 0 else { throw GenerationError("--max-tokens must be at least 0") }
        let s = options.sampling
        guard s.temperature >= 0, s.topK >= 0, s.topP > 0 && s.topP <= 1 else {
            throw GenerationError("sampling needs --temperature >= 0, --top-k >= 0 and 0 < --top-p <= 1")
        }
        let saved = try SavedModel(path: options.model, tokenizer: options.tokenizer)
        let generator = Generator(config: saved.config, parameters: UnsafeBufferPointer(saved.parameters), owner: saved,
                                  tokenizer: saved.tokenizer, normalizer: TextNormalizer(config: saved.normalizer),
                                  batchSize: options.batchSize)
        let truncated = try options.prompts.enumerated().filter { try generator.promptIDs($1, index: $0).truncated }
        if !truncated.isEmpty {
            notes("note: \(truncated.count) prompt\(truncated.count == 1 ? " is" : "s are") longer than the context "
                  + "of \(saved.config.contextLength) tokens; kept the last \(saved.config.contextLength - 1) tokens "
                  + "of each (truncated from the left)")
        }

        var printer = OrderedStream(prompts: options.json ? [] : options.prompts, write: output)
        var dumped: [(String, [Int], [Float])] = []
        let (completions, stats) = try generator.generate(
            prompts: options.prompts, maxTokens: options.maxTokens, sampling: options.sampling,
            onText: { index, piece in if !options.json { printer.text(index, piece) } },
            onFinish: { index in if !options.json { printer.finish(index) } },
            onPromptLogits: options.dumpLogits == nil ? nil : { index, logits in
                dumped.append(("prompt.\(index)", [logits.count / saved.config.vocabSize, saved.config.vocabSize], logits))
            })
        if options.json { completions.forEach { output(jsonLine($0) + "\n") } }
        if let path = options.dumpLogits { try writeLogits(dumped, to: path) }
        let decodeRate = stats.decodeSeconds > 0 ? Double(stats.decodeTokens) / stats.decodeSeconds : 0
        notes(String(format: "generated %d tokens for %d prompt%@ (%d prompt tokens) in %.4f s: %.1f tokens/s "
                             + "overall, %.1f tokens/s decoding, time to first token %.2f ms",
                     stats.generatedTokens, completions.count, completions.count == 1 ? "" : "s", stats.promptTokens,
                     stats.totalSeconds, Double(stats.generatedTokens) / max(stats.totalSeconds, 1e-9), decodeRate,
                     stats.timeToFirstToken * 1000))
    }

    static func jsonLine(_ c: Completion) -> String {
        func ids(_ xs: [Int32]) -> String { "[" + xs.map(String.init).joined(separator: ",") + "]" }
        return "{\"prompt\":\(jsonStringLiteral(c.prompt)),\"prompt_ids\":\(ids(c.promptIDs)),\"ids\":\(ids(c.ids)),"
            + "\"text\":\(jsonStringLiteral(c.text)),\"finish_reason\":\"\(c.finish.rawValue)\",\"truncated\":\(c.truncated)}"
    }

    private static func writeLogits(_ tensors: [(String, [Int], [Float])], to path: String) throws {
        var buffers: [UnsafeMutableBufferPointer<Float>] = []
        defer { buffers.forEach { $0.deallocate() } }
        var views: [SafeTensorsWriter.Tensor] = []
        for (name, shape, values) in tensors {
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: values.count)
            _ = buffer.initialize(from: values)
            buffers.append(buffer)
            views.append((name: name, shape: shape, data: UnsafeBufferPointer(buffer)))
        }
        try SafeTensorsWriter.write(views, to: URL(fileURLWithPath: path))
    }
}

/// Streams several prompts, each followed by its continuation, in prompt order: the first
/// unfinished prompt's pieces go out as they come, the others wait in a buffer until every
/// prompt before them has finished.
struct OrderedStream {
    private var buffers: [String]
    private var finished: [Bool]
    private var current = 0
    let write: (String) -> Void

    init(prompts: [String], write: @escaping (String) -> Void) {
        buffers = prompts
        finished = Array(repeating: false, count: prompts.count)
        self.write = write
        if !prompts.isEmpty {
            write(buffers[0])
            buffers[0] = ""
        }
    }

    mutating func text(_ index: Int, _ piece: String) {
        if index == current { write(piece) } else { buffers[index] += piece }
    }

    mutating func finish(_ index: Int) {
        finished[index] = true
        while current < finished.count && finished[current] {
            write("\n")
            current += 1
            if current < buffers.count {
                write(buffers[current])
                buffers[current] = ""
            }
        }
    }
}
