import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

/// `plot`, `report` and `explain` on a real (short) training run, through the release binary.
final class ReportTests: XCTestCase {
    /// One 12-step run with two evaluations and checkpoints, trained on first use and shared by
    /// the tests (training is the slow part); removed when the suite ends.
    static var run: URL {
        if let shared { return shared }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("llm-e2e-report-\(UUID().uuidString.prefix(8))")
        let result = try? Launcher.run("swift-llm-train", ["train"] + quickRun + ["--run-dir", directory.path, "--steps", "12",
                                       "--set", "eval.every=6", "--set", "checkpoint.every=6"], directory: repositoryRoot)
        XCTAssertEqual(result?.status, 0, result?.output ?? "not run")
        XCTAssertTrue(result?.stdout.contains("see \(directory.path)/plots (5 charts) or run `swift-llm-train report "
                                              + "\(directory.path)`") ?? false,
                      "the final hint: \(result?.stdout.suffix(300) ?? "")")
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent("plots/loss.svg").path))
        shared = directory
        return directory
    }
    private static var shared: URL?

    override class func tearDown() {
        if let shared { try? FileManager.default.removeItem(at: shared) }
    }

    func polylinePoints(_ svg: URL, _ series: String) throws -> Int? {
        let document = try XMLDocument(contentsOf: svg, options: [])
        let lines = try document.nodes(forXPath: "//*[local-name()='polyline']").compactMap { $0 as? XMLElement }
        let line = lines.first { $0.attributes?.first { $0.name == "data-series" }?.stringValue == series }
        return (line?.attributes?.first { $0.name == "points" }?.stringValue).map { $0.split(separator: " ").count }
    }

    func testPlotDrawsEveryLoggedStep() throws {
        let run = TrainingRunReader(directory: Self.run)
        let result = try Launcher.run("swift-llm-train", ["plot", Self.run.path])
        XCTAssertEqual(result.status, 0, result.output)
        let plots = Self.run.appendingPathComponent("plots")
        let names = try FileManager.default.contentsOfDirectory(atPath: plots.path).sorted()
        XCTAssertEqual(names, ["comm_share.svg", "grad_norm.svg", "learning_rate.svg", "loss.svg", "throughput.svg"])
        XCTAssertEqual(try polylinePoints(plots.appendingPathComponent("loss.svg"), "train"), try run.trainLosses().count)
        XCTAssertEqual(try polylinePoints(plots.appendingPathComponent("loss.svg"), "validation"), 2)
        XCTAssertEqual(try run.records(event: "start").count, 1)
        XCTAssertNotNil(try run.records(event: "start").first?["blas_kernel"] as? String)
    }

    func testPlotOverlaysTwoRunsAndSaysWhatItSkipped() throws {
        let scratch = try TrainingRun(self, "plot-two")
        let copy = scratch.directory.appendingPathComponent("copy")
        try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
        // A killed run: the copy's metrics end in the middle of a record.
        var metrics = try Data(contentsOf: Self.run.appendingPathComponent("metrics.jsonl"))
        metrics.append(Data("{\"event\":\"train\",\"st".utf8))
        try metrics.write(to: copy.appendingPathComponent("metrics.jsonl"))
        let result = try Launcher.run("swift-llm-train", ["plot", Self.run.path, copy.path, "--compare-dir", scratch.path + "/cmp"])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.stdout.contains("incomplete line"), result.output)
        let name = Self.run.lastPathComponent
        XCTAssertEqual(try polylinePoints(scratch.directory.appendingPathComponent("cmp/loss.svg"), "copy train"),
                       try TrainingRunReader(directory: Self.run).trainLosses().count)
        XCTAssertNotNil(try polylinePoints(scratch.directory.appendingPathComponent("cmp/loss.svg"), "\(name) train"))
    }

    func testPlotOfADirectoryWithoutMetricsSaysSo() throws {
        let scratch = try TrainingRun(self, "plot-empty")
        let result = try Launcher.run("swift-llm-train", ["plot", scratch.path])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("\(scratch.path) has no metrics.jsonl"), result.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.directory.appendingPathComponent("plots").path))
    }
}

