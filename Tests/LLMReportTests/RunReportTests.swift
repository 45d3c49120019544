import Foundation
import LLMReport
import XCTest

final class RunReportTests: XCTestCase {
    /// A fine-tuning run without checkpoints or start record: the page says what it lacks and
    /// still holds the charts and the final/best scores.
    func testReportOfARunWithoutCheckpointsSaysSoAndShowsTheMetrics() throws {
        let run = try ScratchRun("ft")
        try run.writeMetrics("""
        {"event":"train","step":10,"tokens":5120,"train_loss":0.9,"lr":0.001,"grad_norm":1,"tokens_per_s":900,"comm_share":0.1,"mfu":0.2}
        {"event":"eval","step":10,"val_loss":0.8,"accuracy":0.61,"macro_f1":0.55,"labels":["neg","pos"],"confusion":[[30,20],[19,31]]}
        {"event":"train","step":20,"tokens":10240,"train_loss":0.7,"lr":0.001,"grad_norm":1,"tokens_per_s":950,"comm_share":0.1,"mfu":0.2}
        {"event":"eval","step":20,"val_loss":0.85,"accuracy":0.74,"macro_f1":0.71,"labels":["neg","pos"],"confusion":[[40,10],[16,34]]}

        """)
        let (url, notes) = try RunReport.write(runDirectory: run.url)
        let html = try String(contentsOf: url, encoding: .utf8)
        XCTAssertTrue(html.contains("No checkpoint yet."))
        XCTAssertTrue(notes.contains { $0.contains("no start record") }, "\(notes)")
        XCTAssertTrue(html.contains("final 0.8500 (step 20), best 0.8000 (step "
                                    + "10)"), "validation loss: lower is better")
        XCTAssertTrue(html.contains("final 0.7100 (step 20), best 0.7100 (step 20)"), "macro-F1: higher is better")
        XCTAssertEqual(html.components(separatedBy: "<figure class=\"chart\"").count - 1, 7, "5 training charts, scores, confusion")
        XCTAssertTrue(html.contains("id=\"chart-confusion\""))
        // Self-contained: nothing to fetch, no scripts.
        for forbidden in ["<script", "<link", "src=", "url(", "@import"] {
            XCTAssertFalse(html.contains(forbidden), "report.html contains \(forbidden)")
        }
        let addresses = html.components(separatedBy: "http").dropFirst().map { $0.prefix(30) }
        XCTAssertTrue(addresses.allSatisfy { $0.hasPrefix("://www.w3.org/2000/svg\"") }, "only the SVG namespace: \(addresses)")
    }

    func testReportOfAnEmptyDirectoryIsAnError() throws {
        let run = try ScratchRun()
        XCTAssertThrowsError(try RunReport.write(runDirectory: run.url)) { error in
            XCTAssertTrue("\(error)".contains("has no metrics.jsonl"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.url.appendingPathComponent("report.html").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.url.appendingPathComponent("checkpoints").path),
                       "reading a run creates nothing in it")
    }
}
