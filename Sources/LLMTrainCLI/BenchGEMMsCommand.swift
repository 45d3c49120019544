import ArgumentParser
import LLMModel
import LLMTrain

extension BenchCommand {
    struct GEMMs: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gemms",
            abstract: "Time each of the model's matrix products against the reference product, call by call.",
            discussion: "Shapes from the config's model and train.micro_batch x train.sequence_length, through the "
                + "model's own GEMM path (its cuts into parts, bias seeding and bias sums); each call alternates "
                + "with one of the reference that `bench model`'s fraction_of_sgemm divides by (the MLP "
                + "up-projection). Prints a table (GFLOP/s, rate over the reference's, and all of one step's "
                + "products together), then one `gemm=... shape=... gflops=... of_reference=...` line per product."
        )

        @Option(help: ArgumentHelp("YAML config, e.g. Configs/bench-i.yaml.", valueName: "file"))
        var config: String

        @Option(name: .customLong("set"),
                help: ArgumentHelp("Override one config field (repeatable).", valueName: "key=value"))
        var overrides: [String] = []

        @Option(help: "OpenBLAS threads.")
        var threads = 1

        @Option(help: "Timed calls of each product (each alternated with one of the reference).")
        var rounds = 20

        func validate() throws {
            guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1, got \(rounds)") }
            guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
        }

        func run() throws {
            let config = try TrainConfig.load(path: config, overrides: overrides)
            BLASThreads.set(threads)
            let rows = GEMMBenchmark.run(config: config.model, batchSize: config.train.microBatch,
                                         sequenceLength: config.train.sequenceLength, rounds: rounds)
            print("\(threads) thread(s), OpenBLAS kernel \(BLASThreads.coreName); the attention's tile products "
                  + "are not included")
            if let note = BLASThreads.narrowKernelNote { print("note: \(note)") }
            print(GEMMBenchmark.table(rows))
            for row in rows { print(row.scriptLine) }
            print("gemm=all_of_one_step of_reference=\(format(GEMMBenchmark.weightedOfReference(rows), 4))")
        }
    }
}
