import Foundation

/// The `mpirun` command line and environment for one attempt: what Scripts/mpi-env.sh sets,
/// applied only where it is needed, plus the stop grace period.
public struct MPIRunCommand: Equatable, Sendable {
    public var ranks: Int
    public var hostfile: String?
    /// Passed to mpirun before the program, verbatim (`--mpirun-arg`).
    public var extraArguments: [String] = []
    /// > 0: Open MPI 4.1's `odls_base_sigkill_timeout`. Ending a job (SIGTERM or SIGINT to mpirun,
    /// a failed rank), mpirun sends the ranks SIGCONT, sleeps this long, SIGTERM, sleeps again,
    /// SIGKILL (default 1 s, too short to finish a step and save a large model), so a long enough
    /// one makes `kill -TERM <mpirun pid>` end with a checkpoint. The price: mpirun takes up to
    /// twice as long to tear down a failed job, even once every rank is dead. `launch` itself stops
    /// jobs with SIGUSR1, which needs no grace; 0: leave Open MPI's default.
    public var stopGrace: Int

    public init(ranks: Int, hostfile: String?, extraArguments: [String] = [], stopGrace: Int) {
        self.ranks = ranks
        self.hostfile = hostfile
        self.extraArguments = extraArguments
        self.stopGrace = stopGrace
    }

    /// Environment variables the ranks must see on every host (`-x NAME` forwards them).
    static let forwardedVariables = ["OPENBLAS_NUM_THREADS", "SWIFT_LLM_TRAIN_FAULT"]

    /// mpirun's arguments: the training command with `--resume auto` appended, so every attempt
    /// (the first one included) continues from the run directory's latest checkpoint if any.
    public func arguments(program: String, command: [String], environment: [String: String]) -> [String] {
        var arguments = ["-n", "\(ranks)"]
        if let hostfile { arguments += ["--hostfile", hostfile] }
        if stopGrace > 0 { arguments += ["--mca", "odls_base_sigkill_timeout", "\(stopGrace)"] }
        for name in Self.forwardedVariables where environment[name] != nil { arguments += ["-x", name] }
        return arguments + extraArguments + [program] + command + ["--resume", "auto"]
    }

    /// `base` plus what Open MPI needs here, unless the user already set it: as root, permission
    /// to run as root; more ranks than cores on this machine (no hostfile), oversubscription
    /// (Open MPI then yields when idle instead of busy-polling); one BLAS thread per rank.
    public func environment(base: [String: String], isRoot: Bool, cores: Int) -> [String: String] {
        var environment = base
        func setIfAbsent(_ name: String, _ value: String) { if environment[name] == nil { environment[name] = value } }
        if isRoot {
            setIfAbsent("OMPI_ALLOW_RUN_AS_ROOT", "1")
            setIfAbsent("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        }
        if hostfile == nil && ranks > cores { setIfAbsent("OMPI_MCA_rmaps_base_oversubscribe", "1") }
        setIfAbsent("OPENBLAS_NUM_THREADS", "1")
        return environment
    }
}
