import Foundation
import LLMComm
import LLMData
import LLMModel
import LLMSupport

/// What to resume from, if anything.
public enum ResumeRequest: Equatable, Sendable {
    /// The run directory's `latest` checkpoint.
    case latest
    /// `latest` if the run directory has a checkpoint, else a fresh start: one command line for
    /// the first launch and every requeue.
    case auto
    /// A checkpoint directory (or a run directory, meaning its latest).
    case path(String)
}

public struct TrainOptions: Sendable {
    public var config: TrainConfig
    public var runDirectory: URL
    public var resume: ResumeRequest?
    /// On a corrupt latest checkpoint, resume from the newest one that verifies instead of failing.
    public var allowFallback = false
    /// NaN/Inf checks after every layer, and verbose logs.
    public var debug = false
    /// Stop after this step with a checkpoint, as if signalled; the schedule still spans train.steps.
    public var untilStep: Int?
    /// On resume, accept a config that differs from the saved one in fields that change the
    /// optimisation (seed, batch, schedule, data), logging each change.
    public var allowConfigChange = false

    public init(config: TrainConfig, runDirectory: URL, resume: ResumeRequest? = nil) {
        self.config = config
        self.runDirectory = runDirectory
        self.resume = resume
    }
}

/// Data-parallel training: every rank holds a full replica and computes gradients on its share
/// of each global batch. The flat gradient buffer is reduce-scattered, each rank applies AdamW to
/// its own shard, and the parameters are all-gathered (ZeRO stage 1; with
/// `train.shard_optimizer: false`, one all-reduce and the identical full step on every rank).
/// Rank 0, the coordinator, also logs, evaluates (with every rank's help) and writes checkpoints.
public final class Trainer {
    let comm: Communicator
    let options: TrainOptions
    var config: TrainConfig { options.config }
    let plan: BatchPlan
    let data: TrainingData
    let model: GPT
    let optimizer: AdamW
    let schedule: LearningRateSchedule
    let log: RunLog
    let store: CheckpointStore?
    /// Which pieces of the flat parameter buffer this rank updates (ZeRO-1, see `ShardPlan`);
    /// nil when every rank updates everything (`train.shard_optimizer: false`).
    let shards: ShardPlan?
    let ownPieces: [Range<Int>]
    /// The part of `ownPieces` that is trained (`TrainingObjective.trainedParameters`): what gets
    /// noise and AdamW steps.
    let trainedPieces: [Range<Int>]
    /// The pieces whose squares this rank adds to the global gradient norm: its shard, or without
    /// sharding the same split of the identical gradients, so the ranks share that pass rather
    /// than one rank making it while the others wait at the next step's reduction.
    let normPieces: [Range<Int>]
    var state: TrainingState
    /// Time spent in the per-step collectives since the last log line.
    var communicationSeconds = 0.0
    /// The part of `communicationSeconds` spent waiting for the slowest rank to finish its
    /// backward: a barrier ahead of the gradient reduction, so what the reduction itself then
    /// takes is the data's cost alone.
    var waitSeconds = 0.0
    /// The last step's duration, and whether the first save has been held against mpirun's
    /// stop grace (`StopSignal.graceNote`).
    var lastStepSeconds = 0.0
    var stopGraceChecked = false
    /// TEST ONLY: the faults `SWIFT_LLM_TRAIN_FAULT` asks for (see `FaultPlan`).
    let faults: FaultPlan
    /// Ends a rank whose step outlasts train.step_timeout_s (nil when 0: off).
    let watchdog: StepWatchdog?
    /// What a step optimises: language modelling unless a task objective is given.
    let objective: TrainingObjective
    /// checkpoint.async: the copy the background writer writes from (allocated at the first
    /// save, then reused), and the write in progress (see Trainer+AsyncCheckpoint.swift).
    var snapshot: CheckpointSnapshot?
    var pendingSave: PendingSave?

