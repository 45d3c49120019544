import XCTest
@testable import LLMData

final class TextNormalizerTests: XCTestCase {
    let normalizer = TextNormalizer()

    func testDefaultsScrubPersonalDataAndKeepCaseAndPunctuation() {
        XCTAssertEqual(normalizer.normalize("@anonymous LOVE this!!! http://t.co/abc123 mail me: "
                                            + "jo.doe+x@example.co.uk"),
                       "<user> LOVE this!!! <url> mail me: <email>")
        XCTAssertEqual(normalizer.normalize("call +1 555-123-4567 or (020) 1234 5678, 手机13812345678"),
                       "call <phone> or <phone>, 手机<phone>")
        XCTAssertEqual(normalizer.normalize("see www.smallstonesoft.com and abc.cn/x?y=1 "
                                            + "now"), "see <url> and <url> now")
    }

    func testChineseTextRunsStraightIntoURLsHandlesAndTags() {
        XCTAssertEqual(normalizer.normalize("网站abc.com很好,转发@bob 看看(http://a.cn/x?y=1)."), "网站<url>很好,转发<user> 看看(<url>).")
        XCTAssertEqual(TextNormalizer(config: NormalizerConfig(hashtags: .split)).normalize("好#HappyDay"), "好# happy day")
    }

    func testDatesAndOrderNumbersAreNotPhones() {
        XCTAssertEqual(normalizer.normalize("on 20131207 order 12345678"), "on 20131207 order 12345678")
    }

    func testNFKCFoldsFullWidthFormsBeforeScrubbing() {
        XCTAssertEqual(normalizer.normalize("ＧＲＥＡＴ！＠ｂｏｂ　很好，１２３"), "GREAT!<user> 很好,123")
    }

    func testMixedChineseEnglishIsKept() {
        XCTAssertEqual(normalizer.normalize("这个iPhone真的很好用 😀 but 价格太贵了"), "这个iPhone真的很好用 😀 but 价格太贵了")
    }

    func testEmojiSequencesSurviveIntact() {
        let family = "👨\u{200D}👩\u{200D}👧\u{200D}👦"
        let text = "family \(family) thumbs 👍🏽 flag 🇨🇳🇺🇸 heart ❤️"
        let out = normalizer.normalize(text)
        XCTAssertEqual(out, text)
        XCTAssertEqual(out.unicodeScalars.filter { $0 == "\u{200D}" }.count, 3)
    }

    func testInvalidUTF8BecomesReplacementCharacter() {
        let bytes: [UInt8] = Array("ok ".utf8) + [0xFF, 0xC3, 0x28, 0xE2, 0x82] + Array(" fine".utf8)
        let out = normalizer.normalize(bytes: bytes)
        XCTAssertTrue(out.hasPrefix("ok \u{FFFD}"))
        XCTAssertTrue(out.hasSuffix(" fine"))
    }

    func testWhitespaceCollapsesAndTrims() {
        XCTAssertEqual(normalizer.normalize("  a \t\n b\u{3000}\u{00A0}c  "), "a b c")
    }

    func testOptionalSteps() {
        let config = NormalizerConfig(lowercase: true, removePunctuation: true, hashtags: .split)
        let n = TextNormalizer(config: config)
        XCTAssertEqual(n.normalize("#HappyDay2024 It's GREAT, @bob!!! 太好了！"), "happy day 2024 its great <user> 太好了")  // "#" is punctuation too
        XCTAssertEqual(TextNormalizer(config: NormalizerConfig(hashtags: .split)).normalize("love #HappyDay2024!"), "love # happy day 2024!")
        XCTAssertEqual(TextNormalizer(config: NormalizerConfig(hashtags: .keep)).normalize("#HappyDay"), "#HappyDay")
    }

    func testEverythingOffLeavesTextAlone() {
        let off = NormalizerConfig(unicodeNFKC: false, collapseWhitespace: false, scrubURLs: false, scrubUsers: false,
                                   scrubEmails: false, scrubPhones: false)
        let text = " ＡＢ  @x http://a.b "
        XCTAssertEqual(TextNormalizer(config: off).normalize(text), text)
    }

    func testConfigJSONUsesSnakeCaseAndDefaults() throws {
        let decoded = try JSONDecoder().decode(NormalizerConfig.self, from: Data(#"{"remove_punctuation": true, "hashtags": "split"}"#.utf8))
        XCTAssertEqual(decoded, NormalizerConfig(removePunctuation: true, hashtags: .split))
        let encoded = String(decoding: try JSONEncoder().encode(NormalizerConfig()), as: UTF8.self)
        for key in ["unicode_nfkc", "scrub_urls", "scrub_users", "scrub_emails", "scrub_phones", "collapse_whitespace"] {
            XCTAssertTrue(encoded.contains("\"\(key)\""), key)
        }
    }
}
