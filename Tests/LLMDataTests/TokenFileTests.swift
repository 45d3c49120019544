import LLMTestSupport
import XCTest
@testable import LLMData
import LLMSupport

final class TokenFileTests: XCTestCase {
    func testWriteThenMapRoundTripsBothWidths() throws {
        let dir = try makeTestDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for (vocab, width) in [(8192, 2), (100_000, 4)] {
            let tokens: [Int32] = (0..<1000).map { Int32($0 * 7 % vocab) }
            let url = dir.appendingPathComponent("t\(vocab).bin")
            let sha = try TokenFile.write(tokens, vocabSize: vocab, to: url)
            XCTAssertEqual(sha, SHA256.hash(try Data(contentsOf: url)))
            let file = try TokenFile(url: url, expectedVocabSize: vocab)
            XCTAssertEqual(file.count, 1000)
            XCTAssertEqual(file.vocabSize, vocab)
            XCTAssertEqual(file.tokenWidth, width)
            assertElementsEqual((0..<1000).map { file[$0] }, tokens, "tokens read back")
            XCTAssertEqual(try Data(contentsOf: url).count, 32 + 1000 * width)
        }
    }

    func testHeaderLayoutIsLittleEndian() throws {
        let dir = try makeTestDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("h.bin")
        try TokenFile.write([1, 258], vocabSize: 300, to: url)
        XCTAssertEqual(Array(try Data(contentsOf: url)), Array("LLMTOKS\0".utf8) + [1, 0, 0, 0, 44, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0,
                                                                                  2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2, 1])
    }

    func testBadFilesAreClearErrorsNamingTheFile() throws {
        let dir = try makeTestDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = dir.appendingPathComponent("good.bin")
        try TokenFile.write(Array(repeating: 5, count: 100), vocabSize: 512, to: good)
        let bytes = Array(try Data(contentsOf: good))

        func expectError(_ name: String, _ content: [UInt8], _ phrase: String, vocab: Int? = nil) throws {
            let url = dir.appendingPathComponent(name)
            try Data(content).write(to: url)
            XCTAssertThrowsError(try vocab.map { try TokenFile(url: url, expectedVocabSize: $0) } ?? TokenFile(url: url), name) { error in
                let text = "\(error)"
                XCTAssertTrue(text.hasPrefix(url.path), text)
                XCTAssertTrue(text.contains(phrase), text)
            }
        }
        var wrongMagic = bytes; wrongMagic[0] = UInt8(ascii: "X")
        try expectError("magic.bin", wrongMagic, "magic")
        var wrongVersion = bytes; wrongVersion[8] = 9
        try expectError("version.bin", wrongVersion, "version 9")
        try expectError("truncated.bin", Array(bytes.dropLast(3)), "truncated")
        try expectError("short.bin", Array(bytes.prefix(10)), "header")
        var wrongWidth = bytes; wrongWidth[16] = 3
        try expectError("width.bin", wrongWidth, "width 3")
        try expectError("vocab.bin", bytes, "vocabulary size 512", vocab: 8192)
        var outOfVocabulary = bytes; outOfVocabulary[32 + 2 * 7] = 0x00; outOfVocabulary[32 + 2 * 7 + 1] = 0x02
        try expectError("oov.bin", outOfVocabulary, "token 512 at position 7 is outside the vocabulary of 512")
        let missing = dir.appendingPathComponent("missing.bin")
        XCTAssertThrowsError(try TokenFile(url: missing)) { XCTAssertEqual($0 as? DataError, .fileNotFound(path: missing.path)) }
    }
}
