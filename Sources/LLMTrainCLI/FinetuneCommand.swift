import ArgumentParser
import Foundation
import LLMComm
import LLMTasks
import LLMTrain

struct FinetuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finetune",
        abstract: "Fine-tune a (pre-trained) model on labelled posts: classification or regression.",
        discussion: """
        The same training loop as `train` (data parallel under mpirun, checkpoints, --resume) with \
        a task objective: each example is one labelled post of the dataset's SPLIT.labels.jsonl; \
        the hidden state of its last token (or the mean, task.pooling) goes through score.weight. \
        The `task` config section says which posts and labels; task.init_from (or --from) names \
        the pre-trained checkpoint. checkpoints/best is the one with the highest validation \
        macro-F1 (lowest RMSE for regression).

        Examples:
          swift-llm-train finetune --config Configs/sentiment-en.yaml --from runs/pretrain --run-dir runs/sentiment-en
          mpirun -n 2 swift-llm-train finetune --config Configs/sentiment-en.yaml --run-dir runs/sentiment-en --resume
        """
    )

    @Option(name: .long, help: ArgumentHelp("YAML config with a task section (presets in Configs/).", valueName: "file"))
    var config: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override one config field, e.g. --set task.pooling=mean (repeatable).", valueName: "key=value"))
    var overrides: [String] = []

    @Option(name: .customLong("from"), help: ArgumentHelp("Pre-trained checkpoint or run directory whose trunk initialises the model (sets task.init_from).", valueName: "path"))
    var initFrom: String?

    @Option(help: "Step budget: sets train.steps (the learning-rate schedule spans it).")
    var steps: Int?

    @Option(help: ArgumentHelp("Stop after this step with a checkpoint, keeping the schedule of train.steps.", valueName: "step"))
    var untilStep: Int?

    @Option(help: ArgumentHelp("The run's folder: checkpoints, metrics.jsonl.", valueName: "dir"))
    var runDir: String = "runs/finetune"

    @Option(help: ArgumentHelp("Resume: bare --resume takes the latest checkpoint in --run-dir; --resume PATH a checkpoint (or run) directory.", valueName: "path"))
    var resume: String?

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
            if let initFrom { config.task.initFrom = initFrom }
            try config.validate(source: self.config ?? "config")
            var options = TrainOptions(config: config, runDirectory: URL(fileURLWithPath: runDir))
            options.resume = resume.map { .path($0) } ?? (resumeLatest ? .latest : nil)
            options.allowFallback = allowFallback
            options.debug = debug
            options.untilStep = untilStep
            let trainer = try Trainer(options: options, comm: comm) { try TaskObjective(context: $0) }
            try trainer.run()
        } catch {
            if comm.worldSize > 1 { comm.abort("\(error)") }
            FileHandle.standardError.write(Data("swift-llm-train: error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
