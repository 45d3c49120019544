import ArgumentParser
import Foundation
import LLMReport

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Show why a model reads a post as it does: attention maps, and a classifier's attributions.",
        discussion: """
        The post is normalised and tokenised as the model's training data was. Without --output \
        or --json, prints each layer's and head's strongest attention from the last token. \
        Tokens are shown decoded; one that holds only the first bytes of a character (byte-level \
        BPE can split CJK characters and emoji) shows them in hex, and the next token shows the \
        character.

        For a fine-tuned checkpoint the post is tokenised as in fine-tuning (cut, <|endoftext|> \
        appended), and --attributions gives each token's integrated-gradients attribution to the \
        predicted label's logit, against the post with every token replaced by <pad> (the final \
        <|endoftext|> kept, so its attribution is 0), with the completeness check: the attributions \
        should add up to the logit at the post minus the logit at the baseline (within 1% + 0.001; \
        the steps are doubled from --steps until they do at two step counts in a row, up to --max-steps).

        Examples:
          swift-llm-train explain --model runs/tiny --text "loving the new phone 😍" --output att.html
          swift-llm-train explain --model runs/tiny/checkpoints/step-000300 --text "服务很好" --layer 1 --head 0 --json
          swift-llm-train explain --model runs/sentiment --text "worst service ever" --attributions --output why.html
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

    @Flag(help: "Print the raw numbers (tokens, attention probabilities, and any attributions) as JSON.")
    var json = false

    @Flag(help: "Per-token integrated-gradients attributions for the predicted label (fine-tuned checkpoints only).")
    var attributions = false

    @Option(help: "Integrated-gradients steps (a forward and backward each) to start with; doubled until complete twice.")
    var steps = 256

    @Option(help: "At most this many steps: the last doubling stops here, complete or not (then a warning).")
    var maxSteps = 8192

    mutating func validate() throws {
        if let output, !output.hasSuffix(".svg") && !output.hasSuffix(".html") {
            throw ValidationError("--output \(output): the file name must end in .svg or .html")
        }
        if attributions, let output, output.hasSuffix(".svg") {
            throw ValidationError("--output \(output): attributions are drawn in the HTML page; use --output FILE.html")
        }
        if steps < 1 || maxSteps < steps {
            throw ValidationError("--steps \(steps), --max-steps \(maxSteps): give 1 <= steps <= max-steps")
        }
    }

    mutating func run() throws {
        do {
            let explained = try openForExplanation(model)
            let (pieces, normalized, cutNote) = try explained.tokens(of: text)
            if let cutNote { note(cutNote) }
            let runName = explained.checkpoint.directory.deletingLastPathComponent().deletingLastPathComponent().lastPathComponent
            let source = "\(runName)/\(explained.checkpoint.name)"
            let attention = try AttentionOutput(maps: try explained.attention(of: pieces), source: source,
                                                normalizedPost: normalized, layer: layer, head: head)
            var explainedLabel: AttributionOutput?
            if attributions, let classifier = explained as? ExplainedClassifier {
                explainedLabel = classifier.attributions(of: pieces, steps: steps, maxSteps: maxSteps)
            }
            if let output {
                let page = output.hasSuffix(".svg") ? attention.svg() : attention.html(attributions: explainedLabel)
                try page.write(toFile: output, atomically: true, encoding: .utf8)
                note("wrote \(output)")
            }
            if json { print(try attention.json(attributions: explainedLabel), terminator: "") }
            if output == nil && !json { print(summary(attention)) }
            if let explainedLabel {
                if !json { print(explainedLabel.summary()) }
                if !explainedLabel.isComplete { note("warning: " + explainedLabel.completenessLine) }
            } else if attributions {
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
