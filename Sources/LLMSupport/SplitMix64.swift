import Foundation

/// SplitMix64 (Steele, Lea, Flood 2014): a 64-bit state, one add and a mix per draw. Our own
/// generator rather than the standard library's so that the same seed gives the same stream on
/// every platform and Swift version, and so the whole state is one `UInt64` a checkpoint can save.
public struct SplitMix64: RandomNumberGenerator, Codable, Equatable, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    @inline(__always)
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in (0, 1]: the top 53 bits, shifted off zero so `log` in Box-Muller is finite.
    @inline(__always)
    public mutating func nextUnitInterval() -> Double {
        Double((next() >> 11) + 1) * 0x1.0p-53
    }

    /// Fills `count` floats with normal(mean, std) draws. Box-Muller in Double, one pair per two
    /// uniforms; an odd count drops the last partner so every call consumes a fixed number of draws.
    /// Rounding the Double result to Float hides last-ulp libm differences between platforms.
    public mutating func fillNormal(_ out: UnsafeMutablePointer<Float>, count: Int, mean: Float = 0, std: Float) {
        var i = 0
        while i < count {
            let u1 = nextUnitInterval(), u2 = nextUnitInterval()
            let radius = (-2 * Foundation.log(u1)).squareRoot()
            let angle = 2 * Double.pi * u2
            out[i] = mean + std * Float(radius * Foundation.cos(angle))
            if i + 1 < count { out[i + 1] = mean + std * Float(radius * Foundation.sin(angle)) }
            i += 2
        }
    }
}
