import Foundation
import XCTest

/// The binary as a new user meets it: help text, and training with no arguments at all.
final class CommandLineTests: XCTestCase {
    func testHelpListsEveryCommandAndOption() throws {
        let top = try Launcher.run("swift-llm-train", ["--help"])
        XCTAssertEqual(top.status, 0, top.output)
        // Subcommands are listed one a line, indented, name first ("swift-llm-train" contains "train").
        let listed = Set(top.stdout.split(separator: "\n").compactMap { line -> String? in
            line.hasPrefix("  ") ? line.split(separator: " ").first.map(String.init) : nil
        })
        for command in [
            "train", "finetune", "evaluate", "classify", "baseline", "bench", "tokenizer", "prepare", "plot", "report",
            "explain", "generate", "export", "import",
        ] {
            XCTAssertTrue(listed.contains(command), "--help lacks \(command): \(top.stdout)")
        }
        let train = try Launcher.run("swift-llm-train", ["train", "--help"])
        for option in [
            "--config", "--set", "--steps", "--run-dir", "--resume", "--allow-fallback", "--allow-config-change", "--debug", "--until-step",
        ] {
            XCTAssertTrue(train.stdout.contains(option), "train --help lacks \(option): \(train.stdout)")
        }
        // The path is optional, and help says so: `--resume [<path>]`.
        XCTAssertTrue(train.stdout.contains("--resume [<path>]"), train.stdout)
        let version = try Launcher.run("swift-llm-train", ["--version"])
        XCTAssertEqual(version.status, 0, version.output)
        XCTAssertTrue(version.stdout.range(of: #"^\d+\.\d+\.\d+\n$"#, options: .regularExpression) != nil, version.stdout)
        let tasks = [("finetune", ["--config", "--set", "--from", "--steps", "--run-dir", "--resume", "--until-step"]),
                     ("evaluate", ["--checkpoint", "--split", "--dataset", "--output", "--predictions"]),
                     ("classify", ["--checkpoint", "--input", "--text-field", "--output", "--dataset"]),
                     ("baseline", ["--config", "--set", "--dataset", "--output"])]
        for (command, options) in tasks {
            let help = try Launcher.run("swift-llm-train", [command, "--help"])
            XCTAssertEqual(help.status, 0, help.output)
            for option in options {
                XCTAssertTrue(help.stdout.contains(option), "\(command) --help lacks \(option): \(help.stdout)")
            }
        }
    }

    /// `swift-llm-train` alone trains the default model on the embedded corpus into runs/default;
    /// run again, it refuses to overwrite that run and says how to continue it.
    func testNoArgumentsTrainsTheDefaultModel() throws {
        let workdir = try TrainingRun(self, "default")
        let first = try Launcher.run("swift-llm-train", [], directory: workdir.directory)
        XCTAssertEqual(first.status, 0, first.output)
        XCTAssertTrue(first.stdout.contains("preparing the embedded corpus"), first.output)
        let run = TrainingRunReader(directory: workdir.directory.appendingPathComponent("runs/default"))
        let losses = try run.trainLosses()
        XCTAssertEqual(losses.last?.step, 200)
        XCTAssertLessThan(losses.last!.loss, losses.first!.loss - 1, "200 steps must lower the loss clearly")
        XCTAssertFalse(try run.records(event: "eval").isEmpty)

        let again = try Launcher.run("swift-llm-train", [], directory: workdir.directory)
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.stderr.contains("already holds checkpoints"), again.output)
        XCTAssertTrue(again.stderr.contains("--resume"), again.output)
    }
}
