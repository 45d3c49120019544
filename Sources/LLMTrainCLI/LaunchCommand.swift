import ArgumentParser
import Foundation
import LLMLaunch
import LLMTrain

struct LaunchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "launch",
        abstract: "Run train or finetune under mpirun, restarting it after failures (torchrun-style).",
        discussion: """
        Runs `mpirun -n N swift-llm-train COMMAND ARGS --resume auto`, with what Open MPI needs \
        here (run-as-root, oversubscription when N exceeds the cores, OPENBLAS_NUM_THREADS=1). When \
        the job fails (a rank crashed, was killed, aborted, or the step watchdog \
        train.step_timeout_s ended it), it waits (--backoff, doubling up to --max-backoff) and \
        relaunches from the latest checkpoint, up to --max-restarts times. When one world size fails \
        --shrink-after times in a row without a new checkpoint, it relaunches with the largest \
        size >= --min-ranks that splits train.global_batch. Each restart and its cause go to \
        stdout and to the run's metrics.jsonl (event: restart).

        Ctrl-C or SIGTERM to launch stops the job for good: launch forwards it to mpirun as \
        SIGUSR1, which Open MPI passes to every rank; the ranks finish their step, save a \
        checkpoint and exit, and launch does not relaunch. SIGTERM to a rank does the same. \
        SIGTERM or SIGINT to mpirun itself starts Open MPI's kill sequence: SIGTERM reaches the \
        ranks --stop-grace seconds later (Open MPI's default, 1 s, when 0), and SIGKILL as long \
        after that; it ends with a checkpoint when --stop-grace exceeds a step plus a save \
        (the trainer prints a note at its first save when it does not; a tiny model needs less \
        than 1 s, a GPT-2-small-sized one 80 s or more on a loaded 2-core machine). Running the \
        same command again continues the run.

        Examples:
          swift-llm-train launch -n 2 -- train --config Configs/tiny.yaml --run-dir runs/tiny
          swift-llm-train launch -n 4 --max-restarts 5 --min-ranks 2 -- train --config Configs/tiny.yaml
          swift-llm-train launch -n 8 --hostfile hosts -- finetune --config Configs/sentiment-en.yaml
        """
    )

    @Option(name: .customShort("n"), help: "Ranks to start with.")
    var ranks: Int

    @Option(help: ArgumentHelp("Open MPI hostfile, passed to mpirun as --hostfile.", valueName: "file"))
    var hostfile: String?

    @Option(help: "Relaunches after failures before giving up.")
    var maxRestarts = 3

    @Option(help: ArgumentHelp("Fewest ranks to shrink to when a world size keeps failing (default: -n, no shrinking).",
                               valueName: "m"))
    var minRanks: Int?

    @Option(help: ArgumentHelp("Failures in a row without a new checkpoint before shrinking.", valueName: "k"))
    var shrinkAfter = 2

    @Option(help: ArgumentHelp("Seconds before the first restart; each further restart waits twice as long.",
                               valueName: "seconds"))
    var backoff = 1.0

    @Option(help: ArgumentHelp("Longest wait between restarts.", valueName: "seconds"))
    var maxBackoff = 60.0

    @Option(help: ArgumentHelp("When mpirun itself gets SIGTERM or SIGINT (kill -TERM <mpirun pid>), seconds it waits "
                               + "before passing SIGTERM to the ranks, and again before SIGKILL: set it above a step "
                               + "plus a save (Open MPI's odls_base_sigkill_timeout; 0: its default, 1). mpirun also "
                               + "takes up to twice this to end a failed job.", valueName: "seconds"))
    var stopGrace = 0

    @Option(parsing: .unconditionalSingleValue,
            help: ArgumentHelp("One extra mpirun argument, before the program (repeatable), e.g. --mpirun-arg=--bind-to "
                               + "--mpirun-arg=none.", valueName: "arg"))
    var mpirunArg: [String] = []

    @Option(help: ArgumentHelp("The mpirun to run (a path, or a name in PATH).", valueName: "path"))
    var mpirun = "mpirun"

    @Argument(parsing: .postTerminator,
              help: ArgumentHelp("After --: `train ARGS` or `finetune ARGS`, as you would give them under mpirun "
                                 + "(without --resume: launch adds --resume auto).", valueName: "command"))
    var command: [String] = []

    func validate() throws {
        guard ranks >= 1 else { throw ValidationError("-n must be at least 1") }
        guard (1...ranks).contains(minRanks ?? ranks) else { throw ValidationError("--min-ranks must be in 1...-n") }
        guard maxRestarts >= 0, shrinkAfter >= 1, backoff >= 0, maxBackoff >= 0, stopGrace >= 0 else {
            throw ValidationError("--max-restarts, --backoff, --max-backoff and --stop-grace must not be negative, "
                                  + "--shrink-after at least 1")
        }
    }

    mutating func run() throws {
        // Parse the training command as the ranks will, so its config (and any mistake in it) is
        // known before mpirun starts, and the world sizes launch may shrink to are the ones it accepts.
        let child: any LaunchableCommand
        switch command.first {
        case "train": child = try TrainCommand.parse(Array(command.dropFirst()))
        case "finetune": child = try FinetuneCommand.parse(Array(command.dropFirst()))
        default: throw ValidationError("give the command to launch after --: `-- train ARGS` or `-- finetune ARGS`")
        }
        let options = try child.trainOptions()
        guard options.resume == nil else {
            throw ValidationError("launch adds --resume auto to every attempt; remove --resume from the \(command[0]) "
                                  + "arguments")
        }
        let config = options.config
        let request = LaunchRequest(
            mpirun: MPIRunCommand(ranks: ranks, hostfile: hostfile, extraArguments: mpirunArg, stopGrace: stopGrace),
            mpirunPath: mpirun, program: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"),
            command: command, runDirectory: options.runDirectory,
            policy: RestartPolicy(maxRestarts: maxRestarts, minRanks: minRanks ?? ranks, shrinkAfter: shrinkAfter,
                                  backoff: backoff, maxBackoff: maxBackoff),
            fits: { (try? config.batchPlan(worldSize: $0)) != nil })
        let status = try JobLauncher.run(request)
        if status != 0 { throw ExitCode(status) }
    }
}

/// The commands `launch` runs: it reads the config and run directory they would use.
protocol LaunchableCommand: ParsableCommand {
    func trainOptions() throws -> TrainOptions
}
