import ArgumentParser
import Foundation
import LLMData

/// `swift-llm-train prepare`: corpus files -> normalised -> tokenised -> a dataset directory.
struct PrepareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prepare",
        abstract: "Normalise and tokenise corpus files into per-split token files, label sidecars and a manifest.",
        discussion: """
        Writes OUTPUT/train.bin, validation.bin, test.bin (header + little-endian token ids, posts \
        separated by <|endoftext|>), OUTPUT/<split>.labels.jsonl ({"ids": [...], "label": ..., "rating": ..., "source": ...} per \
        labelled post), a copy of the tokenizer and OUTPUT/manifest.json with SHA-256 checksums. \
        A post's split is a hash of its text (90/5/5), so adding posts never reshuffles the others.
        """)

    @OptionGroup var corpusOptions: CorpusOptions
    @Option(help: "tokenizer.json to encode with (see `tokenizer train`).")
    var tokenizer: String
    @Option(help: "Directory to write the dataset into (created if missing).")
    var output: String
    @Option(help: "JSONL field or TSV/CSV column holding the label; every record must have it. Default: no labels.")
    var labelField: String?

    func run() throws {
        let bpe = try BPETokenizer.load(from: URL(fileURLWithPath: tokenizer))
        let manifest = try DatasetPreparer.prepare(inputs: corpusOptions.corpus, fields: corpusOptions.fields(labelField: labelField),
                                                   tokenizer: bpe,
                                                   normalizer: try TokenizerTool.normalizer(configPath: corpusOptions.normalizerConfig),
                                                   output: URL(fileURLWithPath: output))
        for (name, split) in manifest.splits.sorted(by: { $0.key < $1.key }) {
            print("\(name): \(split.posts) posts, \(split.tokens) tokens -> \(output)/\(split.tokensFile)")
        }
    }
}
