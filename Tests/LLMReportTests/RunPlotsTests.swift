import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import LLMReport
import XCTest

/// The charts of `plot`, read back as XML: every logged value is drawn where it belongs.
final class RunPlotsTests: XCTestCase {
    func charts(_ runs: [ScratchRun]) throws -> [String: SVG] {
        let metrics = try runs.map { try RunMetrics(directory: $0.url) }
        var out: [String: SVG] = [:]
        for chart in RunPlots.charts(for: metrics) { out[chart.name] = try SVG(chart.svg) }
        return out
    }

    /// Maps a polyline's pixels back to data through the axes and the plot area.
    func dataPoints(_ svg: SVG, _ line: XMLElement) throws -> [(x: Double, y: Double)] {
        let area = try XCTUnwrap(try svg.elements("rect", class: "plot-area").first)
        let left = Double(area.value("x")!)!, top = Double(area.value("y")!)!
        let width = Double(area.value("width")!)!, height = Double(area.value("height")!)!
        let x = try svg.axis("x"), y = try svg.axis("y")
        XCTAssertEqual(x.scale, "linear")
        return line.points.map { p in
            let fx = (p.x - left) / width, fy = 1 - (p.y - top) / height
            XCTAssert((-1e-6...1 + 1e-6).contains(fx) && (-1e-6...1 + 1e-6).contains(fy), "point \(p) outside the plot area")
            let yValue = y.scale == "log" ? pow(10, log10(y.lower) + fy * (log10(y.upper) - log10(y.lower)))
                : y.lower + fy * (y.upper - y.lower)
            return (x.lower + fx * (x.upper - x.lower), yValue)
        }
    }

    func testLossChartDrawsEveryRecordAgainstTokensAndTheAxesCoverTheData() throws {
        let run = try ScratchRun("tiny")
        try run.writeMetrics(trainingMetrics(steps: 60, evalEvery: 20))
        let loss = try XCTUnwrap(try charts([run])["loss"])
        let train = try XCTUnwrap(try loss.polyline("train")), validation = try XCTUnwrap(try loss.polyline("validation"))
        XCTAssertEqual(train.value("data-points"), "60")
        XCTAssertEqual(train.points.count, 60)
        XCTAssertEqual(validation.points.count, 3)
        let x = try loss.axis("x"), y = try loss.axis("y")
        XCTAssertLessThanOrEqual(x.lower, 512)
        XCTAssertGreaterThanOrEqual(x.upper, 60 * 512)
        XCTAssertLessThanOrEqual(y.lower, 6.2 * exp(-60.0 / 30) + 1.5)
        XCTAssertGreaterThanOrEqual(y.upper, 6.2 * exp(-1.0 / 30) + 1.5)
        // Pixels back to data: within the 0.01-pixel rounding of the coordinates.
        let drawn = try dataPoints(loss, train)
        var mismatches = 0, first: String?
        for (index, point) in drawn.enumerated() {
            let step = Double(index + 1), expected = (step * 512, 6.2 * exp(-step / 30) + 1.5)
            if abs(point.x - expected.0) > 60 || abs(point.y - expected.1) > 0.01 {
                mismatches += 1
                if first == nil { first = "step \(index + 1): drawn \(point), logged \(expected)" }
            }
        }
        XCTAssertEqual(mismatches, 0, "first: \(first ?? "")")
        // Evaluations sit on the tokens axis too: step 20, 40, 60 at 512 tokens a step.
        XCTAssertEqual(try dataPoints(loss, validation).map { ($0.x / 512).rounded() }, [20, 40, 60])
        XCTAssertTrue(try loss.texts(class: "title").first?.contains("tiny") ?? false, "the title names the run")
        XCTAssertTrue(try loss.texts(class: "axis-label").contains("tokens seen"))
    }

    func testTicksAreRoundNumbersInsideTheAxis() throws {
        let axis = Axis(covering: [0.0123, 0.987])
        XCTAssertEqual(axis.lower, 0, accuracy: 1e-12)
        XCTAssertEqual(axis.upper, 1, accuracy: 1e-12)
        XCTAssertEqual(axis.ticks.map { axis.label($0) }, ["0", "0.2", "0.4", "0.6", "0.8", "1"])
        let tokens = Axis(covering: [512, 30_720])
        XCTAssertEqual(tokens.ticks.map { tokens.label($0) }, ["0", "10k", "20k", "30k", "40k"])
        let log = Axis(covering: [0.3, 8], logarithmic: true)
        XCTAssertEqual(log.lower, 0.1, accuracy: 1e-12)
        XCTAssertEqual(log.upper, 10, accuracy: 1e-9)
        XCTAssertEqual(log.ticks.map { log.label($0) }, ["0.1", "0.2", "0.5", "1", "2", "5", "10"])
        // Four decades: powers of ten only.
        let wide = Axis(covering: [0.05, 30], logarithmic: true)
        XCTAssertEqual(wide.ticks.map { wide.label($0) }, ["0.01", "0.1", "1", "10", "100"])
        XCTAssertEqual(Axis(covering: [3e-4, 3e-3]).ticks.map { Axis(covering: [3e-4, 3e-3]).label($0) }.first, "0")
    }

