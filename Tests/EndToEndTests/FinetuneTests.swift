import Foundation
import XCTest

/// Fine-tuning runs of the release binary: a tiny model pre-trained for a few steps, then
/// `finetune` on the English tweets (neg/pos), alone and under mpirun, `evaluate` and `classify`.
final class FinetuneTests: XCTestCase {
    /// One short pre-training run (which also prepares the embedded corpus), shared by the tests.
    static var pretrained: TrainingRunReader?

    func pretrainedRun() throws -> TrainingRunReader {
        if let run = Self.pretrained { return run }
        let run = TrainingRunReader(directory: FileManager.default.temporaryDirectory.appendingPathComponent("llm-e2e-pretrain-\(getpid())"))
        let result = try Launcher.run("swift-llm-train", ["train"] + quickRun + ["--steps", "3", "--run-dir", run.directory.path],
                                      directory: repositoryRoot)
        XCTAssertEqual(result.status, 0, result.output)
        Self.pretrained = run
        return run
    }

    /// quickRun plus the English binary sentiment task, initialised from the pre-trained run.
    func task() throws -> [String] {
        let pretrained = try pretrainedRun()
        return quickRun + ["--set", "data.dataset=\(pretrained.directory.path)/data", "--set", "task.name=sentiment-en",
                           "--set", "task.source=vader_tweets", "--set", "task.labels=[neg, pos]",
                           "--set", "task.class_weights=balanced", "--from", pretrained.directory.path]
    }

    @discardableResult
    func finetune(_ ranks: Int, _ run: TrainingRun, _ extra: [String], expectSuccess: Bool = true,
                          file: StaticString = #filePath, line: UInt = #line) throws -> Launcher.Result {
        let arguments = ["finetune"] + (try task()) + ["--run-dir", run.path] + extra
        let result = ranks == 0
            ? try Launcher.run("swift-llm-train", arguments, directory: repositoryRoot)
            : try Launcher.mpirun(ranks, "swift-llm-train", arguments, directory: repositoryRoot)
        if expectSuccess { XCTAssertEqual(result.status, 0, result.output, file: file, line: line) }
        return result
    }

    /// The global batch is a fixed set of posts, so 1, 2 and 8 ranks take the same steps: losses
    /// and validation scores agree to floating-point tolerance.
    func testOneTwoAndEightRanksAgree() throws {
        let runs = try [0, 2, 8].map { ($0, try TrainingRun(self, "ft-n\($0)")) }
        for (ranks, run) in runs { try finetune(ranks, run, ["--steps", "6"]) }
        let reference = try runs[0].1.trainLosses()
        XCTAssertEqual(reference.count, 6)
        let referenceEval = try runs[0].1.records(event: "eval").last!
        for (ranks, run) in runs.dropFirst() {
            let losses = try run.trainLosses()
            XCTAssertEqual(losses.map(\.step), reference.map(\.step))
            for (a, b) in zip(losses, reference) {
                XCTAssertEqual(a.loss, b.loss, accuracy: 1e-4 * max(1, abs(b.loss)), "n=\(ranks) step \(a.step)")
            }
            let eval = try run.records(event: "eval").last!
            XCTAssertEqual(eval["val_loss"] as! Double, referenceEval["val_loss"] as! Double, accuracy: 1e-4, "n=\(ranks)")
            XCTAssertEqual(eval["confusion"] as! [[Int]], referenceEval["confusion"] as! [[Int]], "n=\(ranks)")
        }
        let eval = referenceEval
        XCTAssertEqual(eval["labels"] as! [String], ["neg", "pos"])
        XCTAssertEqual((eval["confusion"] as! [[Int]]).joined().reduce(0, +), 174, "every validation tweet scored once")
        for key in ["accuracy", "macro_f1", "weighted_f1", "roc_auc", "precision_neg", "recall_pos", "f1_pos"] {
            XCTAssertNotNil(eval[key] as? Double, key)
        }
        let train = try runs[0].1.records(event: "train").last!
        XCTAssertGreaterThan(train["padding_share"] as! Double, 0)
    }

