import Foundation
import XCTest
@testable import LLMGenerate

/// Temperature, top-k and top-p on hand-computed cases, and the draws themselves.
final class SamplerTests: XCTestCase {
    /// Logits log(1, 2, 3, 4): probabilities 0.1, 0.2, 0.3, 0.4.
    let logits: [Float] = [1, 2, 3, 4].map { Float(log(Double($0))) }

    func distribution(_ logits: [Float], temperature: Float = 1, topK: Int = 0, topP: Float = 1) -> [(Int32, Float)] {
        logits.withUnsafeBufferPointer {
            Sampler.distribution(logits: $0, temperature: temperature, topK: topK, topP: topP).map { ($0.id, $0.probability) }
        }
    }

    func assertDistribution(_ got: [(Int32, Float)], _ expected: [(Int32, Float)], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.map(\.0), expected.map(\.0), "ids", file: file, line: line)
        for (g, e) in zip(got, expected) { XCTAssertEqual(g.1, e.1, accuracy: 1e-6, "id \(g.0)", file: file, line: line) }
    }

    func testFullDistributionIsTheSoftmaxMostLikelyFirst() {
        assertDistribution(distribution(logits), [(3, 0.4), (2, 0.3), (1, 0.2), (0, 0.1)])
    }

    func testTemperatureSharpens() {
        // p ∝ p0^(1/T): T = 0.5 squares 1, 2, 3, 4.
        assertDistribution(distribution(logits, temperature: 0.5), [(3, 16 / 30), (2, 9 / 30), (1, 4 / 30), (0, 1 / 30)])
    }

    func testTopKKeepsTheKMostLikelyRenormalised() {
        assertDistribution(distribution(logits, topK: 2), [(3, 4 / 7), (2, 3 / 7)])
        assertDistribution(distribution(logits, topK: 1), [(3, 1)])
        assertDistribution(distribution(logits, topK: 10), [(3, 0.4), (2, 0.3), (1, 0.2), (0, 0.1)])
    }

    func testTopPKeepsTheSmallestSetReachingP() {
        assertDistribution(distribution(logits, topP: 0.35), [(3, 1)])
        assertDistribution(distribution(logits, topP: 0.65), [(3, 4 / 7), (2, 3 / 7)])
        assertDistribution(distribution(logits, topP: 0.75), [(3, 4 / 9), (2, 3 / 9), (1, 2 / 9)])
        // Both filters: top-k first, then top-p within what is left (0.4 / 0.7 of it).
        assertDistribution(distribution(logits, topK: 2, topP: 0.5), [(3, 1)])
    }

    func testTiesGoToTheLowerID() {
        let tied: [Float] = [0, 5, 1, 5]
        tied.withUnsafeBufferPointer { XCTAssertEqual(Sampler.argmax($0), 1) }
        XCTAssertEqual(distribution(tied, topK: 1).map(\.0), [1])
    }

    func draws(_ options: SamplingOptions, stream: Int, count: Int) -> [Int32] {
        var sampler = Sampler(options: options, stream: stream)
        return logits.withUnsafeBufferPointer { buffer in (0..<count).map { _ in sampler.next(logits: buffer) } }
    }

    func testSeededDrawsAreReproducibleAndFollowTheDistribution() {
        let options = SamplingOptions(seed: 42)
        let first = draws(options, stream: 0, count: 20_000)
        XCTAssertEqual(first, draws(options, stream: 0, count: 20_000))
        XCTAssertNotEqual(first, draws(SamplingOptions(seed: 43), stream: 0, count: 20_000))
        XCTAssertNotEqual(first, draws(options, stream: 1, count: 20_000), "each prompt has its own stream")
        // 20,000 draws: the standard error of a frequency is at most 0.0035; allow 4 of them.
        for id in 0..<4 {
            let frequency = Double(first.filter { $0 == id }.count) / 20_000
            XCTAssertEqual(frequency, Double(id + 1) / 10, accuracy: 0.014, "token \(id)")
        }
        let topK = draws(SamplingOptions(topK: 2, seed: 1), stream: 0, count: 2_000)
        XCTAssertEqual(Set(topK), [2, 3], "top-k 2 never draws outside the two most likely")
    }

    func testGreedyAndZeroTemperatureTakeTheArgmax() {
        XCTAssertEqual(Set(draws(SamplingOptions(greedy: true), stream: 0, count: 50)), [3])
        XCTAssertEqual(Set(draws(SamplingOptions(temperature: 0), stream: 5, count: 50)), [3])
    }

    func testStreamPiecesEndOnWholeCharacters() {
        let text = "a😀b很好é"
        var stream = UTF8Stream()
        let pieces = Array(text.utf8).map { stream.append([$0]) }
        XCTAssertEqual(pieces.joined(), text)
        XCTAssertFalse(pieces.contains { $0.contains("\u{FFFD}") }, "\(pieces)")
    }

    func testOrderedStreamKeepsPromptOrder() {
        var out = ""
        var stream = OrderedStream(prompts: ["A", "B"], write: { out += $0 })
        stream.text(1, " b1")
        stream.text(0, " a1")
        XCTAssertEqual(out, "A a1", "prompt 0 streams live; prompt 1 waits")
        stream.finish(0)
        stream.text(1, " b2")
        stream.finish(1)
        XCTAssertEqual(out, "A a1\nB b1 b2\n")
    }
}
