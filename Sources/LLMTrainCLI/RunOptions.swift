import ArgumentParser
import Foundation
import LLMTrain

/// The options every training-style command shares (`train`, `finetune`): config, overrides, the
/// run directory and how to resume. One `@OptionGroup`, so each command's help says the same thing.
struct RunOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("YAML config (presets in Configs/); fields not given keep their defaults.", valueName: "file"))
    var config: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override one config field, e.g. --set optimizer.learning_rate=1e-3 (repeatable).", valueName: "key=value"))
    var overrides: [String] = []

    @Option(help: "Step budget: sets train.steps (the learning-rate schedule spans it).")
    var steps: Int?

    @Option(help: ArgumentHelp("Stop after this step with a checkpoint, keeping the schedule of train.steps (to split a run into jobs).", valueName: "step"))
    var untilStep: Int?

    @Option(help: ArgumentHelp("The run's folder: checkpoints, metrics.jsonl, prepared data (default: runs/default for train, runs/finetune for finetune).", valueName: "dir"))
    var runDir: String?

    @Option(defaultAsFlag: "latest",
            help: ArgumentHelp("Resume: bare --resume takes the latest checkpoint in --run-dir; --resume PATH a checkpoint (or run) directory; --resume auto resumes if --run-dir has a checkpoint, else starts fresh (for requeued jobs).", valueName: "path"))
    var resume: String?

    @Flag(help: "If the latest checkpoint is corrupt, fall back to the newest one that verifies.")
    var allowFallback = false

    @Flag(help: "On --resume, accept changed settings that alter the optimisation (seed, batch, learning rate, data); each change is logged.")
    var allowConfigChange = false

    @Flag(help: "Check every layer's output for NaN/Inf and log verbosely (slower).")
    var debug = false

    /// The config (file, then --set, then --steps, then `adjust`) and the trainer options these
    /// flags ask for.
    func trainOptions(defaultRunDirectory: String, adjust: (inout TrainConfig) -> Void = { _ in }) throws -> TrainOptions {
        var config = try TrainConfig.load(path: self.config, overrides: overrides)
        if let steps { config.train.steps = steps }
        adjust(&config)
        try config.validate(source: self.config ?? "config")
        var options = TrainOptions(config: config, runDirectory: URL(fileURLWithPath: runDirectory(default: defaultRunDirectory)))
        options.resume = resume.map { $0 == "latest" ? .latest : $0 == "auto" ? .auto : .path($0) }
        options.allowFallback = allowFallback
        options.allowConfigChange = allowConfigChange
        options.debug = debug
        options.untilStep = untilStep
        return options
    }

    func runDirectory(default name: String) -> String { runDir ?? name }
}
