import ArgumentParser
import Foundation
import LLMComm
import LLMTasks
import LLMTrain

struct FinetuneCommand: LaunchableCommand {
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

    @OptionGroup var options: RunOptions

    @Option(name: .customLong("from"), help: ArgumentHelp("Pre-trained checkpoint or run directory whose trunk initialises the model (sets task.init_from).", valueName: "path"))
    var initFrom: String?

    func trainOptions() throws -> TrainOptions {
        try options.trainOptions(defaultRunDirectory: "runs/finetune") { config in
            if let initFrom { config.task.initFrom = initFrom }
        }
    }

    mutating func run() throws {
        StopSignal.install()  // from the start: a stop during MPI start-up or data preparation stops after step 1
        let comm = try MPICommunicator.world()
        do {
            let trainer = try Trainer(options: try trainOptions(), comm: comm) { try TaskObjective(context: $0) }
            try trainer.run()
        } catch {
            ConsoleWriter.standardOutput.flush(within: 5)  // what led up to the error, before MPI_Abort ends the process
            if comm.worldSize > 1 { comm.abort("\(error)") }
            FileHandle.standardError.write(Data("swift-llm-train: error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
