import ArgumentParser
import Foundation
import LLMComm
import LLMModel
import LLMRecommend
import LLMTasks
import LLMTrain

struct HashtagsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hashtags",
        abstract: "Suggest hashtags for a post by the votes of its nearest tagged posts in an index.",
        discussion: """
        The post is embedded with the index's model; its --voters nearest posts of the index that carry \
        hashtags vote for their tags with their cosine similarity. Only tags present in the index can \
        be suggested. `evaluate-recommend` measures recall@k and MRR of this against TF-IDF neighbours.

        Example:
          swift-llm-train embed --model runs/pretrain --input tweets.jsonl --output tweets.safetensors
          swift-llm-train hashtags --index tweets.safetensors --text "Quiz night, beat my score" -k 5
        """
    )

    @Option(help: ArgumentHelp("The index written by `embed` (its posts' hashtags are the candidates).", valueName: "file"))
    var index: String

    @Option(help: ArgumentHelp("Checkpoint to embed the post with; default: the index's.", valueName: "path"))
    var model: String?

    @Option(help: ArgumentHelp("The post to tag.", valueName: "text"))
    var text: String

    @Option(name: .short, help: ArgumentHelp("Hashtags to suggest.", valueName: "k"))
    var k: Int = 5

    @Option(help: ArgumentHelp("Nearest tagged posts that vote.", valueName: "n"))
    var voters: Int = 10

    mutating func run() throws {
        guard k >= 1, voters >= 1 else { throw ValidationError("-k and --voters must be at least 1") }
        do {
            let url = URL(fileURLWithPath: index)
            let index = try EmbeddingIndex.load(url: url)
            guard let modelPath = model ?? (index.modelPath.isEmpty ? nil : index.modelPath) else {
                throw ValidationError("the index does not name its model: pass --model")
            }
            let embedder = try Embedder(path: modelPath, pooling: TaskSpec.Pooling(rawValue: index.pooling) ?? .mean)
            try index.require(model: embedder.modelSHA256, url: url)
            let vector = try embedder.embed([embedder.encode(text).ids], comm: MPICommunicator.world())
            let tags = HashtagVoting.suggest(queries: vector, index: index, voters: voters)[0]
            guard !tags.isEmpty else {
                throw TrainingError("\(url.path): none of the index's \(index.count) posts has a hashtag; embed "
                                    + "tagged posts")
            }
            print(tags.prefix(k).joined(separator: " "))
        } catch let error as ValidationError {
            throw error
        } catch {
            FileHandle.standardError.write(Data("swift-llm-train: error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
