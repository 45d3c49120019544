// swift-tools-version:6.0
import PackageDescription

// Module map (five minutes for a newcomer):
//   CMPI, COpenBLAS  thin C shims over the system libraries (pkg-config, no unsafeFlags)
//   CLLMKernels      elementwise kernels in C: portable, AVX2 and AVX-512 variants, chosen at start-up
//   LLMSupport       small shared pieces: SplitMix64, FNV-1a, SHA-256, JSON string literals, the clock
//   LLMComm          Communicator protocol + the MPI implementation (chunked collectives)
//   LLMModel         GPT model: one flat parameter buffer, hand-written forward/backward, AdamW
//   LLMData          normaliser, byte-level BPE tokenizer, corpora, token files, data loader
//   LLMTrain         configs, trainer loop, checkpoints (safetensors), metrics, benchmarks
//   LLMPrivacy       DP-SGD (Rényi-DP accountant, Poisson sampling, per-example clipping, noise), canary audit
//   LLMTasks         fine-tuning on labelled posts: score head, task objective, metrics, baseline
//   LLMReport        charts (SVG), the HTML run report, attention maps and attributions
//   LLMRecommend     post embeddings, exact top-k search, hashtag voting, recommendation metrics
//   LLMGenerate      sampling and batched generation with the KV cache (`generate`)
//   LLMExchange      Hugging Face export/import (config.json, model.safetensors, tokenizer.json)
//   LLMLaunch        `launch`: runs mpirun, restarts failed jobs with --resume auto, shrinks the world size
//   LLMTrainCLI      the `swift-llm-train` executable (one ParsableCommand per subcommand)
//   LLMMPIChecks     `llm-mpi-checks`, the multi-rank test driver run under mpirun
let package = Package(
    name: "swift-llm-train",
    products: [
        .executable(name: "swift-llm-train", targets: ["LLMTrainCLI"]),
        .executable(name: "llm-mpi-checks", targets: ["LLMMPIChecks"]),
        .library(name: "LLMTrain", targets: ["LLMTrain"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .target(name: "LLMSupport", dependencies: [.product(name: "Crypto", package: "swift-crypto")],
                swiftSettings: [.swiftLanguageMode(.v6)]),
        .target(name: "LLMComm", dependencies: ["CMPI"], swiftSettings: [.swiftLanguageMode(.v6)]),
        .target(name: "CLLMKernels"),
        .target(name: "LLMModel", dependencies: ["COpenBLAS", "CLLMKernels", "LLMSupport"], swiftSettings: [.swiftLanguageMode(.v6)]),
        .target(name: "LLMData", dependencies: ["LLMSupport"], resources: [.copy("Corpora")], swiftSettings: [.swiftLanguageMode(.v6)]),
        .target(name: "LLMTrain", dependencies: ["CLLMKernels", "LLMComm", "LLMModel", "LLMData", "LLMSupport", "Yams"],
                swiftSettings: [.swiftLanguageMode(.v6)]),
        .target(name: "LLMReport", dependencies: ["LLMTrain", "LLMTasks", "LLMModel", "LLMData", "LLMSupport"]),
        .target(name: "LLMGenerate", dependencies: ["LLMTrain", "LLMModel", "LLMData", "LLMSupport"]),
        .target(name: "LLMExchange", dependencies: ["LLMTrain", "LLMModel", "LLMData", "LLMSupport"]),
        .target(name: "LLMPrivacy", dependencies: ["LLMTrain", "LLMComm", "LLMModel", "LLMData", "LLMSupport"],
                swiftSettings: [.swiftLanguageMode(.v6)]),
        .target(name: "LLMTasks", dependencies: ["LLMPrivacy", "LLMTrain", "LLMComm", "LLMModel", "LLMData", "LLMSupport"]),
        .target(name: "LLMRecommend", dependencies: ["LLMTasks", "LLMTrain", "LLMComm", "LLMModel", "LLMData",
                                                     "LLMSupport", "COpenBLAS"]),
        .target(name: "LLMLaunch", dependencies: ["LLMTrain", "LLMSupport"], swiftSettings: [.swiftLanguageMode(.v6)]),
        .executableTarget(name: "LLMTrainCLI", dependencies: [
            "LLMTrain", "LLMTasks", "LLMPrivacy", "LLMRecommend", "LLMReport", "LLMGenerate", "LLMExchange",
            "LLMLaunch",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "LLMMPIChecks", dependencies: ["LLMComm"]),
        // Assertions shared by the test targets (large-array comparisons that report the first difference).
        .target(name: "LLMTestSupport", path: "Tests/LLMTestSupport"),
        .testTarget(name: "LLMCommTests", dependencies: ["LLMComm", "LLMTestSupport"]),
        .testTarget(name: "LLMModelTests", dependencies: ["LLMModel", "LLMSupport", "LLMTestSupport"]),
        .testTarget(name: "LLMDataTests", dependencies: ["LLMData", "LLMSupport", "LLMTestSupport"]),
        .testTarget(name: "LLMTrainTests", dependencies: ["LLMTrain", "LLMSupport", "LLMTestSupport", "Yams"]),
        .testTarget(name: "EndToEndTests", dependencies: ["LLMTestSupport"]),
        .testTarget(name: "LLMTasksTests", dependencies: ["LLMTasks", "LLMTrain", "LLMModel", "LLMData", "LLMSupport", "LLMTestSupport"]),
        .testTarget(name: "LLMRecommendTests", dependencies: ["LLMRecommend", "LLMTasks", "LLMTrain", "LLMModel",
                                                              "LLMComm", "LLMData", "LLMSupport", "LLMTestSupport"]),
        .testTarget(name: "LLMPrivacyTests", dependencies: ["LLMPrivacy", "LLMTrain", "LLMModel", "LLMSupport", "LLMTestSupport"]),
        .testTarget(name: "LLMGenerateTests", dependencies: ["LLMGenerate", "LLMSupport", "LLMTestSupport"]),
        .testTarget(name: "LLMLaunchTests", dependencies: ["LLMLaunch"]),
        .testTarget(name: "LLMExchangeTests", dependencies: ["LLMExchange", "LLMSupport", "LLMTestSupport"]),
        .testTarget(name: "LLMReportTests", dependencies: ["LLMReport", "LLMTasks", "LLMTrain", "LLMModel", "LLMData",
                                                         "LLMSupport", "LLMTestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
