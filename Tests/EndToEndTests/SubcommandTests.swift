import Foundation
import XCTest

/// Every subcommand besides `train`, run as a user would, with small inputs: each must finish,
/// print the figures or files it promises, and fail clearly on bad input.
final class SubcommandTests: XCTestCase {
    func testBenchModelPrintsItsFigures() throws {
        let result = try Launcher.run("swift-llm-train", ["bench", "model", "--config", "Configs/tiny.yaml", "--threads", "1",
                                                          "--steps", "2", "--warmup", "1"], directory: repositoryRoot)
        XCTAssertEqual(result.status, 0, result.output)
        for key in ["tokens_per_s=", "ms_per_step=", "mfu=", "peak_rss_mb=", "sgemm_gflops=", "fraction_of_sgemm=",
                    "fraction_of_sgemm_cpu=", "sgemm_best_gflops=", "fraction_of_best_sgemm=", "kernels="] {
            XCTAssertTrue(result.stdout.contains(key), "bench model lacks \(key): \(result.stdout)")
        }
    }

    func testBenchKernelsTimesEveryVariantTheCPURunsAndTheOverrideIsChecked() throws {
        let args = ["bench", "kernels", "--config", "Configs/tiny.yaml", "--rounds", "1"]
        let result = try Launcher.run("swift-llm-train", args, directory: repositoryRoot)
        XCTAssertEqual(result.status, 0, result.output)
        for kernel in ["gelu_forward", "gelu_forward_output_only", "layernorm_backward", "softmax_xent_forward_backward",
                       "adamw"] {
            XCTAssertTrue(result.stdout.contains("kernel=\(kernel) variant=portable ms="), result.stdout)
        }
        // SWIFT_LLM_TRAIN_KERNELS picks the variant in use; an unknown name is refused, naming the choices.
        let portable = try Launcher.run("swift-llm-train", args, environment: ["SWIFT_LLM_TRAIN_KERNELS": "portable"],
                                        directory: repositoryRoot)
        XCTAssertTrue(portable.stdout.contains("in use: portable"), portable.output)
        let bad = try Launcher.run("swift-llm-train", args, environment: ["SWIFT_LLM_TRAIN_KERNELS": "sse9"],
                                   directory: repositoryRoot)
        XCTAssertEqual(bad.status, 2, bad.output)
        XCTAssertTrue(bad.stderr.contains("SWIFT_LLM_TRAIN_KERNELS must be one of portable, avx2, avx512"), bad.output)
    }

    func testBenchGEMMsTimesEveryProductOfAStepAgainstTheReference() throws {
        let result = try Launcher.run("swift-llm-train", ["bench", "gemms", "--config", "Configs/tiny.yaml", "--rounds", "2"],
                                      directory: repositoryRoot)
        XCTAssertEqual(result.status, 0, result.output)
        let lines = result.stdout.split(separator: "\n").filter { $0.hasPrefix("gemm=") && $0.contains(" shape=") }
        // Four linear layers x (forward, input gradient, weight gradient), and the LM head's three.
        XCTAssertEqual(lines.count, 15, result.stdout)
        for line in lines {
            let ratio = line.split(separator: " ").first { $0.hasPrefix("of_reference=") }.flatMap { Double($0.dropFirst(13)) }
            XCTAssertTrue((ratio ?? 0) > 0 && ratio!.isFinite, "\(line)")
        }
        XCTAssertTrue(result.stdout.contains("gemm=mlp.c_proj weight gradient shape="), result.stdout)
        XCTAssertTrue(result.stdout.contains("gemm=all_of_one_step of_reference="), result.stdout)
        let bad = try Launcher.run("swift-llm-train", ["bench", "gemms", "--config", "Configs/tiny.yaml", "--rounds", "0"],
                                   directory: repositoryRoot)
        XCTAssertNotEqual(bad.status, 0, bad.output)
        XCTAssertTrue(bad.stderr.contains("--rounds must be at least 1"), bad.output)
    }

    func testBenchAllReduceUnderMPIPrintsEverySize() throws {
        let result = try Launcher.mpirun(2, "swift-llm-train", ["bench", "allreduce", "--sizes", "4096,1048576",
                                                                 "--seconds-per-size", "0.05"])
        XCTAssertEqual(result.status, 0, result.output)
        for bytes in ["bytes=4096 ", "bytes=1048576 "] { XCTAssertTrue(result.stdout.contains(bytes), result.stdout) }
        XCTAssertTrue(result.stdout.contains("chunked_gbps="), result.stdout)
    }

    func testTokenizerBenchOnASmallCorpus() throws {
        let run = try TrainingRun(self, "tokbench")
        let corpus = run.directory.appendingPathComponent("posts.txt")
        try (0..<200).map { "post number \($0) with @user and https://x.y/\($0) 很好 😀" }.joined(separator: "\n")
            .write(to: corpus, atomically: true, encoding: .utf8)
        let result = try Launcher.run("swift-llm-train", ["tokenizer", "bench", "--vocab-size", "300", corpus.path])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertFalse(result.stdout.isEmpty)
    }

    /// prepare: a labelled CSV becomes token files, label sidecars and a manifest a run can use.
    func testPrepareWritesADatasetThatTrains() throws {
        let run = try TrainingRun(self, "prepare")
        let corpus = run.directory.appendingPathComponent("posts.csv")
        let rows = (0..<400).map { i in "\"post \(i), \(i % 2 == 0 ? "good" : "bad") "
                                        + "day\",\(i % 2 == 0 ? "pos" : "neg")" }
        try (["text,label"] + rows).joined(separator: "\n").write(to: corpus, atomically: true, encoding: .utf8)
        let tokenizer = run.directory.appendingPathComponent("tokenizer.json")
        let trained = try Launcher.run("swift-llm-train", ["tokenizer", "train", "--vocab-size", "300", "--output", tokenizer.path,
                                                           corpus.path, "--text-field", "text"])
        XCTAssertEqual(trained.status, 0, trained.output)
        let data = run.directory.appendingPathComponent("data")
        let prepared = try Launcher.run("swift-llm-train", ["prepare", corpus.path, "--tokenizer", tokenizer.path,
                                                            "--output", data.path, "--label-field", "label"])
        XCTAssertEqual(prepared.status, 0, prepared.output)
        XCTAssertTrue(prepared.stdout.contains("train: "), prepared.stdout)
        for file in ["manifest.json", "tokenizer.json", "train.bin", "train.labels.jsonl"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: data.appendingPathComponent(file).path), "missing \(file)")
        }
        let labels = try String(contentsOf: data.appendingPathComponent("train.labels.jsonl"), encoding: .utf8)
        XCTAssertTrue(labels.contains(#""label":"pos""#), labels)
        let trainedRun = try Launcher.run("swift-llm-train", ["train"] + quickRun + [
            "--set", "model.vocab_size=300", "--set", "data.dataset=\(data.path)", "--steps", "2",
            "--run-dir", run.directory.appendingPathComponent("run").path,
        ], directory: repositoryRoot)
        XCTAssertEqual(trainedRun.status, 0, trainedRun.output)

        let missing = try Launcher.run("swift-llm-train", ["prepare", corpus.path, "--tokenizer", tokenizer.path,
                                                           "--output", data.path, "--label-field", "sentiment"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("sentiment"), missing.output)
    }
}
