import LLMModel
import LLMSupport
import LLMTestSupport
import LLMTrain
import XCTest
@testable import LLMPrivacy

/// Language-model DP-SGD: each window's gradient norm, with the tied wte / LM head's cross term,
/// from one batched backward against each window alone through the ordinary full backward.
final class TiedHeadNormsTests: XCTestCase {
    // Vocabulary 5, windows of 10: every window repeats tokens in inputs and targets, so the
    // head's and the embedding's rows of wte overlap (the cross term is not zero).
    let config = GPTConfig(vocabSize: 5, contextLength: 16, layers: 2, heads: 2, modelDim: 8)
    let T = 10

    func makeModel(batch: Int) -> GPT {
        let model = GPT(config: config, batchSize: batch, sequenceLength: T, seed: 3)
        var rng = SplitMix64(seed: 23)
        for t in model.tensors {
            let gain = t.name.hasSuffix(".weight") && t.shape.count == 1
            rng.fillNormal(model.parameters.baseAddress! + t.offset, count: t.count, mean: gain ? 1 : 0,
                           std: t.shape.count >= 2 ? 0.3 : 0.2)
        }
        return model
    }

    func windows(_ count: Int, seed: UInt64) -> (inputs: [Int32], targets: [Int32]) {
        var rng = SplitMix64(seed: seed)
        let stream = (0..<(count * T + 1)).map { _ in Int32(rng.next() % UInt64(config.vocabSize)) }
        var inputs: [Int32] = [], targets: [Int32] = []
        for b in 0..<count {
            inputs += stream[(b * T)..<(b * T + T)]
            targets += stream[(b * T + 1)..<(b * T + T + 1)]
        }
        return (inputs, targets)
    }

    /// Window b alone, batch 1, the ordinary `backward`: the gradient of its mean loss.
    func alone(_ batched: GPT, _ w: (inputs: [Int32], targets: [Int32]), _ b: Int) -> [Float] {
        let model = GPT(config: config, batchSize: 1, sequenceLength: T, seed: 3)
        for i in 0..<model.parameterCount { model.parameters[i] = batched.parameters[i] }
        model.zeroGradients()
        model.forwardBackward(inputs: Array(w.inputs[(b * T)..<(b * T + T)]),
                              targets: Array(w.targets[(b * T)..<(b * T + T)]))
        return Array(model.gradients)
    }

    func testWindowNormsAndClippedGradientMatchEachWindowAlone() {
        let B = 4, weights: [Float] = [1, 0.5, 2, 0]
        // A model of 6 rows running 4: DP-SGD's short micro-batches.
        let model = makeModel(batch: B + 2), w = windows(B, seed: 41)
        let single = (0..<B).map { alone(model, w, $0) }
        model.keepsProbabilities = true
        model.forward(inputs: w.inputs, targets: w.targets, batch: B)
        let norms = PerExampleGradientNorms()
        model.zeroGradients()
        model.perExampleNorms = norms
        model.backward(windowWeights: weights)
        model.perExampleNorms = nil
        var squares: [Double] = []
        for b in 0..<B {
            let reference = single[b].reduce(0.0) { $0 + Double($1) * Double($1) } * Double(weights[b] * weights[b])
            XCTAssertEqual(norms.squaredNorms[b], reference, accuracy: 1e-4 * max(reference, 1e-12), "window \(b)")
            squares.append(reference)
        }
        // Clipped just above the smallest nonzero norm (two windows clipped, one not, the weight-0 one
        // empty), from the same backward: sum_b min(1, C / ||w_b g_b||) w_b g_b.
        let clip = squares.filter { $0 > 0 }.min()!.squareRoot() * 1.01
        let factors = squares.map { Float(min(1, clip / $0.squareRoot())) }
        XCTAssertEqual(factors.filter { $0 < 1 }.count, 2, "two windows clipped")
        norms.addClippedWeightGradients(factors: factors)
        var expected = [Float](repeating: 0, count: model.parameterCount)
        for b in 0..<B { for i in expected.indices { expected[i] += factors[b] * weights[b] * single[b][i] } }
        let maximum = expected.map(abs).max()!
        assertClose(Array(model.gradients), expected, absolute: 1e-4 * maximum, "clipped window gradients")
    }
}
