import XCTest
@testable import LLMData

final class TokenizerToolTests: XCTestCase {
    func testEncodeThenDecodeLinesRoundTripsNormalisedPosts() throws {
        let t = TrainedTokenizer.shared
        var input = ["Loving it!!! @anonymous http://t.co/x 😀", "质量不错，物流很快", "plain"]
        var encoded: [String] = []
        TokenizerTool.encodeLines(tokenizer: t, normalizer: TextNormalizer(), readLine: { input.isEmpty ? nil : input.removeFirst() },
                                  write: { encoded.append($0) })
        XCTAssertEqual(encoded.count, 3)
        XCTAssertTrue(encoded[0].split(separator: " ").contains("\(t.specialTokens["<user>"]!)"))
        var decoded: [String] = []
        try TokenizerTool.decodeLines(tokenizer: t, readLine: { encoded.isEmpty ? nil : encoded.removeFirst() }, write: { decoded.append($0) })
        XCTAssertEqual(decoded, ["Loving it!!! <user> <url> 😀", "质量不错,物流很快", "plain"])
    }

    func testDecodeRejectsNonIdsNamingTheLine() {
        var input = ["1 2", "3 x"]
        XCTAssertThrowsError(try TokenizerTool.decodeLines(tokenizer: TrainedTokenizer.shared,
                                                           readLine: { input.isEmpty ? nil : input.removeFirst() }, write: { _ in })) { error in
            XCTAssertEqual(error as? DataError, .malformedRecord(path: "<stdin>", line: 2, reason: "'x' is not a token id below 1500"))
        }
    }

    func testNormalizerConfigFile() throws {
        let dir = try makeTestDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("n.json")
        try Data(#"{"lowercase": true}"#.utf8).write(to: url)
        XCTAssertEqual(try TokenizerTool.normalizer(configPath: url.path).normalize("HeLLo @Bob"), "hello <user>")
        try Data("nonsense".utf8).write(to: url)
        XCTAssertThrowsError(try TokenizerTool.normalizer(configPath: url.path)) { XCTAssertTrue("\($0)".hasPrefix(url.path)) }
        XCTAssertThrowsError(try TokenizerTool.normalizer(configPath: dir.appendingPathComponent("none.json").path))
    }
}