    /// `makeObjective` builds a task objective (LLMTasks); nil trains the language model, with
    /// `privacy.enabled` by the step `privateLanguageModel` makes for the train split's window count (LLMPrivacy).
    public init(options: TrainOptions, comm: Communicator,
                makeObjective: ((ObjectiveContext) throws -> TrainingObjective)? = nil,
                privateLanguageModel: ((ObjectiveContext, Int) throws -> PrivateLanguageModelStep)? = nil) throws {
        self.options = options
        let config = options.config
        faults = try FaultPlan.fromEnvironment(runDirectory: options.runDirectory)
        watchdog = config.train.stepTimeout > 0
            ? StepWatchdog(timeout: config.train.stepTimeout, rank: comm.rank, worldSize: comm.worldSize) : nil
        self.comm = watchdog.map { WatchedCommunicator(comm, watchdog: $0) } ?? comm
        plan = try config.batchPlan(worldSize: comm.worldSize)
        try FileManager.default.createDirectory(at: options.runDirectory, withIntermediateDirectories: true)
        log = try RunLog(runDirectory: options.runDirectory, enabled: comm.isCoordinator)
        data = try TrainingData.open(config: config, runDirectory: options.runDirectory, comm: comm, log: log)

        BLASThreads.set(config.train.threads > 0 ? config.train.threads
                        : (comm.worldSize > 1 ? 1 : ProcessInfo.processInfo.activeProcessorCount))
        let seed = UInt64(config.train.seed)
        let context = ObjectiveContext(config: config, plan: plan, rank: comm.rank, datasetDirectory: data.directory)
        objective = try makeObjective?(context) ?? LanguageModelObjective(
            context: context, data: data,
            privateStep: config.privacy.enabled ? try privateLanguageModel?(context, data.train.windowCount) : nil)
        // The ranks of one host keep the weights and gradients in memory they share, so the
        // sharded step's reduce-scatter and all-gather read each other's copies in place.
        let count = GPT.parameterCount(config: config.model, extraTensors: objective.headTensors)
        var storage: (parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeMutableBufferPointer<Float>)?
        if config.train.shardOptimizer, let parameters = try comm.sharedFloats(count: count),
           let gradients = try comm.sharedFloats(count: count) {
            storage = (parameters, gradients)
        }
        model = GPT(config: config.model, batchSize: plan.microBatch, sequenceLength: config.train.sequenceLength, seed: seed,
                    extraTensors: objective.headTensors, recompute: config.train.recompute, storage: storage)
        model.debugChecks = options.debug
        optimizer = AdamW(parameterCount: model.parameterCount, config: config.optimizer.adamW)
        schedule = LearningRateSchedule(maxLR: config.optimizer.learningRate, minLR: config.optimizer.minLearningRate,
                                        warmupSteps: config.optimizer.warmupSteps, totalSteps: config.train.steps)
        shards = config.train.shardOptimizer ? ShardPlan(count: model.parameterCount, worldSize: comm.worldSize) : nil
        ownPieces = shards?.pieces(rank: comm.rank) ?? [0..<model.parameterCount]
        let normSplit = shards ?? (comm.worldSize > 1 ? ShardPlan(count: model.parameterCount, worldSize: comm.worldSize) : nil)
        normPieces = normSplit?.pieces(rank: comm.rank) ?? ownPieces
        let trained = try objective.trainedParameters(of: model)
        trainedPieces = ownPieces.map { $0.clamped(to: trained) }.filter { !$0.isEmpty }
        store = comm.isCoordinator ? try CheckpointStore(runDirectory: options.runDirectory, keepLast: config.checkpoint.keepLast) : nil
        state = TrainingState(model: config.model, tokenizerSHA256: data.tokenizerSHA256, configYAML: try config.yaml(),
                              worldSize: comm.worldSize)
        state.modelRNGState = model.rng.state
        state.task = objective.task
        if config.privacy.enabled && objective.privacy == nil {
            throw TrainingError("privacy.enabled: this trainer was built without DP-SGD for the language model "
                                + "(the CLI's `train` and `privacy-audit` have it); train without privacy.enabled")
        }

        if let resume = try resolveAuto(options.resume) {
            try restore(resume)
        } else {
            if let store, let existing = try store.latest() {
                throw TrainingError("\(options.runDirectory.path) already holds checkpoints (latest: "
                                    + "\(existing.name)); pass --resume to continue that run, or choose a new "
                                    + "--run-dir")
            }
            if !config.task.initFrom.isEmpty { try loadPretrainedTrunk(config.task.initFrom) }
            // Every rank initialised from the same seed; broadcasting rank 0's weights makes the
            // replicas identical by construction, not by trust in bitwise-identical init.
            try comm.broadcast(UnsafeMutableRawBufferPointer(model.parameters), root: 0)
        }
        try agreeOnNoiseSeed()
    }

