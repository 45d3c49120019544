import Foundation
import LLMTrain
import XCTest

final class RunLogTests: XCTestCase {
    /// A killed run's cut-off last line is ended before a resumed run appends, so only that
    /// line is broken; string fields (the BLAS kernel) are written as strings.
    func testAppendingAfterACutOffLineStartsANewLine() throws {
        let dir = try TemporaryDirectory()
        let url = dir.url.appendingPathComponent("metrics.jsonl")
        try Data("{\"event\":\"train\",\"step\":1}\n{\"event\":\"tr".utf8).write(to: url)
        let log = try RunLog(runDirectory: dir.url, enabled: true)
        log.record(["step": 2, "loss": .nan], strings: ["blas_kernel": "Zen"], event: "start")
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.count, 4, "\(lines)")
        XCTAssertEqual(lines[1], "{\"event\":\"tr")
        let record = try JSONSerialization.jsonObject(with: Data(lines[2].utf8)) as! [String: Any]
        XCTAssertEqual(record["blas_kernel"] as? String, "Zen")
        XCTAssertEqual(record["loss"] as? String, "nan")
        XCTAssertEqual(record["event"] as? String, "start")
    }
}
