import LLMSupport
import XCTest
@testable import LLMModel

/// The cached decoder against the training forward: for every position of every sequence, the
/// logits of a cached step equal those of a full forward over the whole prefix.
final class KVCacheDecoderTests: XCTestCase {
    /// A model with weights large enough (std 0.2, not GPT-2's 0.02) that attention is far from
    /// uniform, so a wrong key, value or position shows in the logits.
    func makeModel(_ activation: GPTConfig.Activation, batch: Int) -> (GPT, [Int32]) {
        let config = GPTConfig(vocabSize: 37, contextLength: 20, layers: 2, heads: 2, modelDim: 16, activation: activation)
        let model = GPT(config: config, batchSize: batch, sequenceLength: config.contextLength, seed: 7)
        var rng = SplitMix64(seed: 99)
        rng.fillNormal(model.parameters.baseAddress!, count: model.parameterCount, std: 0.2)
        let tokens = (0..<batch * config.contextLength).map { _ in Int32(rng.next() % UInt64(config.vocabSize)) }
        return (model, tokens)
    }

    /// Full-forward logits (B, T, V).
    func fullLogits(_ model: GPT, _ tokens: [Int32]) -> [Float] {
        model.forward(inputs: tokens, targets: nil)
        return Array(model.logits)
    }

    func assertClose(_ got: UnsafeBufferPointer<Float>, row: Int, _ expected: [Float], at start: Int,
                     _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        var bad = 0, first: String?
        var worst: Float = 0
        let vocab = got.count
        for j in 0..<vocab {
            let d = abs(got[j] - expected[start + j])
            worst = max(worst, d)
            if !(d <= 1e-4 * max(1, abs(expected[start + j]))) {
                bad += 1
                if first == nil { first = "logit \(j): cached \(got[j]) vs full \(expected[start + j])" }
            }
        }
        XCTAssertEqual(bad, 0, "\(what): \(bad) of \(vocab) logits differ (row \(row)); first: \(first ?? "-"); max "
                               + "|diff| \(worst)",
                       file: file, line: line)
    }

    func testCachedStepsMatchTheFullForwardAtEveryPosition() {
        for activation in GPTConfig.Activation.allCases {
            let (model, tokens) = makeModel(activation, batch: 2)
            let T = model.config.contextLength, V = model.config.vocabSize
            let full = fullLogits(model, tokens)
            let decoder = KVCacheDecoder(model: model, slots: 2, maxRows: 8)
            // Slot 0: a 5-token prompt as one call; slot 1: its first token alone. Then one row per
            // slot per call, both slots in the same call, as batched generation runs.
            let prompt = decoder.forward(slots: [0, 0, 0, 0, 0], tokens: Array(tokens[0..<5]))
            for t in 0..<5 {
                assertClose(UnsafeBufferPointer(rebasing: prompt[t * V..<(t + 1) * V]), row: t, full, at: t * V,
                            "\(activation) prompt position \(t)")
            }
            _ = decoder.forward(slots: [1], tokens: [tokens[T]])
            for t in 5..<T {
                let out = decoder.forward(slots: [0, 1], tokens: [tokens[t], tokens[T + t - 4]])
                assertClose(UnsafeBufferPointer(rebasing: out[0..<V]), row: 0, full, at: t * V, "\(activation) slot 0 position \(t)")
                assertClose(UnsafeBufferPointer(rebasing: out[V..<2 * V]), row: 1, full, at: (T + t - 4) * V,
                            "\(activation) slot 1 position \(t - 4)")
            }
            XCTAssertEqual(decoder.lengths, [T, T - 4])
        }
    }

    /// One row per call (the GEMV path of a single-sequence decode step), every position.
    func testSingleRowStepsMatchTheFullForward() {
        for activation in GPTConfig.Activation.allCases {
            let (model, tokens) = makeModel(activation, batch: 1)
            let V = model.config.vocabSize
            let full = fullLogits(model, tokens)
            let decoder = KVCacheDecoder(model: model, slots: 1, maxRows: 1)
            for t in 0..<model.config.contextLength {
                assertClose(decoder.forward(slots: [0], tokens: [tokens[t]]), row: 0, full, at: t * V, "\(activation) position \(t)")
            }
        }
    }

    /// A reset slot starts again at position 0 and ignores what its cache held before.
    func testResetSlotStartsOver() {
        let (model, tokens) = makeModel(.gelu, batch: 1)
        let V = model.config.vocabSize
        let full = fullLogits(model, tokens)
        let decoder = KVCacheDecoder(model: model, slots: 1, maxRows: 4)
        _ = decoder.forward(slots: [0, 0, 0], tokens: [3, 1, 4])
        decoder.reset(slot: 0)
        XCTAssertEqual(decoder.lengths, [0])
        _ = decoder.forward(slots: [0, 0], tokens: [tokens[0], tokens[1]])
        let third = decoder.forward(slots: [0], tokens: [tokens[2]])
        assertClose(third, row: 0, full, at: 2 * V, "position 2 after reset")
    }
}