    /// Every rank adds the coordinator's noise stream: a fresh run's seed (drawn by each rank's
    /// objective) or the resumed checkpoint's.
    private func agreeOnNoiseSeed() throws {
        guard let privacy = objective.privacy else { return }
        if let saved = state.privacy { privacy.noiseSeed = saved.noiseSeed }
        var seed = [privacy.noiseSeed]
        try comm.broadcast(&seed, root: 0)
        privacy.noiseSeed = seed[0]
        state.privacy = privacy.spent(afterSteps: state.step)
    }

    /// `.auto` becomes `.latest` when the coordinator finds a checkpoint in the run directory, and
    /// nil (a fresh start) otherwise; every rank learns rank 0's answer.
    private func resolveAuto(_ request: ResumeRequest?) throws -> ResumeRequest? {
        guard request == .auto else { return request }
        var found: [UInt8] = [(try store?.latest()) != nil ? 1 : 0]
        try comm.broadcast(&found, root: 0)
        if found[0] == 0 { log.note("--resume auto: no checkpoint in \(options.runDirectory.path) yet; starting fresh") }
        return found[0] == 1 ? .latest : nil
    }

    /// Trains until `train.steps`, a stop signal, or too many non-finite steps.
    @discardableResult
    public func run() throws -> TrainingState {
        StopSignal.install()  // again for in-process callers; the CLI installs it before MPI starts
        watchdog?.start(completed: state.step)
        defer { watchdog?.stop() }
        defer { settlePendingSave() }  // an error on the way out still lets a pending save finish
        log.note(describeStart())
        if let note = BLASThreads.narrowKernelNote { log.note("note: \(note)") }
        // The hardware line and model size, for `swift-llm-train report`.
        log.record(["step": Double(state.step), "world_size": Double(comm.worldSize), "threads": Double(BLASThreads.current),
                    "parameters": Double(model.parameterCount)], strings: ["blas_kernel": BLASThreads.coreName], event: "start")
        if state.step >= config.train.steps {
            log.note("nothing to do: the run is at step \(state.step) of train.steps=\(config.train.steps); raise "
                     + "--steps to train further")
        }
        var windowStart = monotonicSeconds(), windowTokens = 0.0, windowPadding = 0.0, windowStartStep = state.step
        let runStart = monotonicSeconds() - state.elapsedSeconds

        while state.step < config.train.steps {
            let step = state.step, stepStart = monotonicSeconds()
            watchdog?.stepStarts(completed: step)
            let (loss, norm, stopSignalled, tokens, padding) = try computeGradients(step: step)
            let stopRequested = stopSignalled || options.untilStep.map { step + 1 >= $0 } ?? false
            if stopSignalled { markStoppedBySignal() }
            let lr = schedule.rate(at: step)
            let finite = loss.isFinite && norm.isFinite
            if finite {
                try applyUpdate(norm: norm, learningRate: lr)
                state.consecutiveBadSteps = 0
                state.lastTrainLoss = Double(loss)
            } else {
                state.consecutiveBadSteps += 1
                state.skippedSteps += 1
                log.note("step \(step + 1): non-finite \(loss.isFinite ? "gradient norm" : "loss") (\(loss), norm "
                         + "\(norm)); step skipped (\(state.consecutiveBadSteps) in a row, limit "
                         + "train.max_bad_steps=\(config.train.maxBadSteps))")
            }
            state.step += 1
            lastStepSeconds = monotonicSeconds() - stepStart
            state.tokensSeen += tokens
            state.optimizerStep = optimizer.step
            state.elapsedSeconds = monotonicSeconds() - runStart
            state.privacy = objective.privacy?.spent(afterSteps: state.step)
            windowTokens += Double(tokens)
            windowPadding += Double(padding)

            if state.consecutiveBadSteps > config.train.maxBadSteps {
                // The weights were not touched by the bad steps: they are the last good state.
                try saveCheckpoint(validationLoss: nil)
                throw TrainingError("stopped at step \(state.step): \(state.consecutiveBadSteps) non-finite steps in "
                                    + "a row (train.max_bad_steps=\(config.train.maxBadSteps)); the last good weights "
                                    + "are in the checkpoint just saved. Lower optimizer.learning_rate or check the "
                                    + "data")
            }
            if finite && (state.step % config.train.logEvery == 0 || state.step == config.train.steps || stopRequested) {
                let elapsed = monotonicSeconds() - windowStart
                // Real tokens only. MFU counts the LM head's FLOPs, which a task objective does
                // not run, so it is reported for language modelling only.
                let tokensPerSecond = windowTokens / elapsed
                let paddingShare = windowPadding / max(windowTokens + windowPadding, 1)
                let threads = comm.worldSize * BLASThreads.current
                let mfu = modelFLOPsUtilization(config: config.model, sequenceLength: config.train.sequenceLength,
                                                tokensPerSecond: (windowTokens + windowPadding) / elapsed, threads: threads)
                let eta = Double(config.train.steps - state.step) * elapsed / Double(state.step - windowStartStep)
                var fields = ["step": Double(state.step), "train_loss": Double(loss), "lr": Double(lr),
                              "grad_norm": Double(norm), "tokens_per_s": tokensPerSecond,
                              "tokens": Double(state.tokensSeen), "elapsed_s": state.elapsedSeconds,
                              "comm_share": communicationSeconds / elapsed]
                if comm.worldSize > 1 { fields["comm_wait_share"] = waitSeconds / elapsed }
                let languageModel = objective.task == nil
                if languageModel { fields["mfu"] = mfu } else { fields["padding_share"] = paddingShare }
                if let epsilon = state.privacy?.epsilon { fields["epsilon"] = epsilon }
                log.record(fields, event: "train")
                var efficiency = languageModel ? "MFU \(format(mfu * 100, 1))%" : "padding \(format(paddingShare * 100, 1))%"
                if let privacy = state.privacy {
                    let epsilon = privacy.epsilon.map { format($0, 3) } ?? "∞"
                    efficiency += " | ε \(epsilon) (δ \(String(format: "%.1e", privacy.delta)))"
                }
                log.progress("step \(state.step)/\(config.train.steps) | loss \(format(Double(loss), 4)) | lr "
                             + "\(String(format: "%.2e", lr)) | norm \(format(Double(norm), 3)) | "
                             + "\(Int(tokensPerSecond)) tok/s | \(efficiency) | ETA \(formatDuration(eta))")
                windowStart = monotonicSeconds()
                windowStartStep = state.step
                windowTokens = 0
                windowPadding = 0
                communicationSeconds = 0
                waitSeconds = 0
            }
            try faults.apply(afterStep: state.step, rank: comm.rank, parameters: model.parameters)
            try collectFinishedSave()
            if config.train.driftCheckEvery > 0 && state.step % config.train.driftCheckEvery == 0 {
                try checkReplicasAgree()
            }
            let last = state.step == config.train.steps
            // What `best` goes by, lower is better: the LM's validation loss, a classifier's
            // 1 - macro-F1, a regressor's RMSE (the checkpoint manifest's validation_loss).
            var validationLoss: Double?
            if last || (config.eval.every > 0 && state.step % config.eval.every == 0) {
                validationLoss = try evaluate().selectionLoss
            }
            if last || stopRequested || (config.checkpoint.every > 0 && state.step % config.checkpoint.every == 0) {
                try saveCheckpoint(validationLoss: validationLoss)
            }
            if stopRequested && !last {
                let cause = options.untilStep == nil ? "SIGTERM/SIGINT/SIGUSR1" : "--until-step"
                log.note("stopped after step \(state.step) with a checkpoint (\(cause)); continue with --resume")
                break
            }
        }
        try finishPendingSave()
        log.flushConsole()
        try comm.barrier()
        return state
    }

