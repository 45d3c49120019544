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
