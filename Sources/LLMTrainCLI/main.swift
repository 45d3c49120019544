import ArgumentParser
import Foundation
import LLMModel
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
                      PrivacyAuditCommand.self, PrivacyEpsilonCommand.self, BenchCommand.self,
                      LaunchCommand.self],
        defaultSubcommand: TrainCommand.self
    )
}

BLASKernel.reexecIfMisdetected()
// A kernel variant asked for by name but unavailable is refused, not replaced: benchmarks and
// reproductions must run what they say they run.
if let problem = Kernels.environmentProblem {
    FileHandle.standardError.write(Data("error: \(problem)\n".utf8))
    exit(2)
}
SwiftLLMTrain.main()