    /// Forward and backward over this rank's share of global batch `step` (the objective's
    /// work), then the gradient average of this rank's shard. Returns the global mean loss, the
    /// global gradient norm, whether any rank asked to stop, and the step's real and padding tokens.
    private func computeGradients(step: Int) throws -> (loss: Float, norm: Float, stop: Bool, tokens: Int, padding: Int) {
        model.zeroGradients()
        let batch = try objective.accumulateGradients(step: step, model: model, debug: options.debug)
        let communicationStart = monotonicSeconds()
        if comm.worldSize > 1 {
            try comm.barrier()
            waitSeconds += monotonicSeconds() - communicationStart
        }
        // The mean over ranks, formed as each piece arrives (no pass of its own over the gradients).
        if let shards { try comm.reduceScatter(model.gradients, shards, .average) } else {
            try comm.allReduce(model.gradients, .average)
        }
        communicationSeconds += monotonicSeconds() - communicationStart
        objective.privacy?.addNoise(to: model.gradients, ranges: trainedPieces, step: step)
        // Loss, this rank's part of the squared gradient norm and the stop flag ride in one tiny all-reduce,
        // so all ranks agree on all three. Each square is counted once, by one rank (normPieces).
        let squares = sumOfSquares(model.gradients, in: normPieces)
        let smallStart = monotonicSeconds()
        let reduced = try comm.allReduce([batch.loss, squares, StopSignal.isRequested ? 1 : 0,
                                          Double(batch.tokens), Double(batch.paddingTokens)], .sum)
        communicationSeconds += monotonicSeconds() - smallStart
        return (Float(reduced[0] / Double(comm.worldSize)), Float(reduced[1].squareRoot()), reduced[2] > 0,
                Int(reduced[3]), Int(reduced[4]))
    }

