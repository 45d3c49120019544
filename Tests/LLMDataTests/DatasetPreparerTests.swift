import XCTest
@testable import LLMData

final class DatasetPreparerTests: XCTestCase {
    func testPrepareWritesSplitsLabelsAndAVerifiableManifest() throws {
        let dir = try makeTestDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let t = TrainedTokenizer.shared
        let posts = try ShippedCorpus.posts().filter { $0.source == "vader_tweets" }
        let manifest = try DatasetPreparer.prepare(posts: posts, sources: ["tweets"], tokenizer: t, output: dir)

        XCTAssertEqual(manifest.splits["train"]?.posts, 3787)
        XCTAssertEqual(manifest.splits["validation"]?.posts, 210)
        XCTAssertEqual(manifest.splits["test"]?.posts, 203)
        XCTAssertEqual(manifest.vocabSize, t.vocabSize)
        XCTAssertEqual(try DatasetManifest.load(directory: dir), manifest)

        let train = try TokenFile(url: manifest.tokensURL(.train, in: dir)!, expectedVocabSize: t.vocabSize)
        XCTAssertEqual(train.count, manifest.splits["train"]!.tokens)
        let ids = (0..<train.count).map { train[$0] }
        XCTAssertEqual(ids.filter { $0 == t.endOfTextID }.count, 3787)
        let firstPost = Array(ids[..<ids.firstIndex(of: t.endOfTextID)!])
        let firstTrain = posts.first { $0.split == .train }!
        XCTAssertEqual(t.decode(firstPost), TextNormalizer().normalize(firstTrain.text))

        let labels = try LabelledExample.load(url: dir.appendingPathComponent(manifest.splits["test"]!.labelsFile!))
        XCTAssertEqual(labels.count, 203)
        let firstTest = posts.first { $0.split == .test }!
        XCTAssertEqual(labels[0], LabelledExample(ids: t.encode(TextNormalizer().normalize(firstTest.text)), label: firstTest.label!,
                                                  rating: firstTest.rating, source: "vader_tweets"))
        XCTAssertEqual(firstTest.rating, 2.726315789, "the sidecar keeps VADER's rating for regression")

        let reloaded = try BPETokenizer.load(from: dir.appendingPathComponent(manifest.tokenizerFile))
        XCTAssertEqual(reloaded.tokenizerJSON(), t.tokenizerJSON())
    }

    func testCorruptedDatasetFileIsDetected() throws {
        let dir = try makeTestDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let posts = [Post(text: "one post", label: nil, source: "s", split: .train), Post(text: "two", label: nil, source: "s", split: .train)]
        let manifest = try DatasetPreparer.prepare(posts: posts, sources: ["s"], tokenizer: TrainedTokenizer.shared, output: dir)
        XCTAssertNil(manifest.splits["train"]?.labelsFile)
        let train = dir.appendingPathComponent("train.bin")
        var bytes = try Data(contentsOf: train)
        bytes[bytes.count - 1] ^= 1
        try bytes.write(to: train)
        XCTAssertThrowsError(try DatasetManifest.load(directory: dir)) { error in
            XCTAssertTrue("\(error)".hasPrefix(train.path), "\(error)")
            XCTAssertTrue("\(error)".contains("differs from the manifest"))
        }
    }

    func testEmptyInputIsAnError() throws {
        let dir = try makeTestDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let blank = [Post(text: "   ", label: nil, source: "s", split: .train)]
        XCTAssertThrowsError(try DatasetPreparer.prepare(posts: blank, sources: ["blank.txt"], tokenizer: TrainedTokenizer.shared, output: dir)) {
            XCTAssertEqual($0 as? DataError, .emptyCorpus(path: "blank.txt"))
        }
    }
}

final class UnwritableOutputTests: XCTestCase {
    func testOutputUnderAFileIsAnErrorNamingThePath() throws {
        let dir = try makeTestDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let blocker = dir.appendingPathComponent("file")
        try Data("x".utf8).write(to: blocker)
        let posts = [Post(text: "hi", label: nil, source: "s", split: .train)]
        XCTAssertThrowsError(try DatasetPreparer.prepare(posts: posts, sources: ["s"], tokenizer: TrainedTokenizer.shared,
                                                         output: blocker.appendingPathComponent("out"))) { error in
            XCTAssertTrue("\(error)".hasPrefix(blocker.appendingPathComponent("out").path + ": cannot write"), "\(error)")
        }
        XCTAssertThrowsError(try TrainedTokenizer.shared.save(to: blocker.appendingPathComponent("t.json"))) { error in
            XCTAssertTrue("\(error)".contains("cannot write"), "\(error)")
        }
    }
}
