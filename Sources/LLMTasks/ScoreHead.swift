import LLMModel
import LLMTrain

/// The task head over the trunk: pool each post's hidden states to one vector, then a linear
/// map without bias to the outputs, `score.weight` [outputs, C] in the model's flat buffer (so
/// the optimiser, shards and checkpoints treat it like any other tensor).
///
/// Posts are right-padded to the micro-batch's longest. With causal attention a real token never
/// sees the padding after it, so only the pooling needs the lengths: `last` reads the hidden
/// state of the post's last token (its `<|endoftext|>`), `mean` averages its real tokens.
public final class ScoreHead {
    public static let tensorName = ClassifierHead.tensorName

    public let spec: TaskSpec
    let channels, maxBatch, maxTime, offset: Int
    let inputs: UnsafeMutablePointer<Int32>
    /// (b, C) pooled vectors and (b, outputs) logits of the last forward; (b, t, C) d(hidden).
    let pooled, dHidden: UnsafeMutablePointer<Float>
    public let logits: UnsafeMutablePointer<Float>
    private(set) var lengths: [Int] = []
    private(set) var time = 0

    public init(spec: TaskSpec, model: GPT) {
        self.spec = spec
        channels = model.config.modelDim
        maxBatch = model.batchSize
        maxTime = model.sequenceLength
        guard let tensor = model.tensor(Self.tensorName), tensor.shape == [spec.outputs, channels] else {
            preconditionFailure("the model was built without the task's \(Self.tensorName) [\(spec.outputs), "
                                + "\(channels)]")
        }
        offset = tensor.offset
        inputs = .allocate(capacity: maxBatch * maxTime)
        pooled = .allocate(capacity: maxBatch * channels)
        logits = .allocate(capacity: maxBatch * spec.outputs)
        dHidden = .allocate(capacity: maxBatch * maxTime * channels)
        dHidden.initialize(repeating: 0, count: maxBatch * maxTime * channels)
    }

    deinit {
        inputs.deallocate()
        pooled.deallocate()
        logits.deallocate()
        dHidden.deallocate()
    }

    /// Runs `posts` (at most the model's batch, each at most its sequence length) as one
    /// micro-batch padded with `padID` to the longest; returns the padded length. Logits in `logits`.
    @discardableResult
    public func forward(model: GPT, posts: [[Int32]], padID: Int32) -> Int {
        precondition(!posts.isEmpty && posts.count <= maxBatch, "a micro-batch holds 1...batchSize posts")
        lengths = posts.map(\.count)
        time = lengths.max()!
        precondition(time <= maxTime && lengths.min()! >= 1, "posts must hold 1...sequenceLength tokens")
        for (b, ids) in posts.enumerated() {
            for i in 0..<time { inputs[b * time + i] = i < ids.count ? ids[i] : padID }
        }
        model.forwardHidden(inputs: inputs, batch: posts.count, time: time)
        let C = channels, K = spec.outputs, w = weight(model.parameters.baseAddress!, model)
        for b in 0..<posts.count {
            let v = pooled + b * C
            v.update(repeating: 0, count: C)
            for p in pooledPositions(b) {
                let h = model.hidden + (b * time + p) * C
                for c in 0..<C { v[c] += h[c] }
            }
            let scale = 1 / Float(pooledPositions(b).count)
            for c in 0..<C { v[c] *= scale }
            for k in 0..<K {
                var z: Float = 0
                for c in 0..<C { z += w[k * C + c] * v[c] }
                logits[b * K + k] = z
            }
        }
        return time
    }

    /// Given d(loss)/d(logits) (b, outputs) for the last forward, adds the head's and the trunk's
    /// gradients into `model.gradients`.
    public func backward(model: GPT, dlogits: UnsafePointer<Float>) {
        let C = channels, K = spec.outputs, B = lengths.count
        let w = weight(model.parameters.baseAddress!, model), dw = weight(model.gradients.baseAddress!, model)
        dHidden.update(repeating: 0, count: B * time * C)
        for b in 0..<B {
            let v = pooled + b * C, d = dlogits + b * K
            for k in 0..<K { for c in 0..<C { dw[k * C + c] += d[k] * v[c] } }
            let positions = pooledPositions(b)
            let scale = 1 / Float(positions.count)
            for p in positions {
                let dh = dHidden + (b * time + p) * C
                for c in 0..<C {
                    var s: Float = 0
                    for k in 0..<K { s += d[k] * w[k * C + c] }
                    dh[c] = s * scale
                }
            }
        }
        model.backwardHidden(dHidden)
    }

    /// Which of post b's positions the pooling reads.
    private func pooledPositions(_ b: Int) -> Range<Int> {
        spec.pooling == .last ? (lengths[b] - 1)..<lengths[b] : 0..<lengths[b]
    }

    private func weight(_ base: UnsafeMutablePointer<Float>, _ model: GPT) -> UnsafeMutablePointer<Float> {
        base + offset
    }
}