    /// Clips and applies AdamW to this rank's shard, then gathers every rank's updated shard so
    /// all replicas hold the same weights again.
    private func applyUpdate(norm: Float, learningRate: Float) throws {
        let clip = config.optimizer.gradClip > 0 ? clipScale(norm: norm, maxNorm: config.optimizer.gradClip) : nil
        optimizer.update(model: model, learningRate: learningRate, ranges: trainedPieces, gradientScale: clip ?? 1)
        if let shards {
            let communicationStart = monotonicSeconds()
            try comm.allGather(model.parameters, shards)
            communicationSeconds += monotonicSeconds() - communicationStart
        }
    }

    /// Collective: every rank contributes its shard of the AdamW moments (each rank keeps only
    /// its own pieces current), then the coordinator writes the checkpoint.
    func saveCheckpoint(validationLoss: Double?) throws {
        let start = monotonicSeconds()
        if let shards {
            try comm.allGather(optimizer.m, shards)
            try comm.allGather(optimizer.v, shards)
        }
        let gatherSeconds = monotonicSeconds() - start
        guard let store else { return }
        if config.checkpoint.asynchronous {
            return try startBackgroundSave(store: store, validationLoss: validationLoss, since: start,
                                           gatherSeconds: gatherSeconds)
        }
        let checkpoint = try store.save(step: state.step, state: state, validationLoss: validationLoss) { dir in
            try ModelCheckpoint.write(model: model, optimizer: optimizer, into: dir, metadata: checkpointMetadata)
            try Self.writeConfig(of: state, into: dir)
        }
        log.note("step \(state.step): checkpoint \(checkpoint.directory.path)")
        let seconds = monotonicSeconds() - start
        recordCheckpoint(checkpoint, stallSeconds: seconds, gatherSeconds: gatherSeconds, writeSeconds: seconds,
                         waitSeconds: 0, overlappedSteps: 0)
    }

    /// The marker `launch` reads to tell a user's or scheduler's stop from a failure: written by
    /// the coordinator as soon as the ranks agree to stop on a signal, before the checkpoint, so
    /// it is there even when mpirun then kills the ranks or itself exits non-zero.
    private func markStoppedBySignal() {
        guard comm.isCoordinator else { return }
        let marker = options.runDirectory.appendingPathComponent(Trainer.stopMarkerName)
        let text = "stopped by a signal (SIGTERM/SIGINT/SIGUSR1) after step \(state.step + 1)\n"
        try? Data(text.utf8).write(to: marker, options: .atomic)
    }

    /// See `markStoppedBySignal`.
    public static let stopMarkerName = "stopped-by-signal"

    private func describeStart() -> String {
        "training \(describe(config.model)), \(model.parameterCount) parameters | \(comm.worldSize) "
        + "rank\(comm.worldSize == 1 ? "" : "s") x \(BLASThreads.current) "
        + "thread\(BLASThreads.current == 1 ? "" : "s") (OpenBLAS \(BLASThreads.coreName)) | global batch "
        + "\(config.train.globalBatch) x \(config.train.sequenceLength) tokens = \(plan.microBatch) per micro-batch x "
        + "\(plan.accumulationSteps) accumulation x \(comm.worldSize) ranks | \(objective.description) | run dir "
        + "\(options.runDirectory.path)"
    }
}

/// "2 layers, d_model 64, 2 heads, vocab 512, context 64, gelu": the training log and the run report.
public func describe(_ model: GPTConfig) -> String {
    "\(model.layers) layers, d_model \(model.modelDim), \(model.heads) heads, vocab \(model.vocabSize), context "
    + "\(model.contextLength), \(model.activation.rawValue)"
}

func describe(_ task: TaskIdentity?) -> String {
    guard let task else { return "language modelling" }
    return "\(task.kind) task '\(task.name)' with labels [\(task.labels.joined(separator: ", "))]"
}

func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "?" }
    let s = Int(seconds.rounded())
    return s >= 3600 ? "\(s / 3600)h\(String(format: "%02d", s % 3600 / 60))m" : s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
}
