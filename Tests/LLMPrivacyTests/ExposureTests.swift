import XCTest
import LLMModel
import LLMSupport
@testable import LLMPrivacy

final class ExposureTests: XCTestCase {
    /// |R| = 8: the canary and its 7 rivals. Three score higher, so rank 4 and exposure
    /// log2 8 - log2 4 = 1 bit; first place is log2 8 = 3 bits, last place 0.
    func testExposureOfAHandComputedExample() {
        let others = [-1.0, -2.0, -4.0, -5.0, -2.5, -6.0, -7.0]
        XCTAssertEqual(Exposure.bits(canary: -3.0, others: others), 1.0, accuracy: 1e-12)
        XCTAssertEqual(Exposure.bits(canary: -0.5, others: others), 3.0, accuracy: 1e-12)
        XCTAssertEqual(Exposure.bits(canary: -8.0, others: others), 0.0, accuracy: 1e-12)
        // Rank 2 of 8: 3 - 1 = 2 bits; rank 3: 3 - log2 3 = 1.415 bits.
        XCTAssertEqual(Exposure.bits(canary: -1.5, others: others), 2.0, accuracy: 1e-12)
        XCTAssertEqual(Exposure.bits(canary: -2.2, others: others), 3 - log2(3.0), accuracy: 1e-12)
        // A tie is not a higher score.
        XCTAssertEqual(Exposure.bits(canary: -2.0, others: others), 2.0, accuracy: 1e-12)
    }

    /// Over every secret of a space, exposures are log2 |R| - log2 rank for ranks 1...|R|.
    func testExposuresOverAWholeSpaceAreTheRanks() {
        let scores = (0..<16).map { Double($0) * -0.25 }   // secret i has rank i + 1
        for (i, s) in scores.enumerated() {
            let others = scores.enumerated().filter { $0.offset != i }.map(\.element)
            XCTAssertEqual(Exposure.bits(canary: s, others: others), 4 - log2(Double(i + 1)), accuracy: 1e-12)
        }
    }

    func testCanaryFormatSpellsEverySecretOnce() {
        let format = CanaryFormat(prefix: "my pin is", digits: 3)
        XCTAssertEqual(format.spaceSize, 1000)
        XCTAssertEqual(format.text(secretIndex: 42), "my pin is 0 4 2")
        XCTAssertEqual(format.secret(999), "9 9 9")
        XCTAssertEqual(Set((0..<1000).map(format.secret)).count, 1000)
        var rng = SplitMix64(seed: 3)
        let picked = format.distinctIndices(500, rng: &rng)
        XCTAssertEqual(Set(picked).count, 500)
        XCTAssertTrue(picked.allSatisfy { (0..<1000).contains($0) })
    }

    /// The batched, padded scorer against log-softmax of each post's logits computed alone.
    func testScorerMatchesLogSoftmaxOfEachPostAlone() {
        let config = GPTConfig(vocabSize: 40, contextLength: 16, layers: 1, heads: 2, modelDim: 16)
        let endOfText: Int32 = 39
        let posts: [[Int32]] = [[3, 7, 1], [5], [2, 2, 9, 30, 11, 4], [8, 1], [12, 13, 14]]
        let batched = GPT(config: config, batchSize: 2, sequenceLength: 8, seed: 5)
        let scores = SequenceScorer.logLikelihoods(posts, model: batched, endOfText: endOfText)
        XCTAssertEqual(scores.count, posts.count)
        for (post, score) in zip(posts, scores) {
            let alone = GPT(config: config, batchSize: 1, sequenceLength: post.count, seed: 5)
            var inputs = [endOfText] + post.dropLast()
            _ = inputs.withUnsafeMutableBufferPointer { alone.forward(inputs: $0.baseAddress!, targets: nil) }
            var expected = 0.0
            for (i, target) in post.enumerated() {
                let row = (0..<config.vocabSize).map { Double(alone.logits[i * config.vocabSize + $0]) }
                let top = row.max()!
                let logSum = top + log(row.reduce(0) { $0 + exp($1 - top) })
                expected += row[Int(target)] - logSum
            }
            XCTAssertEqual(score, expected, accuracy: 1e-4 * max(1, abs(expected)), "post \(post)")
        }
    }
}
