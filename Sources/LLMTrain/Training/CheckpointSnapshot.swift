import Foundation
import LLMModel

/// The coordinator's copy of the weights and AdamW moments at a save, which a background thread
/// writes while training changes the originals. Allocated once, at the first asynchronous save,
/// and reused by every later one: first touch of fresh memory runs at ~1.7 GB/s on these VMs
/// versus ~25 GB/s on reuse (PLATFORM.md), so only the first save pays the page faults.
///
/// `@unchecked Sendable` because the buffer is shared by two threads without a lock, safely by
/// the trainer's protocol: the training thread writes it only in `capture`, which the trainer
/// calls only once the previous background write has ended (it waits for it first), and the
/// write thread reads it only between that `capture` and its own end. The thread start and the
/// end-of-write semaphore (`BackgroundWrite`) order the two: no access ever overlaps.
final class CheckpointSnapshot: @unchecked Sendable {
    let tensors: [ParameterTensor]
    private let storage: UnsafeMutableBufferPointer<Float>
    private let count: Int

    init(tensors: [ParameterTensor], parameterCount: Int) {
        self.tensors = tensors
        count = parameterCount
        storage = .allocate(capacity: 3 * parameterCount)
    }

    deinit { storage.deallocate() }

    private func part(_ index: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(rebasing: storage[index * count..<(index + 1) * count])
    }

    /// Copies weights and both moments (call only while no write of this snapshot is running).
    func capture(parameters: UnsafeMutableBufferPointer<Float>, m: UnsafeMutableBufferPointer<Float>,
                 v: UnsafeMutableBufferPointer<Float>) {
        for (index, source) in [parameters, m, v].enumerated() {
            precondition(source.count == count, "snapshot of \(count) parameters given \(source.count)")
            _ = part(index).update(fromContentsOf: source)
        }
    }

    /// Writes `model.safetensors` and `optimizer.safetensors` from the copies.
    func write(into directory: URL, optimizerStep: Int, metadata: [String: String],
               afterWeights: () throws -> Void = {}) throws {
        try ModelCheckpoint.write(tensors: tensors, parameters: UnsafeBufferPointer(part(0)),
                                  m: UnsafeBufferPointer(part(1)), v: UnsafeBufferPointer(part(2)),
                                  optimizerStep: optimizerStep, into: directory, metadata: metadata,
                                  afterWeights: afterWeights)
    }
}