    /// Stopped at step 3 and resumed: the same losses and final weights, bit for bit.
    func testResumeAtSameWorldSizeIsBitIdentical() throws {
        let straight = try TrainingRun(self, "ft-straight"), split = try TrainingRun(self, "ft-split")
        try finetune(2, straight, ["--steps", "6"])
        try finetune(2, split, ["--steps", "6", "--until-step", "3"])
        let resumed = try finetune(2, split, ["--steps", "6", "--resume"])
        XCTAssertTrue(resumed.output.contains("resumed from"), resumed.output)
        XCTAssertEqual(try straight.trainLosses().map(\.loss), try split.trainLosses().map(\.loss))
        let a = try straight.checksums(try straight.latestCheckpoint()), b = try split.checksums(try split.latestCheckpoint())
        XCTAssertEqual(a["model.safetensors"], b["model.safetensors"])
        XCTAssertEqual(a["optimizer.safetensors"], b["optimizer.safetensors"])
        // Saved by 8 ranks, resumed by 2: the same global batches, so the same losses to tolerance.
        let eight = try TrainingRun(self, "ft-from8")
        try finetune(8, eight, ["--steps", "6", "--until-step", "3"])
        try finetune(2, eight, ["--steps", "6", "--resume"])
        for (x, y) in zip(try eight.trainLosses(), try straight.trainLosses()) {
            XCTAssertEqual(x.loss, y.loss, accuracy: 1e-4 * max(1, abs(y.loss)), "step \(x.step)")
        }
    }

    /// `classify` on the raw test tweets gives the labels and probabilities `evaluate` gave.
    func testClassifyReproducesEvaluate() throws {
        let run = try TrainingRun(self, "ft-classify")
        try finetune(0, run, ["--steps", "4"])
        let predictions = run.directory.appendingPathComponent("test.jsonl")
        let evaluated = try Launcher.run("swift-llm-train", ["evaluate", "--checkpoint", run.path, "--split", "test",
                                                             "--predictions", predictions.path], directory: repositoryRoot)
        XCTAssertEqual(evaluated.status, 0, evaluated.output)
        XCTAssertTrue(evaluated.stdout.contains("macro-F1"), evaluated.output)
        // Under mpirun the posts are split across ranks; the scores are the same.
        let metrics = { (ranks: Int) throws -> [String: Any] in
            let out = run.directory.appendingPathComponent("test-\(ranks).json")
            let arguments = ["evaluate", "--checkpoint", run.path, "--output", out.path]
            let result = ranks == 1 ? try Launcher.run("swift-llm-train", arguments, directory: repositoryRoot)
                : try Launcher.mpirun(ranks, "swift-llm-train", arguments, directory: repositoryRoot)
            XCTAssertEqual(result.status, 0, result.output)
            return try JSONSerialization.jsonObject(with: Data(contentsOf: out)) as! [String: Any]
        }
        let one = try metrics(1), two = try metrics(2)
        XCTAssertEqual(one["confusion"] as! [[Int]], two["confusion"] as! [[Int]])
        XCTAssertEqual(one["val_loss"] as! Double, two["val_loss"] as! Double, accuracy: 1e-5)
        // The same tweets, raw, in file order: the test split's neg/pos posts of the shipped corpus.
        let corpus = repositoryRoot.appendingPathComponent("Sources/LLMData/Corpora/vader_tweets.jsonl")
        let tweets = try String(contentsOf: corpus, encoding: .utf8).split(separator: "\n").filter { line in
            line.contains("\"split\":\"test\"") && !line.contains("\"label\":\"neutral\"")
        }
        let input = run.directory.appendingPathComponent("tweets.jsonl")
        try (tweets.joined(separator: "\n") + "\n").write(to: input, atomically: true, encoding: .utf8)
        let classified = try Launcher.run("swift-llm-train", ["classify", "--checkpoint", run.path, "--input", input.path],
                                          directory: repositoryRoot)
        XCTAssertEqual(classified.status, 0, classified.output)
        XCTAssertTrue(classified.stderr.contains("posts/s"), classified.output)
        let decode = { (text: String) in
            try text.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        }
        let expected = try decode(try String(contentsOf: predictions, encoding: .utf8)), got = try decode(classified.stdout)
        XCTAssertEqual(got.count, expected.count)
        var labelMismatches = 0, firstMismatch: Int?
        for (i, (e, g)) in zip(expected, got).enumerated() {
            let pe = e["probabilities"] as! [String: Double], pg = g["probabilities"] as! [String: Double]
            if e["label"] as! String != g["label"] as! String || abs(pe["pos"]! - pg["pos"]!) > 1e-4 {
                labelMismatches += 1
                firstMismatch = firstMismatch ?? i
            }
        }
        XCTAssertEqual(labelMismatches, 0, "first at post \(firstMismatch ?? -1)")
    }

