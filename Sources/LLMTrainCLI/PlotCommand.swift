import ArgumentParser
import Foundation
import LLMReport

struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw a run's metrics as SVG charts into RUN_DIR/plots.",
        discussion: """
        Charts: loss (training and validation) against tokens seen, learning rate, throughput, \
        communication share, gradient norm, and for fine-tuning runs macro-F1/accuracy and the \
        last confusion matrix. Given several runs, each gets its own charts, and the runs are \
        also overlaid (one colour per run) into --compare-dir.

        Examples:
          swift-llm-train plot runs/tiny
          swift-llm-train plot runs/lr3e-3 runs/lr1e-3 --compare-dir runs/lr-compare
        """
    )

    @Argument(help: ArgumentHelp("Run directories (each with a metrics.jsonl).", valueName: "run-dir"))
    var runDirs: [String]

    @Option(help: ArgumentHelp("Where the overlaid charts of several runs go (default: FIRST_RUN/plots/compare).", valueName: "dir"))
    var compareDir: String?

    mutating func validate() throws {
        guard !runDirs.isEmpty else { throw ValidationError("give at least one run directory") }
    }

    mutating func run() throws {
        do {
            let runs = try runDirs.map { try RunMetrics(directory: URL(fileURLWithPath: $0)) }
            for note in RunPlots.notes(for: runs) { print("note: \(note)") }
            for run in runs {
                let files = try RunPlots.plot(run)
                print("\(run.directory.path): \(files.count) charts in "
                      + "\(run.directory.appendingPathComponent("plots").path)")
            }
            if runs.count > 1 {
                let directory = compareDir.map { URL(fileURLWithPath: $0) }
                    ?? runs[0].directory.appendingPathComponent("plots/compare")
                let files = try RunPlots.write(RunPlots.charts(for: runs), into: directory)
                print("\(runs.count) runs overlaid: \(files.count) charts in \(directory.path)")
            }
        } catch {
            FileHandle.standardError.write(Data("swift-llm-train plot: error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
