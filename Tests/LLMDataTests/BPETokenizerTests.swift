import LLMSupport
import XCTest
@testable import LLMData

/// One tokenizer trained on the shipped tweets, shared by the tests (training in a debug build
/// takes a few seconds).
enum TrainedTokenizer {
    static let texts: [String] = {
        let normalizer = TextNormalizer()
        return try! ShippedCorpus.posts().filter { $0.source == "vader_tweets" || $0.text.count < 40 }.map { normalizer.normalize($0.text) }
    }()
    static let shared: BPETokenizer = try! BPETrainer.train(texts: texts, vocabSize: 1500)
}

final class BPETokenizerTests: XCTestCase {
    func testToyCorpusLearnsTheMostFrequentPairsFirst() throws {
        let tokenizer = try BPETrainer.train(texts: ["aaab aaab aaab", "ab"], vocabSize: BPETrainer.minimumVocabSize + 2)
        let base = Int32(SpecialTokens.all.count)
        let a = base + Int32(UInt8(ascii: "a")), b = base + Int32(UInt8(ascii: "b")), space = base + 0x20
        // Words "aaab" x1, " aaab" x2, "ab" x1. Pair counts: (a,a) 6, (a,b) 4, (space,a) 2, so
        // (a,a) merges first; "aaab" becomes [aa, a, b], leaving (a,b) 4 > (aa,a) 3 > (space,aa) 2.
        XCTAssertEqual(tokenizer.merges.map { [$0.0, $0.1] }, [[a, a], [a, b]])
        XCTAssertEqual(tokenizer.vocabSize, BPETrainer.minimumVocabSize + 2)
        XCTAssertEqual(tokenizer.tokenBytes[Int(base) + 256], Array("aa".utf8))
        XCTAssertEqual(tokenizer.encode(" aaab"), [space, base + 256, base + 257])
    }

    func testSpecialTokensHaveTheFirstIdsAndEncodeAtomically() {
        let t = TrainedTokenizer.shared
        XCTAssertEqual(t.specialTokens[SpecialTokens.endOfText], 0)
        XCTAssertEqual(t.specialTokens[SpecialTokens.cls], 6)
        let ids = t.encode("hi <user> see <url><|endoftext|>")
        XCTAssertTrue(ids.contains(t.specialTokens["<user>"]!))
        XCTAssertEqual(Array(ids.suffix(2)), [t.specialTokens["<url>"]!, 0])
        XCTAssertEqual(ids.filter { $0 < 7 }.count, 3)
    }

    func testRoundTripOverTheShippedCorpora() throws {
        let t = TrainedTokenizer.shared
        let normalizer = TextNormalizer()
        var checked = 0
        for post in try ShippedCorpus.posts() {
            let text = normalizer.normalize(post.text)
            XCTAssertEqual(t.decode(t.encode(text)), text)
            checked += 1
        }
        XCTAssertEqual(checked, 21_563)
    }

