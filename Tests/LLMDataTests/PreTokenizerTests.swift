import XCTest
@testable import LLMData

final class PreTokenizerTests: XCTestCase {
    func words(_ text: String) -> [String] {
        let bytes = Array(text.utf8)
        var out: [String] = []
        bytes.withUnsafeBufferPointer { buf in
            PreTokenizer.forEachWord(in: buf, range: 0..<buf.count) { out.append(String(decoding: buf[$0], as: UTF8.self)) }
        }
        return out
    }

    func testEnglishFollowsGPT2() {
        XCTAssertEqual(words("Hello world, it's 2024!!  ok"), ["Hello", " world", ",", " it", "'s", " 2024", "!!", " ", " ok"])
        XCTAssertEqual(words("a\n\nb   "), ["a", "\n", "\n", "b", "   "])
    }

    func testHanRunsAreWordsSeparateFromLatinLetters() {
        XCTAssertEqual(words("这个iPhone真的很好用，价格 太贵了"), ["这个", "iPhone", "真的很好用", "，", "价格", " 太贵了"])
    }

    func testEmojiAndPunctuationGroup() {
        XCTAssertEqual(words("wow 👍🏽👍 ok"), ["wow", " 👍🏽👍", " ok"])
    }

    func testWordsTileTheInput() {
        let text = "混合 text\t\twith 🇨🇳 and ＡＢＣ１２３ \u{3000} end"
        XCTAssertEqual(words(text).joined(), text)
    }

    func testPatternDeclaredForHuggingFaceNamesTheHanRanges() {
        XCTAssertTrue(PreTokenizer.pattern.contains(#"\x{4E00}-\x{9FFF}"#))
        XCTAssertTrue(PreTokenizer.pattern.hasPrefix("'(?:s|t|re|ve|m|ll|d)"))
    }
}
