import XCTest
@testable import LLMData

/// The ICU -> Oniguruma translation of the normaliser's patterns, and the step list. (That
/// Hugging Face `tokenizers` then gives our ids from raw posts: Scripts/check-hf-parity.py.)
final class HuggingFaceNormalizerTests: XCTestCase {
    func testICUClassesAreSpelledOutForOniguruma() {
        XCTAssertEqual(HuggingFaceNormalizer.oniguruma(#"\+\d{1,3}[ .-]?"#), #"\+\p{Nd}{1,3}[ .-]?"#)
        XCTAssertEqual(HuggingFaceNormalizer.oniguruma(#"[^\s<>"]*[^\s<>".,)\]}]"#),
                       #"[^\t\n\f\r\p{Z}<>"]*[^\t\n\f\r\p{Z}<>".,)\]}]"#)
        XCTAssertEqual(HuggingFaceNormalizer.oniguruma(#"a\sb\.c"#), #"a[\t\n\f\r\p{Z}]b\.c"#)
    }

    func testStepsFollowTheNormaliserOrderAndNameWhatCannotBeExpressed() throws {
        let all = HuggingFaceNormalizer(NormalizerConfig(lowercase: true, removePunctuation: true, hashtags: .split))
        let root = try JSONSerialization.jsonObject(with: Data(all.json.utf8)) as! [String: Any]
        let steps = root["normalizers"] as! [[String: Any]]
        XCTAssertEqual(steps.map { $0["type"] as! String },
                       ["NFKC", "Replace", "Replace", "Replace", "Replace", "Lowercase", "Replace", "Replace", "Strip"])
        XCTAssertEqual(steps[1...4].map { $0["content"] as! String }, [SpecialTokens.email, SpecialTokens.url,
                                                                         SpecialTokens.user, SpecialTokens.phone])
        XCTAssertEqual(all.unsupported.count, 1)
        XCTAssertTrue(all.unsupported[0].contains("hashtags"))

        let none = HuggingFaceNormalizer(NormalizerConfig(unicodeNFKC: false, collapseWhitespace: false, scrubURLs: false,
                                                          scrubUsers: false, scrubEmails: false, scrubPhones: false))
        XCTAssertEqual(none.json, "null")
        XCTAssertTrue(none.unsupported.isEmpty)
    }
}
