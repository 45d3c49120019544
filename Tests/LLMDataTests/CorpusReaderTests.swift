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

    func testInvalidUTF8IsReplacedNotFatal() throws {
        let url = dir.appendingPathComponent("bad.txt")
        try Data([0x61, 0xFF, 0x62, 0x0A, 0x63]).write(to: url)
        XCTAssertEqual(try CorpusReader.read(url: url).map(\.text), ["a\u{FFFD}b", "c"])
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
