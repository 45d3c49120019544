import ArgumentParser

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
        subcommands: [TrainCommand.self, FinetuneCommand.self, EvaluateCommand.self, ClassifyCommand.self,
                      BaselineCommand.self, PrepareCommand.self,
                      TokenizerCommand.self, BenchCommand.self],
        defaultSubcommand: TrainCommand.self
    )
}

/// `--resume` takes an optional path, which swift-argument-parser cannot express: a bare
/// `--resume` (last argument, or followed by another option) is rewritten to `--resume-latest`.
enum ResumeArgument {
    static func rewrite(_ arguments: [String]) -> [String] {
        arguments.enumerated().map { index, argument in
            guard argument == "--resume" else { return argument }
            let next = index + 1 < arguments.count ? arguments[index + 1] : nil
            return next == nil || next!.hasPrefix("-") ? "--resume-latest" : argument
        }
    }
}

BLASKernel.reexecIfMisdetected()
SwiftLLMTrain.main(ResumeArgument.rewrite(Array(CommandLine.arguments.dropFirst())))
