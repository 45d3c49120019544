import ArgumentParser
import Foundation
import LLMComm
import LLMPrivacy
import LLMReport
import LLMTrain

struct TrainCommand: LaunchableCommand {
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
          swift-llm-train train --config Configs/tiny.yaml --resume runs/tiny/checkpoints/step-000100
        """
    )

    @OptionGroup var options: RunOptions

    func trainOptions() throws -> TrainOptions { try options.trainOptions(defaultRunDirectory: "runs/default") }

    mutating func run() throws {
        StopSignal.install()  // from the start: a stop during MPI start-up or data preparation stops after step 1
        let comm = try MPICommunicator.world()
        do {
            let trainer = try Trainer(options: try trainOptions(), comm: comm,
                                      privateLanguageModel: { try PrivateLanguageModel(context: $0, windows: $1) })
            try trainer.run()
            if comm.isCoordinator { print(RunPlots.afterTraining(URL(fileURLWithPath: options.runDirectory(default: "runs/default")))) }
        } catch {
            // One rank's failure must end them all, with the rank and cause named.
            ConsoleWriter.standardOutput.flush(within: 5)  // what led up to the error, before MPI_Abort ends the process
            if comm.worldSize > 1 { comm.abort("\(error)") }
            FileHandle.standardError.write(Data("swift-llm-train: error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
