import ArgumentParser
import Foundation
import LLMComm
import LLMReport
import LLMTrain

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model (the default command).",
        discussion: """
        With no options, trains the small default model on the embedded social-media corpus into \
        runs/default. Under `mpirun -n N` the N ranks train data-parallel with the same global \
        batch; without mpirun it is the single-process debug mode.

        Examples:
          swift-llm-train
          mpirun -n 8 swift-llm-train train --config Configs/tiny.yaml --run-dir runs/tiny
          swift-llm-train train --config Configs/tiny.yaml --set optimizer.learning_rate=1e-3 --steps 50
          mpirun -n 2 swift-llm-train train --config Configs/tiny.yaml --run-dir runs/tiny --resume
        """
    )

    @Option(name: .long, help: ArgumentHelp("YAML config (presets in Configs/); fields not given keep their defaults.", valueName: "file"))
    var config: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override one config field, e.g. --set optimizer.learning_rate=1e-3 (repeatable).", valueName: "key=value"))
    var overrides: [String] = []

    @Option(help: "Step budget: sets train.steps (the learning-rate schedule spans it).")
    var steps: Int?

    @Option(help: ArgumentHelp("Stop after this step with a checkpoint, keeping the schedule of train.steps (to split a run into jobs).", valueName: "step"))
    var untilStep: Int?

    @Option(help: ArgumentHelp("The run's folder: checkpoints, metrics.jsonl, prepared data.", valueName: "dir"))
    var runDir: String = "runs/default"

    @Option(help: ArgumentHelp("Resume: bare --resume takes the latest checkpoint in --run-dir; --resume PATH a checkpoint (or run) directory.", valueName: "path"))
    var resume: String?

    /// What a bare `--resume` becomes (see `ResumeArgument`).
    @Flag(help: .hidden)
    var resumeLatest = false

    @Flag(help: "If the latest checkpoint is corrupt, fall back to the newest one that verifies.")
    var allowFallback = false

    @Flag(help: "Check every layer's output for NaN/Inf and log verbosely (slower).")
    var debug = false

    mutating func run() throws {
        let comm = try MPICommunicator.world()
        do {
            var config = try TrainConfig.load(path: config, overrides: overrides)
            if let steps { config.train.steps = steps }
            try config.validate(source: self.config ?? "config")
            var options = TrainOptions(config: config, runDirectory: URL(fileURLWithPath: runDir))
            options.resume = resume.map { .path($0) } ?? (resumeLatest ? .latest : nil)
            options.allowFallback = allowFallback
            options.debug = debug
            options.untilStep = untilStep
            let trainer = try Trainer(options: options, comm: comm)
            try trainer.run()
            if comm.isCoordinator { print(RunPlots.afterTraining(URL(fileURLWithPath: runDir))) }
        } catch {
            // One rank's failure must end them all, with the rank and cause named.
            if comm.worldSize > 1 { comm.abort("\(error)") }
            FileHandle.standardError.write(Data("swift-llm-train: error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
