import Foundation
import LLMModel
import LLMSupport

/// DP-SGD's noise as a counter-based stream: element j of step s's noise vector is a function
/// of (seed, s, j) alone. So a rank can draw exactly the elements it owns (ZeRO shards), 1 and
/// N ranks add the same vector, and a resumed run continues it bit for bit from the seed saved
/// in state.json, without any generator state to carry.
///
/// Elements 2k and 2k+1 are one Box-Muller pair from the two SplitMix64 draws that start at
/// position 2k of the step's stream (SplitMix64's state advances by a constant per draw, so
/// jumping there is one multiply). SplitMix64 is not a cryptographic generator: the guarantee
/// assumes an adversary who cannot predict the noise (see README, privacy).
public enum GaussianNoise {
    static let increment: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// Adds normal(0, std) noise of step `step` to `values` at `ranges` (indices of the whole
    /// vector), over the compute threads (each element is the same whoever draws it).
    public static func add(to values: UnsafeMutableBufferPointer<Float>, ranges: [Range<Int>], std: Double,
                           seed: UInt64, step: Int) {
        var mixer = SplitMix64(seed: seed ^ (UInt64(step + 1) &* 0xA076_1D64_78BD_642F))
        let start = mixer.next()
        for range in ranges where !range.isEmpty {
            Parallel.chunks(range.count, minChunk: 1 << 16) { part in
                add(to: values, range.lowerBound + part.lowerBound..<range.lowerBound + part.upperBound, std: std,
                    start: start)
            }
        }
    }

    private static func add(to values: UnsafeMutableBufferPointer<Float>, _ range: Range<Int>, std: Double,
                            start: UInt64) {
        var j = range.lowerBound
        while j < range.upperBound {
            let pair = j / 2
            var rng = SplitMix64(seed: start &+ UInt64(2 * pair) &* increment)
            let u1 = rng.nextUnitInterval(), u2 = rng.nextUnitInterval()
            let radius = (-2 * log(u1)).squareRoot() * std, angle = 2 * Double.pi * u2
            if j % 2 == 0 {
                values[j] += Float(radius * cos(angle))
                j += 1
            }
            if j < range.upperBound {
                values[j] += Float(radius * sin(angle))
                j += 1
            }
        }
    }
}
