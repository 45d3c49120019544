import ArgumentParser
import Foundation
import LLMComm
import LLMData
import LLMModel
import LLMRecommend
import LLMTasks
import LLMTrain
import LLMSupport

struct SimilarCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "similar",
        abstract: "The posts of an index most like a query: exact top-k cosine neighbours.",
        discussion: """
        Queries are embedded with the index's model (--model, default the one `embed` recorded; \
        refused if its sha256 differs from the index's), then searched exactly by matrix products \
        on OpenBLAS. A k larger than the index returns every post. The rate (queries/s) goes to stderr.

        Examples:
          swift-llm-train similar --index posts.safetensors --query "what a great day" -k 5
          swift-llm-train similar --index posts.safetensors --query-file queries.txt -k 10 --json
        """
    )

    @Option(help: ArgumentHelp("The index written by `embed`.", valueName: "file"))
    var index: String

    @Option(help: ArgumentHelp("Checkpoint to embed the queries with; default: the index's.", valueName: "path"))
    var model: String?

    @Option(help: ArgumentHelp("One query post.", valueName: "text"))
    var query: String?

    @Option(help: ArgumentHelp("Query posts, one a line (.txt) or .jsonl/.tsv/.csv with a text field.", valueName: "file"))
    var queryFile: String?

    @Option(name: .short, help: ArgumentHelp("Neighbours per query.", valueName: "k"))
    var k: Int = 5

    @Flag(help: "One JSON line per query: {\"query\", \"neighbours\": [{\"id\", \"score\", \"text\"}]}.")
    var json = false

    mutating func run() throws {
        do {
            guard (query == nil) != (queryFile == nil) else { throw ValidationError("give one of --query or --query-file") }
            guard k >= 1 else { throw ValidationError("-k must be at least 1") }
            let index = try EmbeddingIndex.load(url: URL(fileURLWithPath: self.index))
            guard index.count > 0 else { throw TrainingError("\(self.index): the index holds no posts; embed some "
                                                             + "first") }
            guard let modelPath = model ?? (index.modelPath.isEmpty ? nil : index.modelPath) else {
                throw ValidationError("the index does not name its model: pass --model")
            }
            BLASThreads.set(ProcessInfo.processInfo.activeProcessorCount)
            let embedder = try Embedder(path: modelPath, pooling: TaskSpec.Pooling(rawValue: index.pooling) ?? .mean)
            try index.require(model: embedder.modelSHA256, url: URL(fileURLWithPath: self.index))
            let texts = try query.map { [$0] }
                ?? CorpusReader.read(url: URL(fileURLWithPath: queryFile!)).map(\.text)
            let encoded = texts.map { embedder.encode($0) }
            let start = monotonicSeconds()
            let vectors = try embedder.embed(encoded.map(\.ids), comm: MPICommunicator.world())
            let searchStart = monotonicSeconds()
            let hits = NearestNeighbours.search(queries: vectors, index: index.vectors, dimension: index.dimension, k: k)
            let end = monotonicSeconds()
            for (text, hits) in zip(texts, hits) {
                if json {
                    let items = hits.map { hit in
                        let post = index.posts[hit.index]
                        return "{\"id\":\(jsonStringLiteral(post.id)),\"score\":\(hit.score),\"text\":\(jsonStringLiteral(post.text))}"
                    }
                    print("{\"query\":\(jsonStringLiteral(text)),\"neighbours\":[\(items.joined(separator: ","))]}")
                } else {
                    print("query: \(text)")
                    for (rank, hit) in hits.enumerated() {
                        let post = index.posts[hit.index]
                        print("  \(rank + 1). \(format(Double(hit.score), 4))  [\(post.id)] \(post.text)")
                    }
                }
            }
            let cut = encoded.filter(\.truncated).count
            FileHandle.standardError.write(Data("""
                \(texts.count) queries against \(index.count) posts: search \(format((end - searchStart) * 1000, 2)) ms \
                (\(Int(Double(texts.count) / max(end - searchStart, 1e-9))) queries/s), with embedding \
                \(Int(Double(texts.count) / (end - start))) queries/s\
                \(k > index.count ? "; k \(k) > \(index.count) posts: all returned" : "")\
                \(cut > 0 ? "; \(cut) queries cut to the context" : "")\n
                """.utf8))
        } catch let error as ValidationError {
            throw error
        } catch {
            FileHandle.standardError.write(Data("swift-llm-train: error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
