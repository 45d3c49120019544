import Foundation
import LLMTrain

/// `swift-llm-train report`: one self-contained HTML page about a run (inline SVG and CSS, no
/// scripts, nothing fetched): the charts of `plot`, the model and hardware, the final and best
/// metrics, the checkpoints and the resolved config. Whatever the run directory lacks (no
/// checkpoint yet, a run older than the `start` record) is said on the page instead.
public enum RunReport {
    public static let fileName = "report.html"

    /// Writes RUN_DIR/report.html atomically; returns its URL and the notes shown on the page.
    public static func write(runDirectory: URL) throws -> (url: URL, notes: [String]) {
        let page = try html(runDirectory: runDirectory)
        let url = runDirectory.appendingPathComponent(fileName)
        try DurableFile.writeAtomically(Data(page.html.utf8), to: url.path)
        return (url, page.notes)
    }

    public static func html(runDirectory: URL) throws -> (html: String, notes: [String]) {
        let checkpoints = try CheckpointSummary.read(runDirectory: runDirectory)
        let run: RunMetrics?
        do { run = try RunMetrics(directory: runDirectory) } catch {
            // Checkpoints without metrics still make a (shorter) page.
            guard !checkpoints.all.isEmpty else { throw error }
            run = nil
        }
        var notes = run.map { RunPlots.notes(for: [$0]) } ?? ["\(runDirectory.path) has no \(MetricsLog.fileName): no "
                                                              + "charts or metrics"]
        let name = runDirectory.standardizedFileURL.lastPathComponent
        var body = "<h1>Run report: \(xmlEscape(name))</h1>\n<p "
                   + "class=\"path\">\(xmlEscape(runDirectory.standardizedFileURL.path))"
            + " &middot; written \(ISO8601DateFormatter().string(from: Date()))</p>\n"
        body += section("Run", table(overview(run, checkpoints, notes: &notes)))
        if let run {
            body += section("Final and best metrics", table(metrics(run)))
            let charts = RunPlots.charts(for: [run])
            body += section("Charts", charts.map { "<figure class=\"chart\" "
                                                   + "id=\"chart-\($0.name)\">\($0.svg)</figure>" }.joined(separator: "\n"))
        }
        body += section("Checkpoints", checkpoints.all.isEmpty ? "<p>No checkpoint yet.</p>" : checkpoints.table())
        body += section("Resolved config", checkpoints.configYAML.map { "<p>From \(xmlEscape(checkpoints.latest!.name))/config.yaml.</p><pre>\(xmlEscape($0))</pre>" }
                        ?? "<p>No checkpoint yet, so no resolved config.</p>")
        if !notes.isEmpty {
            body = section("Notes", "<ul class=\"notes\">" + notes.map { "<li>\(xmlEscape($0))</li>" }.joined() + "</ul>") + body
        }
        let page = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>Run report: \(xmlEscape(name))</title>
        <style>
        body { font-family: sans-serif; margin: 2em auto; max-width: 1000px; color: #222; }
        h1 { font-size: 1.5em; } h2 { font-size: 1.2em; border-bottom: 1px solid #ccc; margin-top: 1.6em; }
        .path { color: #666; } table { border-collapse: collapse; } td, th { padding: 3px 12px 3px 0; text-align: left; }
        th { font-weight: normal; color: #555; } pre { background: #f4f4f4; padding: 1em; overflow-x: auto; }
        figure.chart { margin: 1em 0; } .notes li { color: #a33; }
        </style></head>
        <body>
        \(body)
        </body></html>

        """
        return (page, notes)
    }

    static func section(_ title: String, _ content: String) -> String { "<h2>\(title)</h2>\n\(content)\n" }

    static func table(_ rows: [(String, String)]) -> String {
        "<table>" + rows.map { "<tr><th>\(xmlEscape($0.0))</th><td>\(xmlEscape($0.1))</td></tr>" }.joined() + "</table>"
    }

    static func overview(_ run: RunMetrics?, _ checkpoints: CheckpointSummary, notes: inout [String]) -> [(String, String)] {
        var rows: [(String, String)] = []
        let start = run?.log.start
        if let model = checkpoints.state?.model {
            rows.append(("model", describe(model)))
        }
        if let parameters = start?["parameters"] ?? checkpoints.parameterCount.map(Double.init) {
            rows.append(("parameters", "\(grouped(Int(parameters))) (\(format(parameters * 4 / 1_048_576, 2)) MiB of "
                                       + "fp32 weights)"))
        }
        if let start, let ranks = start["world_size"], let threads = start["threads"] {
            let kernel = start.strings["blas_kernel"] ?? "unknown"
            let line = "\(Int(ranks)) rank\(ranks == 1 ? "" : "s") x \(Int(threads)) BLAS "
                       + "thread\(threads == 1 ? "" : "s")"
            rows.append(("hardware", "\(line), OpenBLAS kernel \(kernel)"))
            let starts = run?.log.records("start").count ?? 0
            if starts > 1 { rows.append(("", "(the latest of \(starts) starts: the run was resumed)")) }
        } else {
            let ranks = checkpoints.state.map { "\($0.worldSize) rank\($0.worldSize == 1 ? "" : "s")" } ?? "ranks unknown"
            rows.append(("hardware", "\(ranks); threads and BLAS kernel not recorded"))
            notes.append("no start record in \(MetricsLog.fileName) (a run from before it was written): threads and "
                         + "BLAS kernel unknown")
        }
        if let state = checkpoints.state {
            let progress = "\(state.step) steps, \(grouped(state.tokensSeen)) tokens, "
                           + "\(format(state.elapsedSeconds, 1)) s"
            rows.append(("trained", "\(progress) (as of \(checkpoints.latest!.name))"))
        } else if let last = run?.log.records("train").last {
            rows.append(("trained", "\(Int(last["step"] ?? 0)) steps, \(grouped(Int(last["tokens"] ?? 0))) tokens (no "
                                    + "checkpoint yet)"))
        }
        return rows
    }

    /// Final (last logged) and best values of the losses and, for classifiers, the scores.
    static func metrics(_ run: RunMetrics) -> [(String, String)] {
        var rows: [(String, String)] = []
        func add(_ event: String, _ field: String, _ label: String, lowerIsBetter: Bool) {
            let values = run.log.records(event).compactMap { r in r[field].map { (step: Int(r["step"] ?? 0), value: $0) } }
            guard let last = values.last else { return }
            let best = values.min { lowerIsBetter ? $0.value < $1.value : $0.value > $1.value }!
            rows.append((label, "final \(format(last.value, 4)) (step \(last.step)), best \(format(best.value, 4)) "
                                + "(step \(best.step))"))
        }
        add("train", "train_loss", "training loss", lowerIsBetter: true)
        add("eval", "val_loss", "validation loss", lowerIsBetter: true)
        add("eval", "val_ppl", "validation perplexity", lowerIsBetter: true)
        add("eval", "accuracy", "accuracy", lowerIsBetter: false)
        add("eval", "macro_f1", "macro-F1", lowerIsBetter: false)
        add("eval", "weighted_f1", "weighted F1", lowerIsBetter: false)
        add("eval", "roc_auc", "ROC AUC", lowerIsBetter: false)
        let train = run.log.records("train")
        if let last = train.last, let speed = last["tokens_per_s"] {
            let mfu = last["mfu"].map { ", MFU \(format($0 * 100, 1))%" } ?? ""
            let comm = last["comm_share"].map { ", communication \(format($0 * 100, 1))% of step time" } ?? ""
            rows.append(("throughput (last window)", "\(grouped(Int(speed))) tokens/s\(mfu)\(comm)"))
        }
        return rows
    }

    static func grouped(_ n: Int) -> String {
        let digits = String(abs(n))
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }
}
