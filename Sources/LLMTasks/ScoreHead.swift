import LLMModel
import LLMTrain

/// The task head over the trunk: pool each post's hidden states to one vector, then a linear
/// map without bias to the outputs, `score.weight` [outputs, C] in the model's flat buffer (so
/// the optimiser, shards and checkpoints treat it like any other tensor).
/// Posts are right-padded and pooled by `PaddedPosts`.
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

    /// Runs `posts` as one padded micro-batch (`PaddedPosts.forward`); returns the padded length.
    /// Logits in `logits`.
    @discardableResult
    public func forward(model: GPT, posts: [[Int32]], padID: Int32) -> Int {
        lengths = posts.map(\.count)
        time = PaddedPosts.forward(model: model, posts: posts, padID: padID, inputs: inputs)
        let C = channels, K = spec.outputs, w = weight(model.parameters.baseAddress!, model)
        for b in 0..<posts.count {
            let v = pooled + b * C
            PaddedPosts.pool(model: model, post: b, length: lengths[b], time: time, pooling: spec.pooling, into: v)
            for k in 0..<K {
                var z: Float = 0
                for c in 0..<C { z += w[k * C + c] * v[c] }
                logits[b * K + k] = z
            }
        }
        return time
    }

    /// Given d(loss)/d(logits) (b, outputs) for the last forward, adds the head's and the trunk's
    /// gradients into `model.gradients`. With `model.perExampleNorms` set (DP-SGD), the head's
    /// per-post norms join the trunk's, and its gradient waits in the book with the trunk's.
    public func backward(model: GPT, dlogits: UnsafePointer<Float>) {
        let C = channels, K = spec.outputs, B = lengths.count
        let w = weight(model.parameters.baseAddress!, model), dw = weight(model.gradients.baseAddress!, model)
        dHidden.update(repeating: 0, count: B * time * C)
        for b in 0..<B {
            let d = dlogits + b * K
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
        model.perExampleNorms?.add(squaredHeadGradientNorms(dlogits: dlogits))
        let pooled = pooled
        model.weightGradient(UnsafeMutablePointer(mutating: dlogits), rowsPerExample: 1, width: K) { dlogits in
            for b in 0..<B {
                let v = pooled + b * C, d = dlogits + b * K
                for k in 0..<K { for c in 0..<C { dw[k * C + c] += d[k] * v[c] } }
            }
        }
    }

    /// Each post's squared norm of its own score.weight gradient, d_b v_b^T: ||d_b||^2 ||v_b||^2.
    private func squaredHeadGradientNorms(dlogits: UnsafePointer<Float>) -> [Double] {
        let C = channels, K = spec.outputs
        return (0..<lengths.count).map { b in
            let d = (0..<K).reduce(0.0) { $0 + Double(dlogits[b * K + $1]) * Double(dlogits[b * K + $1]) }
            let v = (0..<C).reduce(0.0) { $0 + Double(pooled[b * C + $1]) * Double(pooled[b * C + $1]) }
            return d * v
        }
    }

    /// Which of post b's positions the pooling reads.
    private func pooledPositions(_ b: Int) -> Range<Int> {
        PaddedPosts.positions(spec.pooling, length: lengths[b])
    }

    private func weight(_ base: UnsafeMutablePointer<Float>, _ model: GPT) -> UnsafeMutablePointer<Float> {
        base + offset
    }
}
