import ArgumentParser
import Foundation
import LLMComm
import LLMModel
import LLMRecommend
import LLMTasks
import LLMTrain

struct EvaluateRecommendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate-recommend",
        abstract: "Similar posts (precision@k of label agreement) and hashtags (recall@1/5/10, MRR), model vs TF-IDF.",
        discussion: """
        On the checkpoint's prepared dataset: each labelled test post queries the train posts of its \
        corpus (at most --index-limit of them, evenly spread); a neighbour agrees when it has the query's label. \
        Test posts with hashtags have them hidden and get tags voted by their nearest tagged train \
        posts; the most frequent train tags are the floor. Runs under mpirun (the embedding is split).

        Example:
          swift-llm-train evaluate-recommend --model runs/pretrain
        """
    )

    @Option(help: ArgumentHelp("Language-model checkpoint directory, or a run directory.", valueName: "path"))
    var model: String

    @Option(help: ArgumentHelp("Prepared dataset directory; default: the checkpoint's.", valueName: "dir"))
    var dataset: String?

    @Option(help: ArgumentHelp("Pooling of the last hidden state: mean or last.", valueName: "mode"))
    var pooling: String = "mean"

    @Option(name: .short, help: ArgumentHelp("Neighbours per similar-posts query.", valueName: "k"))
    var k: Int = 10

    @Option(help: ArgumentHelp("Train posts per corpus searched by the similar-posts queries.", valueName: "n"))
    var indexLimit: Int = 4000

    @Option(help: ArgumentHelp("Nearest tagged posts that vote for hashtags.", valueName: "n"))
    var voters: Int = 10

    mutating func run() throws {
        let comm = try MPICommunicator.world()
        do {
            guard let pooling = TaskSpec.Pooling(rawValue: pooling) else {
                throw ValidationError("--pooling: '\(self.pooling)' is not one of mean, last")
            }
            guard k >= 1, indexLimit >= 1, voters >= 1 else { throw ValidationError("-k, --index-limit, --voters must "
                                                                                    + "be >= 1") }
            BLASThreads.set(comm.worldSize > 1 ? 1 : ProcessInfo.processInfo.activeProcessorCount)
            let embedder = try Embedder(path: model, pooling: pooling)
            let directory = try dataset.map { URL(fileURLWithPath: $0) }
                ?? TrainedModel(path: model, verifying: ["config.yaml"]).datasetDirectory
            let report = try RecommendEvaluation.run(embedder: embedder, dataset: directory, k: k, indexLimit: indexLimit,
                                                     voters: voters, comm: comm) { message in
                if comm.isCoordinator { FileHandle.standardError.write(Data((message + "\n").utf8)) }
            }
            if comm.isCoordinator { print(RecommendEvaluation.render(report)) }
        } catch {
            if comm.worldSize > 1 { comm.abort("\(error)") }
            FileHandle.standardError.write(Data("swift-llm-train: error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