    func testRoundTripOverRandomUnicode() {
        let t = TrainedTokenizer.shared
        // Seeded, so a failure reproduces; the seed is in every failure message.
        let seed: UInt64 = 20_261_201
        var rng = SplitMix64(seed: seed)
        let pools: [[Unicode.Scalar]] = [
            Array("abc XYZ'!?,. 012\t\n".unicodeScalars), Array("的一是不了人质量很好，。！".unicodeScalars),
            Array("😀👍🏽👨‍👩‍👧‍👦🇨🇳❤️\u{200D}\u{FE0F}".unicodeScalars), Array("<url><user>".unicodeScalars),
        ]
        for _ in 0..<500 {
            var s = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0...40, using: &rng) {
                if Bool.random(using: &rng) {
                    s.append(pools.randomElement(using: &rng)!.randomElement(using: &rng)!)
                } else if let u = Unicode.Scalar(UInt32.random(in: 0...0x10FFFF, using: &rng)) {
                    s.append(u)  // surrogates are not scalars, so they are skipped here
                }
            }
            let text = String(s)
            XCTAssertEqual(t.decode(t.encode(text)), text, "seed \(seed)")
        }
    }

    func testMergesShortenText() {
        let t = TrainedTokenizer.shared
        let text = TrainedTokenizer.texts.prefix(200).joined(separator: " ")
        let ratio = Double(text.utf8.count) / Double(t.encode(text).count)
        XCTAssertGreaterThan(ratio, 2.0)  // 2.17 bytes per token at vocab 1500 on English tweets
    }

    func testSaveAndLoadGiveIdenticalTokenizer() throws {
        let t = TrainedTokenizer.shared
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tok-\(UUID()).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try t.save(to: url)
        let loaded = try BPETokenizer.load(from: url)
        XCTAssertEqual(loaded.tokenBytes, t.tokenBytes)
        XCTAssertEqual(loaded.merges.map { [$0.0, $0.1] }, t.merges.map { [$0.0, $0.1] })
        XCTAssertEqual(loaded.specialTokens, t.specialTokens)
        for text in TrainedTokenizer.texts.prefix(300) { XCTAssertEqual(loaded.encode(text), t.encode(text)) }
        XCTAssertEqual(loaded.tokenizerJSON(), t.tokenizerJSON())
    }

    func testTrainingIsDeterministic() throws {
        let texts = Array(TrainedTokenizer.texts.prefix(500))
        let one = try BPETrainer.train(texts: texts, vocabSize: 600)
        let two = try BPETrainer.train(texts: texts, vocabSize: 600)
        XCTAssertEqual(one.tokenizerJSON(), two.tokenizerJSON())
    }

    func testVocabularyTooSmallIsAnError() {
        XCTAssertThrowsError(try BPETrainer.train(texts: ["abc"], vocabSize: 100)) { error in
            XCTAssertEqual(error as? DataError, .vocabularyTooSmall(requested: 100, minimum: 263))
            XCTAssertTrue("\(error)".contains("at least 263"))
        }
    }

    func testBadTokenizerFilesNameTheFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("badtok-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = dir.appendingPathComponent("none.json")
        XCTAssertThrowsError(try BPETokenizer.load(from: missing)) { XCTAssertEqual($0 as? DataError, .fileNotFound(path: missing.path)) }
        let garbage = dir.appendingPathComponent("garbage.json")
        try Data("not json".utf8).write(to: garbage)
        XCTAssertThrowsError(try BPETokenizer.load(from: garbage)) { XCTAssertTrue("\($0)".hasPrefix(garbage.path)) }
        let otherPreTokenizer = dir.appendingPathComponent("other.json")
        let json = TrainedTokenizer.shared.tokenizerJSON().replacingOccurrences(of: "\"Isolated\"", with: "\"Removed\"")
            .replacingOccurrences(of: "\"use_regex\": false}]", with: "\"use_regex\": true}]")
        try Data(json.utf8).write(to: otherPreTokenizer)
        XCTAssertThrowsError(try BPETokenizer.load(from: otherPreTokenizer)) { XCTAssertTrue("\($0)".contains("pre_tokenizer")) }
        let hugeID = dir.appendingPathComponent("huge.json")
        try Data(TrainedTokenizer.shared.tokenizerJSON().replacingOccurrences(of: "{\"id\": 0,", with: "{\"id\": 2000000000,").utf8).write(to: hugeID)
        XCTAssertThrowsError(try BPETokenizer.load(from: hugeID)) { XCTAssertTrue("\($0)".contains("id 2000000000 outside 0..<1507"), "\($0)") }
    }

    func testDecodeSkipsIdsOutsideTheVocabulary() {
        let t = TrainedTokenizer.shared
        XCTAssertEqual(t.decode(t.encode("ok") + [-1, Int32(t.vocabSize)]), "ok")
    }
}
