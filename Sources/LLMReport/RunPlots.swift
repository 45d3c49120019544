import Foundation
import LLMTrain

/// A run directory and its metrics, named after the directory for titles and legends.
public struct RunMetrics {
    public let directory: URL
    public let log: MetricsLog
    public var name: String { directory.standardizedFileURL.lastPathComponent }

    public init(directory: URL) throws {
        self.directory = directory
        log = try MetricsLog.read(runDirectory: directory)
    }

    /// Tokens per optimiser step, from the training records (the global batch is fixed for a
    /// run, whatever the world size), so evaluations can be placed on the tokens axis too.
    var tokensPerStep: Double? {
        guard let last = log.records("train").last(where: { $0["tokens"] != nil && ($0["step"] ?? 0) > 0 }) else { return nil }
        return last["tokens"]! / last["step"]!
    }

    /// (x, y) of every `event` record holding `y`; records where x or y is non-finite are
    /// skipped and counted.
    func series(_ event: String, x: String, y: String, scale: Double = 1) -> (points: [(x: Double, y: Double)], skipped: Int) {
        var points: [(x: Double, y: Double)] = [], skipped = 0
        for record in log.records(event) {
            if record.nonFinite.contains(y) || record.nonFinite.contains(x) { skipped += 1; continue }
            guard let value = record[y] else { continue }
            let position = x == "tokens" ? record["tokens"] ?? tokensPerStep.flatMap { t in record["step"].map { $0 * t } }
                : record[x]
            guard let position else { continue }
            points.append((position, value * scale))
        }
        return (points, skipped)
    }
}

/// The charts of `swift-llm-train plot`: one run's, or several runs overlaid (one colour per run).
public enum RunPlots {
    /// Chart file names (without .svg) and their SVG text; charts without data are left out.
    public static func charts(for runs: [RunMetrics]) -> [(name: String, svg: String)] {
        let names = runs.map(\.name), several = runs.count > 1
        let subject = several ? names.joined(separator: " vs ") : names[0]
        func label(_ run: RunMetrics, _ what: String) -> String { several ? "\(run.name) \(what)" : what }
        var charts: [(String, LineChart)] = []

        let useTokens = runs.allSatisfy { $0.tokensPerStep != nil }
        let lossX = useTokens ? "tokens" : "step"
        var loss = LineChart(title: "Loss: \(subject)", xLabel: useTokens ? "tokens seen" : "step",
                             yLabel: "cross-entropy loss (nats/token)", series: [])
        for (index, run) in runs.enumerated() {
            let train = run.series("train", x: lossX, y: "train_loss")
            let validation = run.series("eval", x: lossX, y: "val_loss")
            loss.series.append(Series(name: label(run, "train"), points: train.points, skipped: train.skipped, colour: index))
            if !validation.points.isEmpty || validation.skipped > 0 {
                // One run: validation in its own colour; several: a colour per run, validation dashed.
                loss.series.append(Series(name: label(run, "validation"), points: validation.points,
                                          skipped: validation.skipped, dashed: true, colour: several ? index : 1))
            }
            if let note = run.log.truncationNote { loss.notes.append("\(run.name): \(note)") }
        }
        charts.append(("loss", loss))

        // The schedule, throughput and share read best linear; gradient norms often span decades.
        let perStep: [(file: String, title: String, field: String, unit: String, scale: Double, logY: Bool?)] = [
            ("learning_rate", "Learning rate", "lr", "learning rate", 1, false),
            ("throughput", "Throughput", "tokens_per_s", "tokens/s (all ranks)", 1, false),
            ("comm_share", "Communication share", "comm_share", "communication (% of step time)", 100, false),
            ("grad_norm", "Gradient norm", "grad_norm", "gradient L2 norm (before clipping)", 1, nil),
        ]
        for chart in perStep {
            let series = runs.enumerated().map { index, run in
                let s = run.series("train", x: "step", y: chart.field, scale: chart.scale)
                return Series(name: several ? run.name : chart.title.lowercased(), points: s.points, skipped: s.skipped, colour: index)
            }
            charts.append((chart.file, LineChart(title: "\(chart.title): \(subject)", xLabel: "step",
                                                 yLabel: chart.unit, series: series, logY: chart.logY)))
        }

        // Fine-tuning evaluations: macro-F1, accuracy and ROC AUC (fractions of 1) over steps,
        // and each label's F1 (`f1_<label>`) for one run.
        var quality = LineChart(title: "Classification: \(subject)", xLabel: "step", yLabel: "score (0 to 1)", series: [])
        for (index, run) in runs.enumerated() {
            for (field, name, dashed) in [("macro_f1", "macro-F1", false), ("accuracy", "accuracy", true), ("roc_auc", "ROC AUC", true)] {
                let s = run.series("eval", x: "step", y: field)
                if !s.points.isEmpty || s.skipped > 0 {
                    quality.series.append(Series(name: label(run, name), points: s.points, skipped: s.skipped,
                                                 dashed: dashed, colour: several ? index : quality.series.count))
                }
            }
        }
        charts.append(("classification", quality))
        if !several {
            let run = runs[0]
            let fields = run.log.records("eval").flatMap { Array($0.numbers.keys) + Array($0.nonFinite) }
            let labels = Set(fields.filter { $0.hasPrefix("f1_") })
            let series = labels.sorted().enumerated().map { index, field in
                let s = run.series("eval", x: "step", y: field)
                return Series(name: "F1 " + field.dropFirst(3), points: s.points, skipped: s.skipped, colour: index)
            }
            charts.append(("f1_per_label", LineChart(title: "F1 per label: \(subject)", xLabel: "step",
                                                     yLabel: "F1 (0 to 1)", series: series, logY: false)))
        }

        var output = charts.filter { !$0.1.isEmpty }.map { (name: $0.0, svg: $0.1.svg()) }
        if !several, let confusion = confusionMatrix(runs[0]) { output.append((name: "confusion", svg: confusion.svg())) }
        return output
    }