extension ReportTests {
    func testReportShowsHardwareCheckpointsAndConfig() throws {
        let result = try Launcher.run("swift-llm-train", ["report", Self.run.path])
        XCTAssertEqual(result.status, 0, result.output)
        let html = try String(contentsOf: Self.run.appendingPathComponent("report.html"), encoding: .utf8)
        let start = try XCTUnwrap(try TrainingRunReader(directory: Self.run).records(event: "start").first)
        XCTAssertTrue(html.contains("1 rank x \(start["threads"] as! Double == 1 ? "1 BLAS thread" : "\(Int(start["threads"] as! Double)) BLAS threads"), OpenBLAS kernel \(start["blas_kernel"] as! String)"), html)
        let grouping = NumberFormatter()
        grouping.numberStyle = .decimal
        grouping.groupingSeparator = ","
        let parameters = grouping.string(from: NSNumber(value: Int(start["parameters"] as! Double)))!
        XCTAssertTrue(html.contains("<th>parameters</th><td>\(parameters) ("), "model size \(parameters)")
        for checkpoint in ["step-000006", "step-000012"] { XCTAssertTrue(html.contains("<td>\(checkpoint)</td>"), checkpoint) }
        XCTAssertTrue(html.contains("<td>12</td>"), "step column")
        XCTAssertNotNil(html.range(of: #"step-000012</td><td>12</td><td>[0-9.]+</td><td>[0-9.]+ MiB</td><td>latest"#,
                                   options: .regularExpression), "latest checkpoint row: loss, size, pointer")
        XCTAssertTrue(html.contains("From step-000012/config.yaml"))
        XCTAssertTrue(html.contains("sequence_length: 32"), "the resolved config, --set overrides included")
        XCTAssertEqual(html.components(separatedBy: "<svg").count - 1, 5)
    }
}

extension ReportTests {
    static let post = "Loving the new phone 😍 @bob 服务很好"

    func testExplainJSONGivesCausalAttentionOverTheDecodedPost() throws {
        let result = try Launcher.run("swift-llm-train", ["explain", "--model", Self.run.path, "--text", Self.post, "--json"])
        XCTAssertEqual(result.status, 0, result.output)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let tokens = try XCTUnwrap(object["tokens"] as? [[String: Any]])
        let normalized = try XCTUnwrap(object["post"] as? String)
        XCTAssertTrue(normalized.contains("<user>"), "normalised as in training: \(normalized)")
        XCTAssertEqual(tokens.map { $0["text"] as! String }.joined(), normalized, "the tokens read the post")
        XCTAssertTrue(tokens.contains { $0["text"] as? String == "😍" || ($0["text"] as! String).contains("😍") })
        let attention = try XCTUnwrap(object["attention"] as? [[[[Double]]]])
        XCTAssertEqual(attention.count, 2, "layers of Configs/tiny.yaml")
        XCTAssertEqual(attention[0].count, 2, "heads")
        var problems = 0, first: String?
        for (l, layer) in attention.enumerated() {
            for (h, map) in layer.enumerated() {
                XCTAssertEqual(map.count, tokens.count)
                for (q, row) in map.enumerated() {
                    let sum = row.reduce(0, +), later = row.dropFirst(q + 1).filter { $0 != 0 }.count
                    if abs(sum - 1) > 1e-5 || later > 0 || row.count != tokens.count {
                        problems += 1
                        first = first ?? "layer \(l) head \(h) row \(q): sum \(sum), \(later) nonzero entries above "
                                         + "the diagonal"
                    }
                }
            }
        }
        XCTAssertEqual(problems, 0, first ?? "")
    }