    /// Gradient norms fall from ~20 to ~0.3: a log axis; the learning rate (warm-up) stays linear.
    func testLogScaleWhereTheDataSpansDecades() throws {
        let run = try ScratchRun()
        try run.writeMetrics(trainingMetrics(steps: 60))
        let all = try charts([run])
        XCTAssertEqual(try all["grad_norm"]!.axis("y").scale, "log")
        XCTAssertTrue(try all["grad_norm"]!.texts(class: "axis-label").contains { $0.contains("log scale") })
        XCTAssertEqual(try all["learning_rate"]!.axis("y").scale, "linear")
        let drawn = try dataPoints(all["grad_norm"]!, try all["grad_norm"]!.polyline("gradient norm")!)
        XCTAssertEqual(drawn.count, 60)
        XCTAssertEqual(drawn[0].y, 20 * exp(-1.0 / 8) + 0.3, accuracy: 0.05)
        XCTAssertEqual(drawn[59].y, 20 * exp(-60.0 / 8) + 0.3, accuracy: 0.002)
        // Communication share is drawn in percent.
        let comm = try dataPoints(all["comm_share"]!, try all["comm_share"]!.polyline("communication share")!)
        XCTAssertEqual(comm[0].y, 10.1, accuracy: 0.01)
    }

    func testNonFiniteValuesAreSkippedAndSaid() throws {
        let run = try ScratchRun()
        try run.writeMetrics(trainingMetrics(steps: 30, nanSteps: [7, 8]))
        let loss = try XCTUnwrap(try charts([run])["loss"])
        let train = try XCTUnwrap(try loss.polyline("train"))
        XCTAssertEqual(train.points.count, 28)
        XCTAssertEqual(train.value("data-skipped"), "2")
        let chartNotes = try loss.texts(class: "note")
        XCTAssertTrue(chartNotes.contains("train: 2 non-finite values (NaN/Inf) skipped"), "\(chartNotes)")
        let notes = RunPlots.notes(for: [try RunMetrics(directory: run.url)])
        XCTAssertEqual(notes.count, 1)
        XCTAssertTrue(notes[0].hasSuffix("2 non-finite train_loss values skipped"), notes[0])
    }

    func testTruncatedLastLineIsIgnoredAndSaid() throws {
        let run = try ScratchRun()
        let text = trainingMetrics(steps: 12, evalEvery: 100)
        try run.writeMetrics(text + "{\"event\":\"train\",\"step\":13,\"train_lo")
        let metrics = try RunMetrics(directory: run.url)
        XCTAssertEqual(metrics.log.records("train").count, 12)
        XCTAssertEqual(metrics.log.truncatedLines, [13])
        XCTAssertTrue(metrics.log.notes[0].contains("metrics.jsonl: incomplete line 13 of metrics.jsonl ignored"),
                      metrics.log.notes[0])
        let loss = try XCTUnwrap(try charts([run])["loss"])
        XCTAssertEqual(try loss.polyline("train")?.points.count, 12)
        XCTAssertTrue(try loss.texts(class: "note").contains { $0.contains("line 13") && $0.contains("killed") })
    }

    /// Killed, then resumed: the cut-off record sits inside the file, followed by good ones.
    func testCutOffRecordOfAResumedRunIsIgnored() throws {
        let run = try ScratchRun()
        try run.writeMetrics("{\"event\":\"train\",\"step\":1,\"train_loss\":5}\n{\"event\":\"tr\n{\"event\":\"train\",\"step\":2,\"train_loss\":4}\n")
        let log = try MetricsLog.read(runDirectory: run.url)
        XCTAssertEqual(log.records("train").compactMap { $0["step"] }, [1, 2])
        XCTAssertEqual(log.truncatedLines, [2])
    }

    func testDamagedLineInsideTheFileIsAnErrorNamingTheLine() throws {
        let run = try ScratchRun()
        try run.writeMetrics("{\"event\":\"train\",\"step\":1,\"train_loss\":5}\nnot "
                             + "json\n{\"event\":\"train\",\"step\":2}\n")
        XCTAssertThrowsError(try MetricsLog.read(runDirectory: run.url)) { error in
            XCTAssertTrue("\(error)".contains("metrics.jsonl:2: not a JSON object"), "\(error)")
        }
    }

