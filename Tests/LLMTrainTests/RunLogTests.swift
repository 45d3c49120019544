import Foundation
import LLMTrain
import XCTest

final class RunLogTests: XCTestCase {
    /// JSON has no NaN or infinity: such values are written as strings, and the line stays valid JSON.
    func testNonFiniteMetricsStayValidJSON() throws {
        let run = try TemporaryDirectory()
        let log = try RunLog(runDirectory: run.url, enabled: true)
        log.record(["loss": .nan, "norm": .infinity, "lr": 0.5], event: "train")
        log.record(["a -> b", "c"], event: "config_change")
        let lines = try String(contentsOf: run.url.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
            .split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        let first = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        XCTAssertEqual(first["loss"] as? String, "nan")
        XCTAssertEqual(first["norm"] as? String, "inf")
        XCTAssertEqual(first["lr"] as? Double, 0.5)
        XCTAssertEqual(first["event"] as? String, "train")
        let second = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        XCTAssertEqual(second["changes"] as? [String], ["a -> b", "c"])
    }

    func testOtherRanksWriteNothing() throws {
        let run = try TemporaryDirectory()
        let log = try RunLog(runDirectory: run.url, enabled: false)
        log.record(["loss": 1], event: "train")
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.url.appendingPathComponent("metrics.jsonl").path))
    }
}
