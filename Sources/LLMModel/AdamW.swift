import Foundation

public struct AdamWConfig: Codable, Equatable, Sendable {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var eps: Float
    public var weightDecay: Float

    public init(learningRate: Float = 3e-4, beta1: Float = 0.9, beta2: Float = 0.95, eps: Float = 1e-8,
                weightDecay: Float = 0.1) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
    }
}

/// AdamW (Loshchilov & Hutter) with PyTorch's update rule. For step t (1-based, counted in `step`):
///   m = b1 m + (1 - b1) g ;  v = b2 v + (1 - b2) g^2
///   p = p - lr * ( (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps) + wd * p )
/// where wd applies only to tensors with `decays` (rank >= 2: matrices and embeddings, as nanoGPT).
/// `m`, `v` (parallel to the parameters) and `step` are public so a checkpoint can save them.
public final class AdamW {
    public var config: AdamWConfig
    public let m: UnsafeMutableBufferPointer<Float>
    public let v: UnsafeMutableBufferPointer<Float>
    public var step = 0

    public init(parameterCount: Int, config: AdamWConfig = AdamWConfig()) {
        self.config = config
        m = .allocate(capacity: parameterCount)
        m.initialize(repeating: 0)
        v = .allocate(capacity: parameterCount)
        v.initialize(repeating: 0)
    }

    deinit {
        m.deallocate()
        v.deallocate()
    }

    /// One step on `model.parameters` from `model.gradients`; `learningRate` overrides
    /// config.learningRate (pass the schedule's value).
    public func update(model: GPT, learningRate: Float? = nil) {
        update(parameters: model.parameters, gradients: model.gradients, tensors: model.tensors,
               learningRate: learningRate ?? config.learningRate)
    }

    /// The same step over any flat buffer split into tensors (used by the tests).
    public func update(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeMutableBufferPointer<Float>,
                       tensors: [ParameterTensor], learningRate lr: Float) {
        precondition(parameters.count == m.count && gradients.count == m.count)
        step += 1
        let b1 = config.beta1, b2 = config.beta2, eps = config.eps
        let c1 = 1 - Float(Foundation.pow(Double(b1), Double(step)))
        let c2 = 1 - Float(Foundation.pow(Double(b2), Double(step)))
        let p = parameters.baseAddress!, g = gradients.baseAddress!, mm = m.baseAddress!, vv = v.baseAddress!
        for t in tensors {
            let wd = t.decays ? config.weightDecay : 0
            for i in t.offset..<(t.offset + t.count) {
                let gi = g[i]
                let mi = b1 * mm[i] + (1 - b1) * gi
                let vi = b2 * vv[i] + (1 - b2) * gi * gi
                mm[i] = mi
                vv[i] = vi
                let update = (mi / c1) / ((vi / c2).squareRoot() + eps)
                p[i] -= lr * (update + wd * p[i])
            }
        }
    }
}

/// The global L2 norm of `gradients`, accumulated in Double so it does not depend on the
/// buffer's size or order of magnitude.
public func gradientNorm(_ gradients: UnsafeMutableBufferPointer<Float>) -> Float {
    var sum: Double = 0
    for x in gradients { sum += Double(x) * Double(x) }
    return Float(sum.squareRoot())
}

/// Global-norm clipping: if the norm exceeds `maxNorm`, scales every gradient by
/// maxNorm / (norm + 1e-6), as torch.nn.utils.clip_grad_norm_. Returns the norm before clipping.
/// Call after the all-reduce so every rank clips identically.
@discardableResult
public func clipGradients(_ gradients: UnsafeMutableBufferPointer<Float>, maxNorm: Float) -> Float {
    let norm = gradientNorm(gradients)
    if norm > maxNorm {
        let scale = maxNorm / (norm + 1e-6)
        for i in gradients.indices { gradients[i] *= scale }
    }
    return norm
}
