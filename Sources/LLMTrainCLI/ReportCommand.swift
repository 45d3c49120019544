import ArgumentParser
import Foundation
import LLMReport

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write RUN_DIR/report.html: one self-contained page about a run.",
        discussion: """
        The page holds the charts of `plot` (inline SVG), the model and its size, the hardware \
        line (ranks, threads, BLAS kernel), the final and best metrics, the checkpoints with \
        their sizes and the resolved config. It loads nothing from the network.

        Example:
          swift-llm-train report runs/tiny && xdg-open runs/tiny/report.html
        """
    )

    @Argument(help: ArgumentHelp("The run directory (--run-dir of the training run).", valueName: "run-dir"))
    var runDir: String

    mutating func run() throws {
        do {
            let (url, notes) = try RunReport.write(runDirectory: URL(fileURLWithPath: runDir))
            for note in notes { print("note: \(note)") }
            print("wrote \(url.path)")
        } catch {
            FileHandle.standardError.write(Data("swift-llm-train report: error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
