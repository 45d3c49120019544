import LLMData

/// One micro-batch of training windows, inputs and targets (`windows` x `length` tokens, row-major),
/// allocated once: what the language-model objective and its DP-SGD step feed the model.
public final class WindowBatch {
    public let inputs, targets: UnsafeMutableBufferPointer<Int32>
    let windows, length: Int

    public init(windows: Int, length: Int) {
        self.windows = windows
        self.length = length
        inputs = .allocate(capacity: windows * length)
        targets = .allocate(capacity: windows * length)
        inputs.initialize(repeating: 0)
        targets.initialize(repeating: 0)
    }

    deinit {
        inputs.deallocate()
        targets.deallocate()
    }

    /// Row b gets window `samples[b]` of `sampler`; a short batch repeats its first sample in the
    /// remaining rows (the caller gives them no weight).
    public func fill<S: Collection<Int>>(_ samples: S, from sampler: WindowSampler) {
        precondition(!samples.isEmpty && samples.count <= windows, "1...\(windows) windows per micro-batch")
        var sample = samples.makeIterator()
        let first = samples.first!
        for b in 0..<windows {
            sampler.fill(sample: sample.next() ?? first, inputs: inputs.baseAddress! + b * length,
                         targets: targets.baseAddress! + b * length)
        }
    }
}