    /// Regression on VADER's rating: the same loop and the same rank invariance, scored by MAE,
    /// RMSE and Spearman; `evaluate` on the test split reports the same fields.
    func testRegressionOnTheRating() throws {
        let one = try TrainingRun(self, "ft-reg1"), two = try TrainingRun(self, "ft-reg2")
        let extra = ["--steps", "4", "--set", "task.kind=regression"]
        try finetune(0, one, extra)
        try finetune(2, two, extra)
        for (a, b) in zip(try two.trainLosses(), try one.trainLosses()) {
            XCTAssertEqual(a.loss, b.loss, accuracy: 1e-4 * max(1, abs(b.loss)), "step \(a.step)")
        }
        let eval = try one.records(event: "eval").last!
        for key in ["mae", "rmse", "spearman", "val_loss"] { XCTAssertNotNil(eval[key] as? Double, key) }
        XCTAssertEqual(eval["rmse"] as! Double, (eval["val_loss"] as! Double).squareRoot(), accuracy: 1e-9)
        let output = one.directory.appendingPathComponent("test.json")
        let evaluated = try Launcher.run("swift-llm-train", ["evaluate", "--checkpoint", one.path, "--output", output.path],
                                         directory: repositoryRoot)
        XCTAssertEqual(evaluated.status, 0, evaluated.output)
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: output)) as! [String: Any]
        XCTAssertNotNil(report["spearman"] as? Double, "\(report)")
    }

    func testBadInputIsNamed() throws {
        let run = try TrainingRun(self, "ft-bad")
        try finetune(0, run, ["--steps", "2"])
        // Another label set on resume is refused, naming both.
        let relabelled = try finetune(0, run, ["--steps", "4", "--resume", "--set", "task.labels=[neg, neutral, pos]"],
                                      expectSuccess: false)
        XCTAssertNotEqual(relabelled.status, 0)
        XCTAssertTrue(relabelled.stderr.contains("labels [neg, pos]") && relabelled.stderr.contains("neutral"), relabelled.output)
        // A language-model checkpoint is not a classifier.
        let lm = try Launcher.run("swift-llm-train", ["evaluate", "--checkpoint", try pretrainedRun().directory.path],
                                  directory: repositoryRoot)
        XCTAssertNotEqual(lm.status, 0)
        XCTAssertTrue(lm.stderr.contains("fine-tune it first"), lm.output)
        let kind = try finetune(0, try TrainingRun(self, "ft-kind"), ["--set", "task.kind=ranking"], expectSuccess: false)
        XCTAssertTrue(kind.stderr.contains("task.kind: 'ranking'"), kind.output)
        let noCheckpoint = try Launcher.run("swift-llm-train", ["evaluate", "--checkpoint", "/nonexistent-run"],
                                            directory: repositoryRoot)
        XCTAssertTrue(noCheckpoint.stderr.contains("/nonexistent-run: no such checkpoint"), noCheckpoint.output)
        let missing = try Launcher.run("swift-llm-train", ["classify", "--checkpoint", run.path, "--input", "/nonexistent.txt"],
                                       directory: repositoryRoot)
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("/nonexistent.txt"), missing.output)
    }
}

