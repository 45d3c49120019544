import ArgumentParser
import Foundation
import LLMComm
import LLMData
import LLMModel
import LLMRecommend
import LLMTasks
import LLMTrain
import LLMSupport

struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Embed posts with a language-model checkpoint into an index for `similar` and `hashtags`.",
        discussion: """
        One L2-normalised vector per post (the last hidden state, mean-pooled over the post's tokens \
        or its last token), written to --output (safetensors, with the model's sha256) and its posts \
        to the .jsonl beside it. Posts longer than the context are cut (the count is printed). Under \
        `mpirun -n N` the posts are split over the ranks; the output is in input order. The rate \
        (posts/s) goes to stderr.

        Example:
          swift-llm-train embed --model runs/pretrain --input posts.txt --output posts.safetensors
        """
    )

    @Option(help: ArgumentHelp("Language-model checkpoint directory, or a run directory.", valueName: "path"))
    var model: String

    @Option(help: ArgumentHelp("The posts: .txt (one a line), .jsonl, .tsv or .csv.", valueName: "file"))
    var input: String

    @Option(help: ArgumentHelp("JSONL field or TSV/CSV column holding the text.", valueName: "name"))
    var textField: String = "text"

    @Option(help: ArgumentHelp("The index to write (NAME.safetensors; the posts go to NAME.jsonl).", valueName: "file"))
    var output: String

    @Option(help: ArgumentHelp("Pooling of the last hidden state: mean or last.", valueName: "mode"))
    var pooling: String = "mean"

    @Option(help: ArgumentHelp("Posts per forward pass.", valueName: "n"))
    var batchSize: Int = 16

    mutating func run() throws {
        let comm = try MPICommunicator.world()
        do {
            guard let pooling = TaskSpec.Pooling(rawValue: pooling) else {
                throw ValidationError("--pooling: '\(self.pooling)' is not one of mean, last")
            }
            guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
            let sidecar = EmbeddingIndex.sidecarURL(URL(fileURLWithPath: output)).standardizedFileURL
            guard sidecar != URL(fileURLWithPath: input).standardizedFileURL else {
                throw ValidationError("--output \(output) would write its posts to \(sidecar.path), the input; name "
                                      + "the index otherwise")
            }
            BLASThreads.set(comm.worldSize > 1 ? 1 : ProcessInfo.processInfo.activeProcessorCount)
            let embedder = try Embedder(path: model, pooling: pooling, batchSize: batchSize)
            let posts = try CorpusReader.read(url: URL(fileURLWithPath: input),
                                              fields: CorpusFields(textField: textField))
            guard !posts.isEmpty else { throw DataError.emptyCorpus(path: input) }
            let encoded = posts.map { embedder.encode($0.text) }
            let start = monotonicSeconds()
            let vectors = try embedder.embed(encoded.map(\.ids), comm: comm)
            let seconds = monotonicSeconds() - start
            guard comm.isCoordinator else { return }
            let index = EmbeddingIndex(vectors: vectors, dimension: embedder.dimension,
                                       posts: posts.enumerated().map { .init(id: String($0), text: $1.text) },
                                       modelSHA256: embedder.modelSHA256, pooling: pooling.rawValue,
                                       modelPath: model)
            try index.write(to: URL(fileURLWithPath: output))
            let cut = encoded.filter(\.truncated).count
            FileHandle.standardError.write(Data("""
                embedded \(posts.count) posts (\(embedder.dimension) dims, \(pooling.rawValue) pooling, \(comm.worldSize) rank(s)) \
                in \(format(seconds, 2)) s: \(Int(Double(posts.count) / seconds)) posts/s\
                \(cut > 0 ? "; \(cut) cut to the context of \(embedder.model.sequenceLength) tokens" : "")
                wrote \(output) and \(EmbeddingIndex.sidecarURL(URL(fileURLWithPath: output)).path)\n
                """.utf8))
        } catch {
            if comm.worldSize > 1 { comm.abort("\(error)") }
            FileHandle.standardError.write(Data("swift-llm-train: error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
