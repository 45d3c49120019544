import CLLMKernels
import Foundation

/// AdamW hyper-parameters; the defaults are nanoGPT's GPT-2 settings.
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
/// `m`, `v` (parallel to the parameters, zero at start) and `step` (updates done so far) are
/// public so a checkpoint can save and restore them.
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
    /// config.learningRate (pass the schedule's value). With `ranges`, only those elements of the
    /// flat buffers are updated: a data-parallel rank's shard (the rest of m and v goes stale).
    /// The step reads each gradient times `gradientScale` (global-norm clipping's factor): the
    /// same bits as scaling the gradients first, without a pass of its own over them.
    public func update(model: GPT, learningRate: Float? = nil, ranges: [Range<Int>]? = nil, gradientScale: Float = 1) {
        update(parameters: model.parameters, gradients: model.gradients, tensors: model.tensors,
               learningRate: learningRate ?? config.learningRate, ranges: ranges, gradientScale: gradientScale)
    }

    /// The same step over any flat buffer split into tensors (used by the tests).
    public func update(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeMutableBufferPointer<Float>,
                       tensors: [ParameterTensor], learningRate lr: Float, ranges: [Range<Int>]? = nil,
                       gradientScale: Float = 1) {
        precondition(parameters.count == m.count && gradients.count == m.count)
        step += 1
        let b1 = config.beta1, b2 = config.beta2, eps = config.eps
        let c1 = 1 - Float(Foundation.pow(Double(b1), Double(step)))
        let c2 = 1 - Float(Foundation.pow(Double(b2), Double(step)))
        let p = parameters.baseAddress!, g = gradients.baseAddress!, mm = m.baseAddress!, vv = v.baseAddress!
        // PyTorch's arrangement, m / (sqrt(v) / sqrt(c2) + eps) * (lr / c1), with the scalar
        // factors folded: one division and one square root per element (the loop is otherwise
        // memory bound, and division is the slowest vector instruction in it).
        let stepSize = lr / c1, invRootC2 = 1 / c2.squareRoot()
        // Each tensor (its weight decay differs) cut down to the requested ranges. Every element
        // sees the same operations wherever the cuts fall, so a sharded step equals a full one.
        let segments = tensors.flatMap { t -> [(Range<Int>, Float)] in
            let span = t.offset..<t.offset + t.count
            let lrwd = lr * (t.decays ? config.weightDecay : 0)
            return (ranges ?? [span]).map { $0.clamped(to: span) }.filter { !$0.isEmpty }.map { ($0, lrwd) }
        }
        for (segment, lrwd) in segments {
            Parallel.chunks(segment.count, minChunk: 1 << 15) { range in
                // Every element sees the same IEEE operations wherever a chunk boundary falls.
                let lo = segment.lowerBound + range.lowerBound
                llmk_adamw(p + lo, g + lo, mm + lo, vv + lo, range.count, gradientScale, b1, b2, stepSize, invRootC2, eps,
                           lrwd)
            }
        }
    }
}

/// Blocks of the norm's sum: fixed, so the result does not depend on the thread count.
private let normBlock = 1 << 14

/// The global L2 norm of `gradients`: squares summed in Float lanes per block of 16K, the
/// blocks summed in Double in order, so it is deterministic and accurate for any buffer size.
public func gradientNorm(_ gradients: UnsafeMutableBufferPointer<Float>) -> Float {
    Float(blockSumOfSquares(gradients.baseAddress!, gradients.count).squareRoot())
}

private func blockSumOfSquares(_ g: UnsafeMutablePointer<Float>, _ n: Int) -> Double {
    let blocks = (n + normBlock - 1) / normBlock
    return withUnsafeTemporaryAllocation(of: Double.self, capacity: max(blocks, 1)) { partial in
        let partial = partial.baseAddress!
        Parallel.chunks(blocks, minChunk: 8) { range in
            for block in range {
                let start = block * normBlock
                partial[block] = Double(llmk_dot(g + start, g + start, min(normBlock, n - start)))
            }
        }
        var sum = 0.0
        for block in 0..<blocks { sum += partial[block] }
        return sum
    }
}

/// Sum of squares of `gradients` over `ranges`, each range summed in fixed blocks as
/// `gradientNorm` does, so it is deterministic. A data-parallel rank sums its shard this way and
/// the ranks add their sums to get the global norm.
public func sumOfSquares(_ gradients: UnsafeMutableBufferPointer<Float>, in ranges: [Range<Int>]) -> Double {
    ranges.reduce(0.0) { $0 + blockSumOfSquares(gradients.baseAddress! + $1.lowerBound, $1.count) }
}

/// Multiplies `gradients` in `ranges` by `scale` (clipping a shard by the global norm).
public func scaleGradients(_ gradients: UnsafeMutableBufferPointer<Float>, by scale: Float, in ranges: [Range<Int>]) {
    let g = gradients.baseAddress!
    for range in ranges {
        Parallel.chunks(range.count, minChunk: 1 << 15) { sub in
            for i in (range.lowerBound + sub.lowerBound)..<(range.lowerBound + sub.upperBound) { g[i] *= scale }
        }
    }
}

/// Global-norm clipping: if the norm exceeds `maxNorm`, scales every gradient by
/// maxNorm / (norm + 1e-6), as torch.nn.utils.clip_grad_norm_. Returns the norm before clipping.
/// Call after the all-reduce so every rank clips identically.
@discardableResult
public func clipGradients(_ gradients: UnsafeMutableBufferPointer<Float>, maxNorm: Float) -> Float {
    let norm = gradientNorm(gradients)
    if let scale = clipScale(norm: norm, maxNorm: maxNorm) {
        scaleGradients(gradients, by: scale, in: [0..<gradients.count])
    }
    return norm
}

/// The factor clipping applies for a global `norm`, or nil when the norm is within `maxNorm`.
public func clipScale(norm: Float, maxNorm: Float) -> Float? {
    norm > maxNorm ? maxNorm / (norm + 1e-6) : nil
}
