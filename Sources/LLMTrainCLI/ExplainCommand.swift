import ArgumentParser
import Foundation
import LLMReport

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Show what a model attends to in a post: attention maps over its tokens.",
        discussion: """
        The post is normalised and tokenised as the model's training data was. Without --output \
        or --json, prints each layer's and head's strongest attention from the last token. \
        Tokens are shown decoded; one that holds only the first bytes of a character (byte-level \
        BPE can split CJK characters and emoji) shows them in hex, and the next token shows the \
        character.

        Examples:
          swift-llm-train explain --model runs/tiny --text "loving the new phone 😍" --output att.html
          swift-llm-train explain --model runs/tiny/checkpoints/step-000300 --text "服务很好" --layer 1 --head 0 --json
        """
    )

    @Option(help: ArgumentHelp("A checkpoint directory, or a run directory (its latest checkpoint).", valueName: "checkpoint"))
    var model: String

    @Option(help: ArgumentHelp("The post to explain.", valueName: "post"))
    var text: String

    @Option(help: "Only this layer (0-based; default: every layer).")
    var layer: Int?

    @Option(help: "Only this head (0-based; default: every head).")
    var head: Int?

    @Option(help: ArgumentHelp("Write the heat maps to FILE.svg or FILE.html.", valueName: "file"))
    var output: String?

    @Flag(help: "Print the raw numbers (tokens and attention probabilities) as JSON.")
    var json = false

    @Flag(help: "Per-token integrated-gradients attributions for the predicted label (classifier checkpoints only).")
    var attributions = false

    mutating func validate() throws {
        if let output, !output.hasSuffix(".svg") && !output.hasSuffix(".html") {
            throw ValidationError("--output \(output): the file name must end in .svg or .html")
        }
    }

    mutating func run() throws {
        do {
            let explained = try ExplainedModel(reference: model)
            let (pieces, normalized, cut) = try explained.tokens(of: text)
            if cut > 0 { note("the post has \(pieces.count + cut) tokens; only the first \(pieces.count) (the model's "
                              + "context) are used") }
            let runName = explained.checkpoint.directory.deletingLastPathComponent().deletingLastPathComponent().lastPathComponent
            let source = "\(runName)/\(explained.checkpoint.name)"
            let attention = try AttentionOutput(maps: try explained.attention(of: pieces), source: source,
                                                normalizedPost: normalized, layer: layer, head: head)
            if let output {
                let page = output.hasSuffix(".svg") ? attention.svg() : attention.html()
                try page.write(toFile: output, atomically: true, encoding: .utf8)
                note("wrote \(output)")
            }
            if json { print(try attention.json(), terminator: "") }
            if output == nil && !json { print(summary(attention)) }
            if attributions {
                // Language-model checkpoints are the only kind so far; classifiers come with fine-tuning.
                throw ReportError("\(explained.checkpoint.directory.path) is a language model without a classifier "
                                  + "head: --attributions needs a fine-tuned classifier "
                                  + "checkpoint\(output == nil ? "" : " (the attention maps were written)")")
            }
        } catch {
            FileHandle.standardError.write(Data("swift-llm-train explain: error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }

    /// Messages go to stderr, so --json output stays pure JSON.
    func note(_ line: String) { FileHandle.standardError.write(Data("\(line)\n".utf8)) }

    func summary(_ attention: AttentionOutput) -> String {
        let maps = attention.maps, last = maps.count - 1
        var lines = ["\(maps.count) tokens: " + maps.tokens.map { "[\($0.label)]" }.joined(separator: " "),
                     "strongest attention from the last token [\(maps.tokens[last].label)]:"]
        for layer in attention.layers {
            for head in attention.heads {
                let row = maps.map(layer: layer, head: head)[last]
                let top = row.indices.sorted { row[$0] > row[$1] }.prefix(3)
                let strongest = top.map { "[\(maps.tokens[$0].label)] \(String(format: "%.2f", row[$0]))" }
                lines.append("  layer \(layer) head \(head): " + strongest.joined(separator: ", "))
            }
        }
        return lines.joined(separator: "\n")
    }
}
