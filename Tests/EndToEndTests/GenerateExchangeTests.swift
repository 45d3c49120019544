import Foundation
import XCTest

/// `generate`, `export` and `import` with the real binary, on one short training run: the happy
/// path (export, import, generate from both, resume training from the import) and bad input.
final class GenerateExchangeTests: XCTestCase {
    func train(_ run: TrainingRun) throws -> String {
        let result = try Launcher.run("swift-llm-train", ["train"] + quickRun + ["--steps", "20", "--run-dir", run.path + "/run"],
                                      directory: repositoryRoot)
        XCTAssertEqual(result.status, 0, result.output)
        return run.path + "/run"
    }

    func generate(_ arguments: [String]) throws -> Launcher.Result {
        try Launcher.run("swift-llm-train", ["generate"] + arguments, directory: repositoryRoot)
    }

    func testGenerateExportImportRoundTrip() throws {
        let work = try TrainingRun(self, "exchange")
        let run = try train(work)
        let greedy = try generate(["--model", run, "--prompt", "what a day", "--prompt", "酒店", "--greedy", "--json",
                                   "--max-tokens", "8"])
        XCTAssertEqual(greedy.status, 0, greedy.output)
        let lines = greedy.stdout.split(separator: "\n").map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        XCTAssertEqual(lines.map { $0["prompt"] as? String }, ["what a day", "酒店"])
        for line in lines {
            XCTAssertFalse((line["prompt_ids"] as! [Int]).isEmpty)
            XCTAssertLessThanOrEqual((line["ids"] as! [Int]).count, 8)
        }
        XCTAssertTrue(greedy.stderr.contains("tokens/s decoding"), greedy.stderr)

        let hf = work.path + "/hf"
        let export = try Launcher.run("swift-llm-train", ["export", run, "--format", "hf", "--output", hf])
        XCTAssertEqual(export.status, 0, export.output)
        let imported = work.path + "/imported"
        let importResult = try Launcher.run("swift-llm-train", ["import", hf, "--output", imported])
        XCTAssertEqual(importResult.status, 0, importResult.output)
        // The imported model generates exactly what the original does.
        let again = try generate(["--model", imported, "--prompt", "what a day", "--prompt", "酒店", "--greedy", "--json",
                                  "--max-tokens", "8"])
        XCTAssertEqual(again.status, 0, again.output)
        XCTAssertEqual(again.stdout, greedy.stdout)
        // Exported again: the same weights file, byte for byte.
        let hf2 = work.path + "/hf2"
        XCTAssertEqual(try Launcher.run("swift-llm-train", ["export", imported, "--output", hf2]).status, 0)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: hf + "/model.safetensors")),
                       try Data(contentsOf: URL(fileURLWithPath: hf2 + "/model.safetensors")))

        // Training resumes from the import on data made with the same tokenizer.
        let resumed = try Launcher.run("swift-llm-train", ["train"] + quickRun + [
            "--steps", "3", "--run-dir", work.path + "/resumed", "--resume", imported,
            "--set", "data.dataset=\(run)/data"], directory: repositoryRoot)
        XCTAssertEqual(resumed.status, 0, resumed.output)
        XCTAssertTrue(resumed.output.contains("resumed from"), resumed.output)
    }

    func testBadInputGivesClearErrors() throws {
        let work = try TrainingRun(self, "badinput")
        let run = try train(work)

        let empty = try generate(["--model", run, "--prompt", "ok", "--prompt", ""])
        XCTAssertNotEqual(empty.status, 0)
        XCTAssertTrue(empty.stderr.contains("prompt 2 is empty"), empty.output)

        let long = String(repeating: "what a great day ", count: 40)
        let truncated = try generate(["--model", run, "--prompt", long, "--prompt", long, "--json", "--max-tokens", "2"])
        XCTAssertEqual(truncated.status, 0, truncated.output)
        XCTAssertEqual(truncated.stderr.components(separatedBy: "truncated from the left").count - 1, 1,
                       "said once: \(truncated.stderr)")
        XCTAssertTrue(truncated.stderr.contains("2 prompts are longer than the context of 64 tokens"), truncated.stderr)
        XCTAssertTrue(truncated.stdout.contains("\"truncated\":true"), truncated.stdout)

        let notGPT2 = work.path + "/llama"
        try FileManager.default.createDirectory(atPath: notGPT2, withIntermediateDirectories: true)
        try Data(#"{"model_type": "llama", "hidden_size": 64}"#.utf8).write(to: URL(fileURLWithPath: notGPT2 + "/config.json"))
        let badImport = try Launcher.run("swift-llm-train", ["import", notGPT2, "--output", work.path + "/out"])
        XCTAssertNotEqual(badImport.status, 0)
        XCTAssertTrue(badImport.stderr.contains("config.json: field 'model_type' is \"llama\""), badImport.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: work.path + "/out"))

        let hf = work.path + "/hf"
        XCTAssertEqual(try Launcher.run("swift-llm-train", ["export", run, "--output", hf]).status, 0)
        let over = try Launcher.run("swift-llm-train", ["export", run, "--output", hf])
        XCTAssertNotEqual(over.status, 0)
        XCTAssertTrue(over.stderr.contains("already exists") && over.stderr.contains("--force"), over.output)
        XCTAssertEqual(try Launcher.run("swift-llm-train", ["export", run, "--output", hf, "--force"]).status, 0)

        let prompts = work.path + "/prompts.txt"
        try Data("what a day\n\n   \n酒店\n".utf8).write(to: URL(fileURLWithPath: prompts))
        let fromFile = try generate(["--model", run, "--input", prompts, "--json", "--max-tokens", "2"])
        XCTAssertEqual(fromFile.status, 0, fromFile.output)
        XCTAssertEqual(fromFile.stdout.split(separator: "\n").count, 2, "blank lines are not prompts: "
                                                                        + "\(fromFile.stdout)")
        let noFile = try generate(["--model", run, "--input", work.path + "/none.txt"])
        XCTAssertNotEqual(noFile.status, 0)
        XCTAssertTrue(noFile.stderr.contains("none.txt: cannot read the prompt file"), noFile.output)

        let missing = try generate(["--model", work.path + "/nothing", "--prompt", "hi"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("nothing: no such checkpoint or run directory"), missing.output)
    }
}