extension FinetuneTests {
    /// `explain --attributions` on a fine-tuned classifier: the label and probabilities `classify`
    /// gives, attributions that add up to the logit difference, and the page with the post coloured.
    func testExplainAttributionsOfAClassifier() throws {
        let run = try TrainingRun(self, "ft-explain")
        try finetune(0, run, ["--steps", "4"])
        let post = "I love this so much, best day ever!"
        let result = try Launcher.run("swift-llm-train", ["explain", "--model", run.path, "--text", post, "--attributions",
                                                          "--json"], directory: repositoryRoot)
        XCTAssertEqual(result.status, 0, result.output)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        let explained = object["attributions"] as! [String: Any]
        let attributions = explained["attributions"] as! [Double], tokens = explained["tokens"] as! [[String: Any]]
        XCTAssertEqual(attributions.count, tokens.count)
        XCTAssertEqual((object["tokens"] as! [[String: Any]]).count, tokens.count, "attention over the same tokens")
        XCTAssertEqual(tokens.last?["text"] as? String, "<|endoftext|>")
        XCTAssertEqual(attributions.last, 0)
        let difference = explained["difference"] as! Double, sum = attributions.reduce(0, +)
        XCTAssertEqual(sum, explained["sum"] as! Double, accuracy: 1e-9)
        XCTAssertEqual(sum, difference, accuracy: 0.01 * abs(difference) + 1e-3, "completeness")
        XCTAssertEqual(explained["complete"] as? Bool, true, result.output)
        // Steps doubled from 256 until complete twice in a row; the last try is the result.
        let tried = explained["tried"] as! [[String: Any]], steps = tried.map { $0["steps"] as! Int }
        XCTAssertEqual(steps, (0..<steps.count).map { 256 << $0 })
        XCTAssertEqual(steps.last, explained["steps"] as? Int)
        XCTAssertEqual(tried.last?["completeness_gap"] as? Double, explained["completeness_gap"] as? Double)
        XCTAssertGreaterThanOrEqual(steps.count, 2)

        // The same post through classify: the same label, and probabilities = softmax(logits).
        let input = run.directory.appendingPathComponent("post.txt")
        try (post + "\n").write(to: input, atomically: true, encoding: .utf8)
        let classified = try Launcher.run("swift-llm-train", ["classify", "--checkpoint", run.path, "--input", input.path],
                                          directory: repositoryRoot)
        XCTAssertEqual(classified.status, 0, classified.output)
        let line = try JSONSerialization.jsonObject(with: Data(classified.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(line["label"] as? String, explained["label"] as? String)
        let logits = explained["logits"] as! [Double], labels = explained["labels"] as! [String]
        let top = logits.max()!, normaliser = logits.map { exp($0 - top) }.reduce(0, +)
        let probabilities = line["probabilities"] as! [String: Double]
        for (label, logit) in zip(labels, logits) {
            XCTAssertEqual(probabilities[label]!, exp(logit - top) / normaliser, accuracy: 1e-4, label)
        }

        // The page: one coloured span per token, and the completeness line; the text summary says it too.
        let html = run.directory.appendingPathComponent("why.html")
        let page = try Launcher.run("swift-llm-train", ["explain", "--model", run.path, "--text", post, "--attributions",
                                                        "--output", html.path], directory: repositoryRoot)
        XCTAssertEqual(page.status, 0, page.output)
        XCTAssertTrue(page.stdout.contains("completeness: attributions sum to"), page.output)
        let text = try String(contentsOf: html, encoding: .utf8)
        let section = text.components(separatedBy: "<p class=\"attributions\">")[1].components(separatedBy: "</p>")[0]
        XCTAssertEqual(section.components(separatedBy: "<span ").count - 1, tokens.count)
        XCTAssertTrue(text.contains("completeness: attributions sum to"))
        let shown = section.components(separatedBy: "data-value=\"").dropFirst().map { Double($0.prefix { $0 != "\"" })! }
        XCTAssertEqual(shown.reduce(0, +), sum, accuracy: 1e-9, "the page shows the numbers of --json")
        let svg = try Launcher.run("swift-llm-train", ["explain", "--model", run.path, "--text", post, "--attributions",
                                                       "--output", run.directory.appendingPathComponent("a.svg").path])
        XCTAssertTrue(svg.stderr.contains("use --output FILE.html"), svg.output)
    }
}
