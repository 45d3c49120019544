import LLMSupport

/// Poisson sampling, the sampling the RDP accountant assumes: in every step each of the `count`
/// training examples joins the batch independently with probability `rate`, so batch sizes
/// vary around rate x count. Which examples a step draws is a pure function of (seed, step),
/// the same on every rank and after a resume; there is no sampler state to save.
public struct PoissonSampler: Sendable {
    public let count: Int
    public let rate: Double
    let seed: UInt64

    public init(count: Int, rate: Double, seed: UInt64) {
        self.count = count
        self.rate = rate
        self.seed = seed
    }

    /// The examples of step `step`, in index order.
    public func batch(step: Int) -> [Int] {
        var rng = SplitMix64(seed: seed ^ (UInt64(step + 1) &* 0xD1B5_4A32_D192_ED03))
        return (0..<count).filter { _ in rng.nextUnitInterval() <= rate }
    }
}
