import Foundation
import LLMSupport

/// A checkpoint the coordinator is writing in the background (checkpoint.async).
struct PendingSave {
    let step: Int
    let write: BackgroundWrite
    /// How long the save blocked the training loop: gathering the moments, waiting for the
    /// previous write, copying into the snapshot.
    let stallSeconds: Double
    let gatherSeconds: Double
}

extension Trainer {
    var checkpointMetadata: [String: String] {
        ["format": "pt", "step": "\(state.step)", "model": "swift-llm-train GPT"]
    }

    static func writeConfig(of state: TrainingState, into directory: URL) throws {
        try Data(state.configYAML.utf8).write(to: directory.appendingPathComponent("config.yaml"))
    }

    /// The next save waits for the previous one (and fails on its error), then the weights and
    /// moments are copied into the snapshot and `CheckpointStore.save` runs on its own thread:
    /// the same atomic save as a synchronous one (staging directory, fsync, manifest, rename,
    /// then `latest`), so a crash at any moment still leaves `latest` on a complete checkpoint.
    func startBackgroundSave(store: CheckpointStore, validationLoss: Double?, since start: Double,
                             gatherSeconds: Double) throws {
        try finishPendingSave()
        let snapshot = self.snapshot ?? CheckpointSnapshot(tensors: model.tensors, parameterCount: model.parameterCount)
        self.snapshot = snapshot
        snapshot.capture(parameters: model.parameters, m: optimizer.m, v: optimizer.v)
        let state = self.state, optimizerStep = optimizer.step, metadata = checkpointMetadata, faults = self.faults
        let rank = comm.rank
        let write = BackgroundWrite(name: "checkpoint-\(state.step)") {
            try store.save(step: state.step, state: state, validationLoss: validationLoss) { dir in
                try snapshot.write(into: dir, optimizerStep: optimizerStep, metadata: metadata) {
                    try faults.applyWhileSaving(step: state.step, rank: rank)
                }
                try Trainer.writeConfig(of: state, into: dir)
            }
        }
        pendingSave = PendingSave(step: state.step, write: write, stallSeconds: monotonicSeconds() - start,
                                  gatherSeconds: gatherSeconds)
    }

    /// Blocks until the background write (if any) has ended; logs it, or throws its error.
    func finishPendingSave() throws {
        guard let pending = pendingSave else { return }
        let start = monotonicSeconds()
        let outcome = pending.write.wait()
        try finish(pending, outcome, waitSeconds: monotonicSeconds() - start)
    }

    /// Once a step, without blocking: reports a background write that has ended, so a failed one
    /// stops the run at once rather than at the next save.
    func collectFinishedSave() throws {
        guard let pending = pendingSave, let outcome = pending.write.finishedOutcome else { return }
        try finish(pending, outcome, waitSeconds: 0)
    }

    /// On the way out of `run` by an error: the pending write holds a good checkpoint, so it is
    /// waited for, never cut short; its own failure is logged (the error being thrown is the
    /// one the user sees).
    func settlePendingSave() {
        guard pendingSave != nil else { return }
        do { try finishPendingSave() } catch { log.note("\(error)") }
    }

    private func finish(_ pending: PendingSave, _ outcome: BackgroundWrite.Outcome, waitSeconds: Double) throws {
        pendingSave = nil
        switch outcome.result {
        case .success(let checkpoint):
            log.note("step \(pending.step): checkpoint \(checkpoint.directory.path) (written in the background in "
                     + "\(format(outcome.seconds, 2)) s; the save stalled training "
                     + "\(format(pending.stallSeconds, 3)) s)")
            recordCheckpoint(checkpoint, stallSeconds: pending.stallSeconds, gatherSeconds: pending.gatherSeconds,
                             writeSeconds: outcome.seconds, waitSeconds: waitSeconds,
                             overlappedSteps: state.step - pending.step)
        case .failure(let failure):
            throw TrainingError("the checkpoint of step \(pending.step), written in the background, failed: "
                                + "\(failure); latest still names the previous complete checkpoint")
        }
    }

    /// The `checkpoint` event of metrics.jsonl. stall_s: how long the save blocked the training
    /// loop, of which gather_s gathering the AdamW moments from their ZeRO-1 shards (every rank
    /// waits for it, whatever the mode); write_s: how long the write took; wait_s: how long the
    /// loop later waited for this background write to end (at the next save or the end);
    /// overlapped_steps: the steps trained while it was written.
    func recordCheckpoint(_ checkpoint: Checkpoint, stallSeconds: Double, gatherSeconds: Double, writeSeconds: Double,
                          waitSeconds: Double, overlappedSteps: Int) {
        log.record(["step": Double(checkpoint.step), "stall_s": stallSeconds, "gather_s": gatherSeconds,
                    "write_s": writeSeconds,
                    "wait_s": waitSeconds, "overlapped_steps": Double(overlappedSteps),
                    "async": config.checkpoint.asynchronous ? 1 : 0],
                   strings: ["path": checkpoint.directory.path], event: "checkpoint")
        if !stopGraceChecked {
            stopGraceChecked = true
            let saveSeconds = config.checkpoint.asynchronous ? stallSeconds + writeSeconds : stallSeconds
            if let note = StopSignal.graceNote(stepSeconds: lastStepSeconds, saveSeconds: saveSeconds,
                                               environment: ProcessInfo.processInfo.environment) {
                log.note(note)
            }
        }
    }
}
