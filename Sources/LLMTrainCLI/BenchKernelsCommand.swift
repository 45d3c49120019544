import ArgumentParser
import LLMModel
import LLMTrain

extension BenchCommand {
    struct Kernels: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "kernels",
            abstract: "Time each elementwise kernel in every instruction-set variant this CPU runs, side by side.",
            discussion: "Shapes from the config's model and train.micro_batch x train.sequence_length; one thread, "
                + "best of --rounds interleaved rounds. Prints a table (ms per call, speed-up over portable, ms per "
                + "training step), then one `kernel=... variant=... ms=...` line per kernel and variant."
        )

        @Option(help: ArgumentHelp("YAML config, e.g. Configs/bench-i.yaml.", valueName: "file"))
        var config: String

        @Option(name: .customLong("set"),
                help: ArgumentHelp("Override one config field (repeatable).", valueName: "key=value"))
        var overrides: [String] = []

        @Option(help: "Timed rounds per kernel (each times every variant once).")
        var rounds = 15

        func validate() throws {
            guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1, got \(rounds)") }
        }

        func run() throws {
            let config = try TrainConfig.load(path: config, overrides: overrides)
            let rows = KernelBenchmark.run(config: config.model, batchSize: config.train.microBatch,
                                           sequenceLength: config.train.sequenceLength, rounds: rounds)
            let names = { (variants: [KernelVariant]) in variants.map(\.description).joined(separator: ", ") }
            let missing = KernelVariant.allCases.filter { !$0.isSupported }
            print("kernel variants: \(names(KernelVariant.allCases.filter(\.isSupported)))"
                  + (missing.isEmpty ? "" : " (this CPU lacks \(names(missing)))")
                  + "; in use: \(LLMModel.Kernels.active)")
            print(KernelBenchmark.table(rows))
            for row in rows { for v in KernelVariant.allCases { if let line = row.scriptLine(v) { print(line) } } }
        }
    }
}
