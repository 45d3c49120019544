import LLMTestSupport
import LLMTrain
import XCTest
@testable import LLMPrivacy

final class NoiseAndSamplingTests: XCTestCase {
    func noise(count: Int, ranges: [Range<Int>], step: Int, seed: UInt64 = 42) -> [Float] {
        var v = [Float](repeating: 0, count: count)
        v.withUnsafeMutableBufferPointer {
            GaussianNoise.add(to: $0, ranges: ranges, std: 2.5, seed: seed, step: step)
        }
        return v
    }

    /// Drawn in shards (odd boundaries, as ZeRO's pieces fall) or whole: the same vector, so
    /// 1 and N ranks add the same noise and a resume regenerates it bit for bit.
    func testShardsDrawTheWholeVector() {
        let whole = noise(count: 1001, ranges: [0..<1001], step: 7)
        let pieces = noise(count: 1001, ranges: [0..<1, 1..<334, 334..<335, 335..<1001], step: 7)
        assertBitIdentical(pieces, whole, "sharded noise")
        XCTAssertNotEqual(noise(count: 1001, ranges: [0..<1001], step: 8), whole, "another step, other noise")
        XCTAssertNotEqual(noise(count: 1001, ranges: [0..<1001], step: 7, seed: 43), whole, "another seed, other noise")
    }

    /// Mean 0, std 2.5, and the pairs' two halves uncorrelated, over 200k draws (5 sigma bounds).
    func testNoiseHasTheRequestedDistribution() {
        let n = 200_000
        let v = noise(count: n, ranges: [0..<n], step: 0).map(Double.init)
        let mean = v.reduce(0, +) / Double(n)
        let variance = v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)
        XCTAssertEqual(mean, 0, accuracy: 5 * 2.5 / Double(n).squareRoot())
        XCTAssertEqual(variance.squareRoot(), 2.5, accuracy: 5 * 2.5 / Double(2 * n).squareRoot())
        let pairs = stride(from: 0, to: n, by: 2).reduce(0.0) { $0 + v[$1] * v[$1 + 1] } / Double(n / 2)
        XCTAssertEqual(pairs / 6.25, 0, accuracy: 5 / Double(n / 2).squareRoot())
        let tail = v.filter { abs($0) > 2 * 2.5 }.count
        XCTAssertEqual(Double(tail) / Double(n), 0.0455, accuracy: 0.003, "two-sigma tail of a normal")
    }

    /// What DPSGD adds to the trainer's gradient (the clipped sum already divided by the expected
    /// batch B): std sigma C / B per element, i.e. sigma C on the sum, and only at the ranges given.
    func testDPSGDNoiseIsSigmaCOnTheSum() throws {
        var section = TrainConfig.PrivacySection()
        section.maxGradNorm = 2
        section.noiseMultiplier = 0.7
        section.noiseSeed = 9
        let dpsgd = try DPSGD(section: section, examples: 1000, globalBatch: 40, steps: 10)
        let n = 100_000
        var v = [Float](repeating: 0, count: n + 10)
        v.withUnsafeMutableBufferPointer { dpsgd.addNoise(to: $0, ranges: [10..<(n + 10)], step: 3) }
        XCTAssertEqual(v[..<10].map(abs).max(), 0, "outside the ranges: no noise")
        let sum = v[10...].map { Double($0) * 40 }
        let std = (sum.reduce(0) { $0 + $1 * $1 } / Double(n)).squareRoot()
        XCTAssertEqual(std, 0.7 * 2, accuracy: 5 * 1.4 / Double(2 * n).squareRoot())
    }

    /// Each example joins with probability q independently: batch sizes binomial(N, q), and
    /// every example is drawn about as often as any other.
    func testPoissonSampling() {
        let sampler = PoissonSampler(count: 500, rate: 0.04, seed: 3)
        var sizes: [Int] = [], hits = [Int](repeating: 0, count: 500)
        for step in 0..<2000 {
            let batch = sampler.batch(step: step)
            XCTAssertEqual(batch, batch.sorted())
            sizes.append(batch.count)
            for i in batch { hits[i] += 1 }
        }
        XCTAssertEqual(sampler.batch(step: 11), sampler.batch(step: 11), "a pure function of (seed, step)")
        let mean = Double(sizes.reduce(0, +)) / 2000
        let variance = sizes.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / 2000
        XCTAssertEqual(mean, 20, accuracy: 5 * (19.2 / 2000).squareRoot())
        XCTAssertEqual(variance, 500 * 0.04 * 0.96, accuracy: 0.15 * 19.2, "binomial variance N q (1 - q)")
        // Per example: binomial(2000, 0.04), mean 80, sd 8.8.
        XCTAssertLessThan(hits.max()!, 80 + 45)
        XCTAssertGreaterThan(hits.min()!, 80 - 45)
    }
}
