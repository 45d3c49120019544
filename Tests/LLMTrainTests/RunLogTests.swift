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

final class ConsoleWriterTests: XCTestCase {
    /// Output nobody reads (mpirun asleep in its kill sequence) does not stall the writer: every
    /// write returns at once, lines beyond the limit are dropped, and the next line that gets
    /// through says how many: read back in order, the kept lines and the counts add up to every
    /// line written.
    func testUnreadOutputNeverBlocksAndDroppedLinesAreCounted() throws {
        var ends: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&ends), 0)
        let writer = ConsoleWriter(fileDescriptor: ends[1], limit: 1000)
        let total = 5000  // 100-byte lines, 500 KB: far more than a pipe holds (64 KB) plus the limit
        for index in 0..<total { writer.write(String(format: "%04d", index) + String(repeating: "x", count: 95) + "\n") }

        let received = ReadToEnd(ends[0])
        XCTAssertTrue(writer.flush(within: 60))
        writer.write("end\n")
        XCTAssertTrue(writer.flush(within: 60))
        close(ends[1])
        let lines = received.wait().split(separator: "\n").map(String.init)

        XCTAssertEqual(lines.last, "end")
        var next = 0, notices = 0
        for line in lines.dropLast() {
            if line.hasPrefix("["), line.hasSuffix(" dropped: output was not being read]"),
               let dropped = Int(line.dropFirst().prefix { $0 != " " }) {
                next += dropped
                notices += 1
            } else {
                XCTAssertEqual(line.prefix(4), Substring(String(format: "%04d", next)), "line after \(next) kept or dropped")
                next += 1
            }
        }
        XCTAssertEqual(next, total, "kept lines plus the dropped counts")
        XCTAssertGreaterThan(notices, 0, "500 KB into an unread pipe must drop lines")
    }

    /// Reads a file descriptor to its end on a thread of its own.
    private final class ReadToEnd: @unchecked Sendable {
        private var data = Data()
        private let done = DispatchSemaphore(value: 0)

        init(_ fileDescriptor: Int32) {
            Thread {
                self.data = FileHandle(fileDescriptor: fileDescriptor, closeOnDealloc: true).readDataToEndOfFile()
                self.done.signal()
            }.start()
        }

        func wait() -> String {
            done.wait()
            return String(decoding: data, as: UTF8.self)
        }
    }
}
