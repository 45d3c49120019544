import Foundation
import Yams
import LLMModel
import LLMSupport

extension Trainer {
    /// Loads the checkpoint on rank 0 (verifying checksums), checks it fits this model and
    /// tokenizer, and broadcasts weights, moments and state to every rank.
    func restore(_ request: ResumeRequest) throws {
        var stateBytes: [UInt8] = []
        var failure: [UInt8] = []
        if let store {
            do {
                let checkpoint = try locate(request, store: store)
                let loaded = try checkpoint.loadState(TrainingState.self)
                guard loaded.model == config.model else {
                    throw TrainingError("\(checkpoint.directory.path): saved for model \(describe(loaded.model)), but "
                                        + "the config asks for \(describe(config.model)); resume with the config the "
                                        + "run was started with")
                }
                guard loaded.tokenizerSHA256 == data.tokenizerSHA256 else {
                    throw TrainingError("\(checkpoint.directory.path): saved with tokenizer sha256 "
                                        + "\(loaded.tokenizerSHA256.prefix(12))…, but this run's tokenizer is "
                                        + "\(data.tokenizerSHA256.prefix(12))…; resume with the same tokenizer and "
                                        + "dataset")
                }
                guard loaded.task == objective.task else {
                    throw TrainingError("\(checkpoint.directory.path): saved for \(describe(loaded.task)), but this "
                                        + "run trains \(describe(objective.task)); resume with the same task and "
                                        + "label set")
                }
                try checkConfigChanges(saved: loaded, checkpoint: checkpoint)
                try ModelCheckpoint.read(into: model, optimizer: optimizer, from: checkpoint.directory)
                stateBytes = Array(try JSONEncoder().encode(loaded))
                log.note("resumed from \(checkpoint.directory.path) at step \(loaded.step) (saved with "
                         + "\(loaded.worldSize) rank\(loaded.worldSize == 1 ? "" : "s"), now \(comm.worldSize))")
            } catch {
                failure = Array("\(error)".utf8)
            }
        }
        // Rank 0's verdict first, so no rank waits forever for weights that will never come.
        failure = try comm.broadcast(failure, root: 0)
        if !failure.isEmpty { throw TrainingError(String(decoding: failure, as: UTF8.self)) }
        stateBytes = try comm.broadcast(stateBytes, root: 0)
        var restored = try JSONDecoder().decode(TrainingState.self, from: Data(stateBytes))
        for buffer in [model.parameters, optimizer.m, optimizer.v] {
            try comm.broadcast(UnsafeMutableRawBufferPointer(buffer), root: 0)
        }
        optimizer.step = restored.optimizerStep
        model.rng.state = restored.modelRNGState
        restored.worldSize = comm.worldSize
        restored.configYAML = try config.yaml()
        state = restored
    }

    /// A resumed run optimises what the saved one did: a changed seed, batch, schedule or data
    /// is refused, naming each field, unless --allow-config-change accepts (and logs) it.
    /// A step-0 checkpoint (e.g. from `import`) has no optimisation to continue, so it is exempt.
    private func checkConfigChanges(saved: TrainingState, checkpoint: Checkpoint) throws {
        // At step 0 nothing has been optimised yet (an imported model): any config may start it.
        guard saved.step > 0 else { return }
        let savedConfig: TrainConfig
        do { savedConfig = try YAMLDecoder().decode(TrainConfig.self, from: saved.configYAML) } catch {
            throw TrainingError("\(checkpoint.directory.path)/state.json: its config cannot be read (\(error)); the "
                                + "checkpoint was written by an incompatible version")
        }
        let changed = try config.changes(from: savedConfig).filter { !TrainConfig.resumableFields.contains($0.field) }
        guard !changed.isEmpty else { return }
        let list = changed.map(\.change).joined(separator: "; ")
        guard options.allowConfigChange else {
            throw TrainingError("\(checkpoint.directory.path): the config differs from the one the run was saved with "
                                + "(\(list)); resume with the saved config "
                                + "(\(checkpoint.directory.path)/config.yaml), or pass --allow-config-change to "
                                + "continue with the new values")
        }
        log.note("--allow-config-change: continuing with changed settings: \(list)")
        log.record(changed.map(\.change), event: "config_change")
    }

    /// Fine-tuning starts from a pre-trained model: rank 0 copies every trunk tensor from it
    /// (the task head keeps its fresh initialisation); the caller then broadcasts the weights.
    func loadPretrainedTrunk(_ path: String) throws {
        var failure: [UInt8] = []
        if comm.isCoordinator {
            do {
                let pretrained = try TrainedModel(path: path)
                guard pretrained.state.tokenizerSHA256 == data.tokenizerSHA256 else {
                    throw TrainingError("\(pretrained.checkpoint.directory.path): pre-trained with tokenizer sha256 "
                                        + "\(pretrained.state.tokenizerSHA256.prefix(12))…, but this run's dataset "
                                        + "uses \(data.tokenizerSHA256.prefix(12))…; prepare the task data with the "
                                        + "pre-training tokenizer")
                }
                try pretrained.readWeights(into: model, skipping: Set(objective.headTensors.map(\.name)))
                state.pretrainedFrom = pretrained.checkpoint.directory.path
                state.pretrainingTokens = pretrained.state.tokensSeen
                log.note("initialised the trunk from \(pretrained.checkpoint.directory.path) (step "
                         + "\(pretrained.state.step), \(pretrained.state.tokensSeen) tokens of pre-training)")
            } catch {
                failure = Array("\(error)".utf8)
            }
        }
        failure = try comm.broadcast(failure, root: 0)
        if !failure.isEmpty { throw TrainingError(String(decoding: failure, as: UTF8.self)) }
    }

    private func locate(_ request: ResumeRequest, store: CheckpointStore) throws -> Checkpoint {
        var store = store
        var request = request
        if case .path(let path) = request,
           FileManager.default.fileExists(atPath: URL(fileURLWithPath: path).appendingPathComponent("checkpoints").path) {
            // A run directory: resume from its latest checkpoint.
            store = try CheckpointStore(runDirectory: URL(fileURLWithPath: path), keepLast: config.checkpoint.keepLast)
            request = .latest
        }
        switch request {
        case .latest, .auto:  // .auto is resolved to .latest or a fresh start before restoring
            guard let found = try store.latestValid(allowFallback: options.allowFallback) else {
                throw TrainingError("\(store.directory.path): no checkpoint to resume from; start without --resume")
            }
            for skipped in found.skipped {
                log.note("skipped corrupt checkpoint \(skipped.checkpoint.directory.path): \(skipped.reason)")
            }
            return found.checkpoint
        case .path(let path):
            let checkpoint = try store.resolve(path)
            _ = try checkpoint.verify()
            return checkpoint
        }
    }
}
