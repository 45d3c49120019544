import ArgumentParser
import Foundation
import LLMTasks
import LLMTrain

struct BaselineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline",
        abstract: "Train and score the bag-of-words baseline of a classification task (TF-IDF + logistic regression).",
        discussion: """
        Word uni/bigrams and character 1-3-grams, TF-IDF, multinomial logistic regression with \
        the L2 strength chosen on the validation split; prints the test metrics, and with --output \
        writes them as JSON. Same posts and labels as `finetune` with the same config.

        Example:
          swift-llm-train baseline --config Configs/sentiment-en.yaml --set data.dataset=runs/pretrain/data
        """
    )

    @Option(name: .long, help: ArgumentHelp("YAML config with a task section (presets in Configs/).", valueName: "file"))
    var config: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override one config field (repeatable).", valueName: "key=value"))
    var overrides: [String] = []

    @Option(help: ArgumentHelp("Prepared dataset directory; default: data.dataset of the config.", valueName: "dir"))
    var dataset: String?

    @Option(help: ArgumentHelp("Write the test metrics as a JSON object to this file.", valueName: "file"))
    var output: String?

    mutating func run() throws {
        do {
            let config = try TrainConfig.load(path: config, overrides: overrides)
            guard let directory = dataset ?? (config.data.dataset.isEmpty ? nil : config.data.dataset) else {
                throw ValidationError("name the prepared dataset: --dataset DIR or data.dataset (e.g. RUN_DIR/data of "
                                      + "a pre-training run)")
            }
            let spec = try TaskSpec(section: config.task)
            let result = try Baseline.run(spec: spec, directory: URL(fileURLWithPath: directory)) { print($0) }
            print("baseline \(config.task.name), l2 \(result.l2), \(format(result.seconds, 1)) s: test "
                  + "\(result.test.summary)")
            if let output {
                var object: [String: Any] = result.test.numbers.merging(["l2": result.l2, "seconds": result.seconds]) { $1 }
                object.merge(result.test.arrays) { $1 }
                object["split"] = "test"
                try DurableFile.writeAtomically(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]),
                                                to: output)
            }
        } catch let error as ValidationError {
            throw error
        } catch {
            FileHandle.standardError.write(Data("swift-llm-train: error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
