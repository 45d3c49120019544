import Foundation
import ArgumentParser
import LLMComm
import LLMModel
import LLMTrain

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks that print figures, side by side in one run.",
        subcommands: [AllReduce.self, Model.self, Kernels.self, GEMMs.self]
    )

    struct AllReduce: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "allreduce",
            abstract: "Chunked all-reduce versus one plain MPI_Allreduce, 4 KB .. 128 MB.",
            discussion: "Run under mpirun, e.g. `mpirun -n 2 swift-llm-train bench allreduce`. "
                + "Prints a table, then one `bytes=... chunked_gbps=... plain_gbps=...` line per size."
        )

        @Option(help: "Chunk size in bytes for the chunked all-reduce.")
        var chunkBytes: Int = MPICommunicator.defaultChunkBytes

        @Option(help: "Comma-separated buffer sizes in bytes (default 4 KiB .. 128 MiB).")
        var sizes: String?

        @Option(help: "Approximate seconds spent timing each size.")
        var secondsPerSize: Double = 0.6

        func validate() throws {
            guard chunkBytes >= 4 else { throw ValidationError("--chunk-bytes must be at least 4, got \(chunkBytes)") }
            if let sizes, parsedSizes(sizes) == nil {
                throw ValidationError("--sizes must be positive byte counts separated by commas, got '\(sizes)'")
            }
        }

        func run() throws {
            let comm = try MPICommunicator.world()
            let list = sizes.flatMap(parsedSizes) ?? AllReduceBenchmark.defaultSizes
            let rows = try AllReduceBenchmark.run(comm: comm, chunkBytes: chunkBytes, sizes: list,
                                                  secondsPerSize: secondsPerSize)
            guard comm.isCoordinator else { return }
            print(AllReduceBenchmark.table(rows, worldSize: comm.worldSize, chunkBytes: chunkBytes))
            for row in rows { print(row.scriptLine) }
        }

        private func parsedSizes(_ text: String) -> [Int]? {
            let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) >= 4 }) else { return nil }
            return values.map { $0! }
        }
    }

    struct Model: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "model",
            abstract: "Time training steps (forward, backward, AdamW) of the model a config describes.",
            discussion: "Uses the config's model and train.micro_batch x train.sequence_length on random tokens, "
                + "after a warm-up. Prints ms/step, tokens/s, MFU (against 100 GFLOP/s per thread) and peak RSS, "
                + "then one `tokens_per_s=... ms_per_step=... mfu=... peak_rss_mb=...` line."
        )

        @Option(help: ArgumentHelp("YAML config, e.g. Configs/bench-i.yaml.", valueName: "file"))
        var config: String

        @Option(name: .customLong("set"), help: ArgumentHelp("Override one config field (repeatable).", valueName: "key=value"))
        var overrides: [String] = []

        @Option(help: "OpenBLAS threads (default: all cores).")
        var threads: Int?

        @Option(help: "Timed steps.")
        var steps = 10

        @Option(help: "Untimed warm-up steps.")
        var warmup = 2

        func run() throws {
            let config = try TrainConfig.load(path: config, overrides: overrides)
            BLASThreads.set(threads ?? ProcessInfo.processInfo.activeProcessorCount)
            let result = ModelBenchmark.run(config: config.model, batchSize: config.train.microBatch,
                                            sequenceLength: config.train.sequenceLength, warmupSteps: warmup, steps: steps,
                                            seed: UInt64(config.train.seed), recompute: config.train.recompute)
            print("model: \(config.model.layers) layers, d_model \(config.model.modelDim), \(config.model.heads) "
                  + "heads, vocab \(config.model.vocabSize); batch \(config.train.microBatch) x "
                  + "\(config.train.sequenceLength); recompute \(config.train.recompute.rawValue); \(result.threads) "
                  + "thread(s), OpenBLAS kernel \(result.blasCore), elementwise kernels \(result.kernels)")
            if let note = BLASThreads.narrowKernelNote { print("note: \(note)") }
            print("\(format(result.msPerStep, 2)) ms/step | \(Int(result.tokensPerSecond)) tokens/s | MFU "
                  + "\(format(result.mfu * 100, 1))% | peak RSS \(Int(result.peakRSSMB)) MB")
            print("sgemm on the same threads, between the steps: \(format(result.sgemmGFLOPs, 1)) GFLOP/s (per call: "
                  + "median \(format(result.sgemmMedianGFLOPs, 1)), best \(format(result.sgemmBestGFLOPs, 1))); the model "
                  + "runs at \(format(result.fractionOfSGEMM * 100, 1))% of it "
                  + "(\(format(result.fractionOfSGEMMCPU * 100, 1))% in CPU time, "
                  + "\(format(result.fractionOfBestSGEMM * 100, 1))% of the best call)")
            print(result.scriptLine)
        }
    }
}
