// swift-tools-version:6.0
import PackageDescription

// Module map (five minutes for a newcomer):
//   CMPI, COpenBLAS  thin C shims over the system libraries (pkg-config, no unsafeFlags)
//   LLMComm          Communicator protocol + the MPI implementation (chunked collectives)
//   LLMModel         GPT model: one flat parameter buffer, hand-written forward/backward, AdamW
//   LLMData          normaliser, byte-level BPE tokenizer, corpora, token files, data loader
//   LLMTrain         configs, trainer loop, checkpoints (safetensors), metrics, benchmarks
//   LLMTasks         fine-tuning on labelled posts: score head, task objective, metrics, baseline
//   LLMTrainCLI      the `swift-llm-train` executable (one ParsableCommand per subcommand)
//   LLMMPIChecks     `llm-mpi-checks`, the multi-rank test driver run under mpirun
let package = Package(
    name: "swift-llm-train",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "swift-llm-train", targets: ["LLMTrainCLI"]),
        .executable(name: "llm-mpi-checks", targets: ["LLMMPIChecks"]),
        .library(name: "LLMTrain", targets: ["LLMTrain"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .target(name: "LLMComm", dependencies: ["CMPI"]),
        .target(name: "LLMModel", dependencies: ["COpenBLAS"]),
        .target(name: "LLMData", resources: [.copy("Corpora")]),
        .target(name: "LLMTrain", dependencies: ["LLMComm", "LLMModel", "LLMData", "Yams"]),
        .target(name: "LLMTasks", dependencies: ["LLMTrain", "LLMComm", "LLMModel", "LLMData"]),
        .executableTarget(name: "LLMTrainCLI", dependencies: [
            "LLMTrain", "LLMTasks", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "LLMMPIChecks", dependencies: ["LLMComm"]),
        .testTarget(name: "LLMCommTests", dependencies: ["LLMComm"]),
        .testTarget(name: "LLMModelTests", dependencies: ["LLMModel"]),
        .testTarget(name: "LLMDataTests", dependencies: ["LLMData"]),
        .testTarget(name: "LLMTrainTests", dependencies: ["LLMTrain"]),
        .testTarget(name: "LLMTasksTests", dependencies: ["LLMTasks", "LLMTrain", "LLMModel", "LLMData"]),
        .testTarget(name: "EndToEndTests"),
    ],
    swiftLanguageModes: [.v5]
)
