import ArgumentParser
import LLMTrain

/// `swift-llm-train`: data-parallel GPT training over MPI. With no subcommand it trains
/// (`train` is the default), so `swift-llm-train` alone trains the small default model on the
/// embedded corpus, under `mpirun` or as a single process.
struct SwiftLLMTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swift-llm-train",
        abstract: "Train GPT-style language models data-parallel over MPI.",
        discussion: """
        Launch with `mpirun -n N swift-llm-train ...` for N data-parallel ranks; started without \
        mpirun the same binary is the single-process debug mode (world size 1).
        """,
        version: swiftLLMTrainVersion,
        subcommands: [TrainCommand.self, FinetuneCommand.self, EvaluateCommand.self, ClassifyCommand.self,
                      EmbedCommand.self, SimilarCommand.self, HashtagsCommand.self, EvaluateRecommendCommand.self,
                      BaselineCommand.self, PrepareCommand.self, TokenizerCommand.self, GenerateCommand.self,
                      ExportCommand.self, ImportCommand.self, PlotCommand.self, ReportCommand.self, ExplainCommand.self,
                      BenchCommand.self, PrivacyEpsilonCommand.self],
        defaultSubcommand: TrainCommand.self
    )
}

BLASKernel.reexecIfMisdetected()
SwiftLLMTrain.main()
