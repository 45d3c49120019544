import XCTest
@testable import LLMData

final class CorpusReaderTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = try makeTestDirectory() }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func file(_ name: String, _ content: String) throws -> URL {
        let url = dir.appendingPathComponent(name)
        try Data(content.utf8).write(to: url)
        return url
    }

    func testPlainTextIsOnePostPerNonEmptyLine() throws {
        let url = try file("posts.txt", "first post\r\n\nsecond 帖子 😀\n   \nthird")
        let posts = try CorpusReader.read(url: url)
        XCTAssertEqual(posts.map(\.text), ["first post", "second 帖子 😀", "third"])
        XCTAssertEqual(posts[0].split, CorpusSplit.of(text: "first post"))
        XCTAssertNil(posts[0].label)
        XCTAssertEqual(posts[0].source, "posts")
    }

    func testInvalidUTF8IsReplacedAndReportedWithItsLine() throws {
        let url = dir.appendingPathComponent("bad.txt")
        try Data([0x61, 0x0A, 0x61, 0xFF, 0x62, 0x0A, 0x63, 0xC3, 0x0A, 0x64]).write(to: url)
        var warnings: [String] = []
        XCTAssertEqual(try CorpusReader.read(url: url, warn: { warnings.append($0) }).map(\.text),
                       ["a", "a\u{FFFD}b", "c\u{FFFD}", "d"])
        XCTAssertEqual(warnings, ["\(url.path): 2 lines hold bytes that are not valid UTF-8 (first: line 2); they "
                                  + "were read as U+FFFD"])
        var none: [String] = []
        _ = try CorpusReader.read(url: try file("good.txt", "fine 好\n"), warn: { none.append($0) })
        XCTAssertEqual(none, [])
    }

    /// Spreadsheet exports start with a byte-order mark; the header must still match.
    func testCSVWithAByteOrderMark() throws {
        let url = dir.appendingPathComponent("bom.csv")
        try Data([0xEF, 0xBB, 0xBF] + Array("text,label\nhello,pos\n".utf8)).write(to: url)
        let posts = try CorpusReader.read(url: url, fields: CorpusFields(textField: "text", labelField: "label"))
        XCTAssertEqual(posts.map(\.text), ["hello"])
        XCTAssertEqual(posts.map(\.label), ["pos"])
    }

    func testCSVQuoteNeverClosedIsAnErrorNamingItsLine() throws {
        let url = try file("open.csv", "text,label\nfine,pos\n\"broken,neg\nmore,pos\n")
        XCTAssertThrowsError(try CorpusReader.read(url: url, fields: CorpusFields(labelField: "label"))) { error in
            XCTAssertEqual(error as? DataError, .malformedRecord(path: url.path, line: 3, reason: "a quoted field opened on this line is never closed; close it with \" (write a quote inside a field as \"\")"))
        }
    }

    func testJSONLTextThatIsNotAStringSaysSo() throws {
        let url = try file("n.jsonl", #"{"text": 5}"# + "\n")
        XCTAssertThrowsError(try CorpusReader.read(url: url)) { error in
            XCTAssertTrue("\(error)".contains("n.jsonl:1:"), "\(error)")
            XCTAssertTrue("\(error)".contains("field 'text' holds a number, not a string"), "\(error)")
        }
    }

    func testJSONLWithCustomFieldNames() throws {
        let url = try file("p.jsonl", #"{"body":"good","sentiment":"pos"}"# + "\n" + #"{"body":"bad","sentiment":"neg","split":"test"}"#)
        let posts = try CorpusReader.read(url: url, fields: CorpusFields(textField: "body", labelField: "sentiment"))
        XCTAssertEqual(posts.map(\.text), ["good", "bad"])
        XCTAssertEqual(posts.map(\.label), ["pos", "neg"])
        XCTAssertEqual(posts[1].split, .test)
    }

    func testTSVAndCSVWithHeaders() throws {
        let tsv = try file("p.tsv", "id\tlabel\ttext\n1\tpos\tI love it\n2\tneg\tmeh\n")
        XCTAssertEqual(try CorpusReader.read(url: tsv, fields: CorpusFields(labelField: "label")).map(\.label), ["pos", "neg"])
        let csv = try file("p.csv", "text,label\n\"hello, \"\"world\"\"\",pos\n\"two\nlines\",neg\nplain,neutral\n")
        let posts = try CorpusReader.read(url: csv, fields: CorpusFields(labelField: "label"))
        XCTAssertEqual(posts.map(\.text), ["hello, \"world\"", "two\nlines", "plain"])
        XCTAssertEqual(posts.map(\.label), ["pos", "neg", "neutral"])
    }

    func testHeaderlessTSVNamesColumnsByIndex() throws {
        let url = try file("vader.tsv", "1\t2.7\tSo lucky.\r\n2\t-1.5\tNot good\r\n")
        let posts = try CorpusReader.read(url: url, fields: CorpusFields(textField: "2", labelField: "1", hasHeader: false))
        XCTAssertEqual(posts.map(\.text), ["So lucky.", "Not good"])
        XCTAssertEqual(posts.map(\.label), ["2.7", "-1.5"])
    }

    func testErrorsNameFileLineAndField() throws {
        let missing = dir.appendingPathComponent("nope.txt")
        XCTAssertThrowsError(try CorpusReader.read(url: missing)) { XCTAssertEqual($0 as? DataError, .fileNotFound(path: missing.path)) }

        let empty = try file("empty.txt", "\n  \n")
        XCTAssertThrowsError(try CorpusReader.read(url: empty)) { XCTAssertEqual($0 as? DataError, .emptyCorpus(path: empty.path)) }

        let tsv = try file("t.tsv", "id\tbody\n1\thi\n")
        XCTAssertThrowsError(try CorpusReader.read(url: tsv)) { error in
            XCTAssertEqual(error as? DataError, .unknownField(path: tsv.path, line: 1, field: "text", available: ["id", "body"]))
            XCTAssertEqual("\(error)", "\(tsv.path):1: no field or column named 'text' (available: id, body)")
        }
        XCTAssertThrowsError(try CorpusReader.read(url: tsv, fields: CorpusFields(textField: "body", labelField: "label"))) {
            XCTAssertEqual($0 as? DataError, .unknownField(path: tsv.path, line: 1, field: "label", available: ["id", "body"]))
        }

        let jsonl = try file("j.jsonl", #"{"text":"a","label":"pos"}"# + "\n" + #"{"text":"b"}"# + "\n")
        XCTAssertThrowsError(try CorpusReader.read(url: jsonl, fields: CorpusFields(labelField: "label"))) { error in
            XCTAssertEqual(error as? DataError, .missingLabel(path: jsonl.path, line: 2, field: "label"))
            XCTAssertEqual("\(error)", "\(jsonl.path):2: label field 'label' is missing")
        }
        let noText = try file("n.jsonl", #"{"body":"a"}"#)
        XCTAssertThrowsError(try CorpusReader.read(url: noText)) {
            XCTAssertEqual($0 as? DataError, .unknownField(path: noText.path, line: 1, field: "text", available: ["body"]))
        }
        let broken = try file("b.jsonl", "{\"text\":\"a\"}\n{oops\n")
        XCTAssertThrowsError(try CorpusReader.read(url: broken)) { XCTAssertTrue("\($0)".hasPrefix("\(broken.path):2:")) }
    }
}
