import LLMSupport
import Foundation
import LLMModel

/// How the next token is chosen from the logits.
public struct SamplingOptions: Equatable, Sendable {
    /// Logits are divided by this before the softmax; 0 means greedy.
    public var temperature: Float = 1
    /// Keep only the k most likely tokens (0: all).
    public var topK = 0
    /// Keep the smallest set of most likely tokens whose probability reaches p (1: all).
    public var topP: Float = 1
    /// Always the most likely token (the lowest id on a tie); no randomness.
    public var greedy = false
    public var seed: UInt64 = 1337

    public init(temperature: Float = 1, topK: Int = 0, topP: Float = 1, greedy: Bool = false, seed: UInt64 = 1337) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.greedy = greedy
        self.seed = seed
    }

    public var isGreedy: Bool { greedy || temperature == 0 }
}

/// Draws tokens for one sequence. Each sequence has its own generator, seeded from the run's seed
/// and the prompt's index, so what a prompt gets does not depend on the batch it ran in.
public struct Sampler {
    public let options: SamplingOptions
    var rng: SplitMix64

    public init(options: SamplingOptions, stream: Int) {
        self.options = options
        rng = SplitMix64(seed: options.seed ^ (UInt64(stream) &* 0x9E37_79B9_7F4A_7C15))
    }

    public mutating func next(logits: UnsafeBufferPointer<Float>) -> Int32 {
        if options.isGreedy { return Sampler.argmax(logits) }
        let candidates = Sampler.distribution(logits: logits, temperature: options.temperature,
                                              topK: options.topK, topP: options.topP)
        // u in [0, 1): walk the cumulative distribution; the last candidate absorbs rounding.
        let u = Float(rng.nextUnitInterval() - 0x1.0p-53)
        var cumulative: Float = 0
        for c in candidates {
            cumulative += c.probability
            if u < cumulative { return c.id }
        }
        return candidates.last!.id
    }

    public static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int32 {
        var best = 0
        for i in 1..<logits.count where logits[i] > logits[best] { best = i }
        return Int32(best)
    }

    /// The tokens that survive temperature, top-k and top-p, most likely first (ties: lower id
    /// first), with their renormalised probabilities.
    public static func distribution(logits: UnsafeBufferPointer<Float>, temperature: Float, topK: Int,
                                    topP: Float) -> [(id: Int32, probability: Float)] {
        precondition(temperature > 0 && topP > 0 && topK >= 0)
        var order = Array(0..<logits.count)
        order.sort { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
        if topK > 0 && topK < order.count { order.removeLast(order.count - topK) }
        let maxLogit = logits[order[0]]
        var weights = order.map { Float(exp(Double((logits[$0] - maxLogit) / temperature))) }
        var total = weights.reduce(0, +)
        if topP < 1 {
            // The smallest prefix reaching topP; it always keeps the most likely token.
            var cumulative: Float = 0, keep = 0
            while keep < weights.count && cumulative < topP * total {
                cumulative += weights[keep]
                keep += 1
            }
            order.removeLast(order.count - keep)
            weights.removeLast(weights.count - keep)
            total = cumulative
        }
        return zip(order, weights).map { (Int32($0), $1 / total) }
    }
}
