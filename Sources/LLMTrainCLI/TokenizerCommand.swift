import ArgumentParser
import Foundation
import LLMData

/// `swift-llm-train tokenizer train|encode|decode|bench`: byte-level BPE in Hugging Face tokenizer.json format.
struct TokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Train, apply and benchmark the byte-level BPE tokenizer (Hugging Face tokenizer.json format).",
        subcommands: [Train.self, Encode.self, Decode.self, Normalize.self, Bench.self])

    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Learn BPE merges from normalised corpus text and write tokenizer.json.")
        @OptionGroup var corpusOptions: CorpusOptions
        @Option(help: "Vocabulary size including the 256 byte tokens and 7 special tokens (at least 263).")
        var vocabSize = 8192
        @Option(help: "Where to write the Hugging Face tokenizer.json.")
        var output = "tokenizer.json"

        func run() throws {
            let texts = try TokenizerTool.corpusTexts(paths: corpusOptions.corpus, fields: corpusOptions.fields(),
                                                      normalizer: try TokenizerTool.normalizer(configPath: corpusOptions.normalizerConfig))
            let start = Date()
            let tokenizer = try BPETrainer.train(texts: texts, vocabSize: vocabSize)
            try tokenizer.save(to: URL(fileURLWithPath: output))
            print("trained \(tokenizer.vocabSize) tokens (\(tokenizer.merges.count) merges) on \(texts.count) posts in "
                  + String(format: "%.2f s", Date().timeIntervalSince(start)) + "; wrote \(output)")
        }
    }

    struct Encode: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Read one post a line from stdin; write its token ids, space-separated, one line per post.")
        @Option(help: "tokenizer.json to use.")
        var tokenizer: String
        @Flag(help: "Encode lines as they are, without the normaliser.")
        var raw = false
        @Option(help: "Normaliser config JSON; default: the post defaults. Ignored with --raw.")
        var normalizerConfig: String?

        func run() throws {
            let bpe = try BPETokenizer.load(from: URL(fileURLWithPath: tokenizer))
            let normalizer = raw ? nil : try TokenizerTool.normalizer(configPath: normalizerConfig)
            TokenizerTool.encodeLines(tokenizer: bpe, normalizer: normalizer, readLine: { readLine() }, write: { print($0) })
        }
    }

    struct Decode: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Read space-separated token ids, one post a line, from stdin; write the decoded text.")
        @Option(help: "tokenizer.json to use.")
        var tokenizer: String

        func run() throws {
            let bpe = try BPETokenizer.load(from: URL(fileURLWithPath: tokenizer))
            try TokenizerTool.decodeLines(tokenizer: bpe, readLine: { readLine() }, write: { print($0) })
        }
    }

    struct Normalize: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Read one post a line from stdin; write it normalised (what encode sees).")
        @Option(help: "Normaliser config JSON; default: the post defaults.")
        var normalizerConfig: String?

        func run() throws {
            let normalizer = try TokenizerTool.normalizer(configPath: normalizerConfig)
            while let line = readLine() { print(normalizer.normalize(line)) }
        }
    }

    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Time tokenizer training and single-thread encoding; print one JSON object.")
        @OptionGroup var corpusOptions: CorpusOptions
        @Option(help: "Vocabulary size to train.")
        var vocabSize = 8192

        func run() throws {
            let texts = try TokenizerTool.corpusTexts(paths: corpusOptions.corpus, fields: corpusOptions.fields(),
                                                      normalizer: try TokenizerTool.normalizer(configPath: corpusOptions.normalizerConfig))
            let result = try TokenizerBenchmark.run(texts: texts, vocabSize: vocabSize)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        }
    }
}

extension CorpusFormat: ExpressibleByArgument {}