    func testExplainWritesAnSVGHeatMapForOneHead() throws {
        let scratch = try TrainingRun(self, "explain-svg")
        let svg = scratch.directory.appendingPathComponent("att.svg")
        // A checkpoint directory (not the latest) works as well as a run directory.
        let checkpoint = Self.run.appendingPathComponent("checkpoints/step-000006").path
        let result = try Launcher.run("swift-llm-train", ["explain", "--model", checkpoint, "--text", Self.post,
                                                          "--layer", "1", "--head", "0", "--output", svg.path])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.stderr.contains("wrote \(svg.path)"), result.output)
        let document = try XMLDocument(contentsOf: svg, options: [])
        let titles = try document.nodes(forXPath: "//*[local-name()='text' and "
                                                  + "@class='title']").compactMap(\.stringValue)
        XCTAssertTrue(titles.contains { $0.contains("layer 1 head 0") && $0.contains("step-000006") }, "\(titles)")
        let cells = try document.nodes(forXPath: "//*[local-name()='rect' and @class='cell']")
        let labels = try document.nodes(forXPath: "//*[local-name()='text' and "
                                                  + "@class='row-label']").compactMap(\.stringValue)
        XCTAssertEqual(cells.count, labels.count * labels.count)
        XCTAssertTrue(labels.contains("很") && labels.contains("好"), "CJK tokens shown as text: \(labels)")
        XCTAssertTrue(labels.contains { $0.contains("😍") }, "\(labels)")
    }

    func testExplainBadInputSaysWhatIsWrong() throws {
        let missing = try Launcher.run("swift-llm-train", ["explain", "--model", "/nonexistent/run", "--text", "hi"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("/nonexistent/run: no such checkpoint or run directory"), missing.output)
        let layer = try Launcher.run("swift-llm-train", ["explain", "--model", Self.run.path, "--text", "hi", "--layer", "7"])
        XCTAssertTrue(layer.stderr.contains("--layer 7: the model has 2 layers"), layer.output)
        // Attributions need a classifier: the attention maps are still written, then a clear error.
        let scratch = try TrainingRun(self, "explain-attr")
        let html = scratch.directory.appendingPathComponent("att.html")
        let attributions = try Launcher.run("swift-llm-train", ["explain", "--model", Self.run.path, "--text", "hi",
                                                                "--attributions", "--output", html.path])
        XCTAssertNotEqual(attributions.status, 0)
        XCTAssertTrue(attributions.stderr.contains("without a classifier head"), attributions.output)
        XCTAssertTrue(FileManager.default.fileExists(atPath: html.path))
    }
}

extension ReportTests {
    /// Under mpirun only the coordinator writes the start record, with the world size.
    func testReportOfATwoRankRunShowsBothRanks() throws {
        let run = try TrainingRun(self, "report-n2")
        let train = try Launcher.mpirun(2, "swift-llm-train", ["train"] + quickRun + ["--run-dir", run.path, "--steps", "3"],
                                        directory: repositoryRoot)
        XCTAssertEqual(train.status, 0, train.output)
        let starts = try run.records(event: "start")
        XCTAssertEqual(starts.count, 1)
        XCTAssertEqual(starts.first?["world_size"] as? Double, 2)
        XCTAssertEqual(try Launcher.run("swift-llm-train", ["report", run.path]).status, 0)
        let html = try String(contentsOf: run.directory.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("2 ranks x 1 BLAS thread, OpenBLAS kernel"), html)
    }
}

extension ReportTests {
    /// Checkpoints without metrics.jsonl still make a page, which says what is missing.
    func testReportWithoutMetricsStillDescribesTheCheckpoints() throws {
        let scratch = try TrainingRun(self, "report-nometrics")
        try FileManager.default.copyItem(at: Self.run.appendingPathComponent("checkpoints"),
                                         to: scratch.directory.appendingPathComponent("checkpoints"))
        let result = try Launcher.run("swift-llm-train", ["report", scratch.path])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.stdout.contains("has no metrics.jsonl: no charts or metrics"), result.output)
        let html = try String(contentsOf: scratch.directory.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("<td>step-000012</td>") && html.contains("From step-000012/config.yaml"))
        XCTAssertFalse(html.contains("<svg"))
    }

    /// A post longer than the model's context is cut, and the cut is said.
    func testExplainSaysWhenThePostIsCut() throws {
        let long = String(repeating: "so good ", count: 60)
        let result = try Launcher.run("swift-llm-train", ["explain", "--model", Self.run.path, "--text", long, "--json"])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertNotNil(result.stderr.range(of: #"the post has \d+ tokens; only the first 64"#, options: .regularExpression),
                        result.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        XCTAssertEqual((object["tokens"] as! [Any]).count, 64)
    }
}
