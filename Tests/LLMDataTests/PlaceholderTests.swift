import XCTest
@testable import LLMData

/// What counts as an @handle and as a phone number (README, "Placeholders"). The same patterns
/// run in Hugging Face `tokenizers` (Scripts/check-hf-parity.py generates these shapes too).
final class PlaceholderTests: XCTestCase {
    let normalizer = TextNormalizer()

    private func assertNormalized(_ pairs: [(String, String)], file: StaticString = #filePath, line: UInt = #line) {
        for (input, expected) in pairs {
            XCTAssertEqual(normalizer.normalize(input), expected, "input: \(input)", file: file, line: line)
        }
    }

    func testHandlesInAnyScript() {
        assertNormalized([
            ("hey @Ünïcødé17 look", "hey <user> look"),
            ("@张三 你好", "<user> 你好"),
            ("hi @alice_01 and @Bob-2", "hi <user> and <user>"),
            ("@李小明abc123 说得对", "<user> 说得对"),           // mixed scripts are one handle
            ("@Привет мир", "<user> мир"),
            ("転送@山田太郎 ありがとう", "転送<user> ありがとう"),      // straight after CJK text
            ("回复//@张三:说得好", "回复//<user>:说得好"),         // a Weibo repost chain
        ])
    }

    func testHandlesEndAtWhitespacePunctuationAndEmoji() {
        assertNormalized([
            ("谢谢@张三，明天见", "谢谢<user>,明天见"),                 // full-width comma (NFKC folds it)
            ("@王五。好的", "<user>。好的"),                           // 。 is punctuation, kept by NFKC
            ("@赵六！@钱七？@孙八：@周九；@吴十、", "<user>!<user>?<user>:<user>;<user>、"),
            ("@bob's cat", "<user>'s cat"),
            ("(@carol) [@dave]", "(<user>) [<user>]"),
            ("@bob😀 nice", "<user>😀 nice"),
            ("@小红❤️你", "<user>❤️你"),
            ("@bob\u{3000}hi", "<user> hi"),
            ("as on Weibo @张三你好 is one handle", "as on Weibo <user> is one handle"),
        ])
    }

    func testWhatIsNotAHandle() {
        assertNormalized([
            ("mail jo.doe@example.com now", "mail <email> now"),
            ("张三的邮箱 zhang.san@qq.com", "张三的邮箱 <email>"),
            ("user@localhost", "user@localhost"),                // @ inside an address-like word
            ("a @ b", "a @ b"),
            ("@😀 hi", "@😀 hi"),                               // an emoji cannot start a handle
            ("@@bob", "@@bob"),
        ])
    }

    func testFullWidthAtSign() {
        assertNormalized([("＠张三 你好", "<user> 你好"), ("ＧＯ＠ｂｏｂ！", "GO@bob!")])
        // NFKC off: the full-width sign itself starts a handle.
        let raw = TextNormalizer(config: NormalizerConfig(unicodeNFKC: false))
        XCTAssertEqual(raw.normalize("谢谢＠张三，明天见"), "谢谢<user>，明天见")
    }

    func testChineseMobileNumbers() {
        assertNormalized([
            ("手机13812345678", "手机<phone>"),
            ("call 138 1234 5678 now", "call <phone> now"),
            ("call 138-1234-5678 now", "call <phone> now"),
            ("+86 13812345678", "<phone>"),
            ("+8613812345678", "<phone>"),
            ("+86-139-1234-5678", "<phone>"),
            ("0086 138 1234 5678", "<phone>"),
            ("(+86) 15912345678", "<phone>"),
            ("电话:19912345678。", "电话:<phone>。"),
        ])
    }

    func testLongDigitRunsAreNotPhones() {
        assertNormalized([
            ("订单号 1381234567890 已发货", "订单号 1381234567890 已发货"),  // 13 digits
            ("id 138123456789", "id 138123456789"),                       // 12 digits
            ("8613812345678", "8613812345678"),                           // 86 without + or 00
            ("12345678901", "12345678901"),                               // second digit 2
            ("on 20131207 order 12345678", "on 20131207 order 12345678"),
            ("2024-01-01 10:30", "2024-01-01 10:30"),
            ("code 1 3 8 1 2 3 4 5 6 7 8", "code 1 3 8 1 2 3 4 5 6 7 8"),   // single digits are not groups
            ("A13812345678", "A13812345678"),
        ])
    }

    func testOtherPhonesStillWork() {
        assertNormalized([("call +1 555-123-4567 or (020) 1234 5678", "call <phone> or <phone>")])
    }
}