    /// The last evaluation's confusion matrix (rows: true label, columns: predicted).
    public static func confusionMatrix(_ run: RunMetrics) -> HeatMap? {
        guard let record = run.log.records("eval").last(where: { $0.confusion != nil }), let matrix = record.confusion,
              !matrix.isEmpty else { return nil }
        let labels = record.labels ?? matrix.indices.map { "class \($0)" }
        let step = record["step"].map { " at step \(Int($0))" } ?? ""
        return HeatMap(title: "Confusion matrix: \(run.name)\(step)", rowTitle: "true label", columnTitle: "predicted label",
                       rowLabels: labels, columnLabels: labels, values: matrix, showValues: true)
    }

    /// A run's own charts into RUN_DIR/plots; a run that has logged nothing yet is an error.
    public static func plot(_ run: RunMetrics) throws -> [URL] {
        let charts = charts(for: [run])
        guard !charts.isEmpty else {
            throw ReportError("\(run.log.url.path) holds no training or evaluation records yet; plot again once the "
                              + "run has logged a step")
        }
        return try write(charts, into: run.directory.appendingPathComponent("plots"))
    }

    /// Training's last line: the run's charts are drawn, and where to look is said. Charts are a
    /// convenience here, so a failure is reported, not thrown: the training itself succeeded.
    public static func afterTraining(_ runDirectory: URL) -> String {
        let path = runDirectory.path
        do {
            let files = try plot(try RunMetrics(directory: runDirectory))
            return "see \(path)/plots (\(files.count) charts) or run `swift-llm-train report \(path)` for one page"
        } catch {
            return "no charts drawn (\(error)); run `swift-llm-train plot \(path)` later"
        }
    }

    /// Writes the charts into `directory` (created if needed), each file atomically.
    public static func write(_ charts: [(name: String, svg: String)], into directory: URL) throws -> [URL] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return try charts.map { chart in
            let url = directory.appendingPathComponent(chart.name + ".svg")
            try DurableFile.writeAtomically(Data(chart.svg.utf8), to: url.path)
            return url
        }
    }

    /// Human-readable warnings about the runs' data: dropped lines, skipped values.
    public static func notes(for runs: [RunMetrics]) -> [String] {
        runs.flatMap { run in
            run.log.notes + ["train_loss", "val_loss", "grad_norm"].compactMap { field in
                let event = field == "val_loss" ? "eval" : "train"
                let count = run.log.nonFiniteCount(event, field)
                return count > 0 ? "\(run.log.url.path): \(count) non-finite \(field) value\(count == 1 ? "" : "s") "
                                   + "skipped" : nil
            }
        }
    }
}
