import ArgumentParser
import LLMData

/// Corpus files and how to read them: shared by `prepare` and the `tokenizer` subcommands.
struct CorpusOptions: ParsableArguments {
    @Argument(help: "Corpus files: plain text (one post a line), JSONL, TSV or CSV. None: the shipped corpora (train split for the tokenizer).")
    var corpus: [String] = []
    @Option(help: "Corpus layout: auto (by extension), text, jsonl, tsv, csv.")
    var format: CorpusFormat = .auto
    @Option(help: "JSONL field or TSV/CSV column holding the post text.")
    var textField = "text"
    @Flag(help: "TSV/CSV files have no header row; name columns by 0-based index (\"0\", \"1\", ...).")
    var noHeader = false
    @Option(help: "Normaliser config JSON (snake_case keys, e.g. {\"lowercase\": true}); default: the post defaults.")
    var normalizerConfig: String?

    func fields(labelField: String? = nil) -> CorpusFields {
        CorpusFields(format: format, textField: textField, labelField: labelField, hasHeader: !noHeader)
    }
}
