import ArgumentParser
import LLMComm
import LLMTrain

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks that print figures, side by side in one run.",
        subcommands: [AllReduce.self]
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
}