    func testRunThatLoggedNothingYetIsAnError() throws {
        let run = try ScratchRun()
        try run.writeMetrics("{\"event\":\"start\",\"step\":0,\"world_size\":1}\n")
        XCTAssertThrowsError(try RunPlots.plot(try RunMetrics(directory: run.url))) { error in
            XCTAssertTrue("\(error)".contains("holds no training or evaluation records yet"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.url.appendingPathComponent("plots").path))
    }

    func testRunDirectoryWithoutMetricsSaysWhatToGive() throws {
        let run = try ScratchRun()
        XCTAssertThrowsError(try MetricsLog.read(runDirectory: run.url)) { error in
            XCTAssertTrue("\(error)".contains("has no metrics.jsonl"), "\(error)")
        }
        XCTAssertThrowsError(try MetricsLog.read(runDirectory: run.url.appendingPathComponent("nope"))) { error in
            XCTAssertTrue("\(error)".contains("does not exist"), "\(error)")
        }
    }

    /// Two runs overlaid: one colour per run, training solid and validation dashed.
    func testSeveralRunsAreOverlaid() throws {
        let a = try ScratchRun("lr3e-3"), b = try ScratchRun("lr1e-3")
        try a.writeMetrics(trainingMetrics(steps: 40))
        try b.writeMetrics(trainingMetrics(steps: 20))
        let loss = try XCTUnwrap(try charts([a, b])["loss"])
        let lines = try loss.elements("polyline", class: "series")
        XCTAssertEqual(lines.compactMap { $0.value("data-series") },
                       ["lr3e-3 train", "lr3e-3 validation", "lr1e-3 train", "lr1e-3 validation"])
        XCTAssertEqual(lines.map { $0.points.count }, [40, 4, 20, 2])
        XCTAssertNotEqual(lines[0].value("stroke"), lines[2].value("stroke"))
        XCTAssertEqual(lines[0].value("stroke"), lines[1].value("stroke"))
        XCTAssertEqual(try loss.texts(class: "title"), ["Loss: lr3e-3 vs lr1e-3"])
        XCTAssertGreaterThanOrEqual(try loss.axis("x").upper, 40 * 512)
    }

    /// Fine-tuning evaluations: macro-F1 and accuracy over steps, the last confusion matrix.
    func testClassifierMetricsGiveScoresAndAConfusionHeatMap() throws {
        let run = try ScratchRun("finetune")
        try run.writeMetrics("""
        {"event":"train","step":10,"tokens":5120,"train_loss":0.9,"lr":0.001,"grad_norm":1,"tokens_per_s":900,"comm_share":0}
        {"event":"eval","step":10,"val_loss":0.8,"accuracy":0.61,"macro_f1":0.55,"weighted_f1":0.6,"labels":["neg","pos"],"confusion":[[30,20],[19,31]],"f1_neg":0.6,"f1_pos":0.5}
        {"event":"train","step":20,"tokens":10240,"train_loss":0.7,"lr":0.001,"grad_norm":1,"tokens_per_s":900,"comm_share":0}
        {"event":"eval","step":20,"val_loss":0.6,"accuracy":0.74,"macro_f1":"nan","labels":["neg","pos"],"confusion":[[40,10],[16,34]],"f1_neg":0.75,"f1_pos":0.7}

        """)
        let all = try charts([run])
        let quality = try XCTUnwrap(all["classification"])
        XCTAssertEqual(try quality.polyline("macro-F1")?.points.count, 1)
        XCTAssertEqual(try quality.polyline("macro-F1")?.value("data-skipped"), "1")
        XCTAssertEqual(try quality.polyline("accuracy")?.points.count, 2)
        let perLabel = try XCTUnwrap(all["f1_per_label"])
        XCTAssertEqual(try perLabel.elements("polyline", class: "series").compactMap { $0.value("data-series") }, ["F1 neg", "F1 pos"])
        XCTAssertEqual(try perLabel.polyline("F1 pos")?.points.count, 2)
        let confusion = try XCTUnwrap(all["confusion"])
        let cells = try confusion.elements("rect", class: "cell")
        XCTAssertEqual(cells.count, 4)
        let values = cells.map { ($0.value("data-row")!, $0.value("data-col")!, Double($0.value("data-value")!)!) }
        XCTAssertEqual(values.map { $0.2 }, [40, 10, 16, 34], "the last evaluation's matrix, row-major")
        XCTAssertEqual(try confusion.texts(class: "row-label"), ["neg", "pos"])
        XCTAssertTrue(try confusion.texts(class: "title")[0].contains("step 20"))
        // A language-model run has neither chart.
        let lm = try ScratchRun()
        try lm.writeMetrics(trainingMetrics(steps: 20))
        XCTAssertNil(try charts([lm])["classification"])
        XCTAssertNil(try charts([lm])["confusion"])
        XCTAssertNil(try charts([lm])["f1_per_label"])
    }
}
