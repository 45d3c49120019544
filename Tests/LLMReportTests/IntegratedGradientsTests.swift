import Foundation
import LLMModel
import LLMReport
import XCTest

/// Integrated gradients on functions whose attributions are known in closed form, then on the
/// language model itself (completeness: the attributions add up to f(x) - f(baseline)).
final class IntegratedGradientsTests: XCTestCase {
    /// f = sum c_i x_i^2: the path gradient is linear in a, which the midpoint rule integrates
    /// exactly, so IG_i = c_i (x_i^2 - b_i^2) even with one step.
    func testQuadraticIsExact() {
        let c: [Double] = [0.5, -2, 3], x: [Double] = [1, 2, -1.5], b: [Double] = [0.2, -1, 0.5]
        for steps in [1, 7] {
            let ig = IntegratedGradients(input: x, baseline: b, steps: steps) { (v: [Double]) -> (value: Double, gradient: [Double]) in
                var value = 0.0, gradient: [Double] = []
                for i in 0..<3 {
                    value += c[i] * v[i] * v[i]
                    gradient.append(2 * c[i] * v[i])
                }
                return (value, gradient)
            }
            for i in 0..<3 { XCTAssertEqual(ig.attributions[i], c[i] * (x[i] * x[i] - b[i] * b[i]), accuracy: 1e-12) }
            XCTAssertEqual(ig.completenessGap, 0, accuracy: 1e-12)
        }
    }

    /// A "post" of three 2-dimensional token embeddings whose value depends on token 1 alone
    /// (through a saturating tanh): all attribution goes to token 1, none to the others.
    func testFunctionOfOneTokenAttributesEverythingToIt() {
        let x: [Double] = [0.4, -1.1, 0.9, 0.3, -0.7, 2.0], b = [Double](repeating: 0, count: 6)
        let ig = IntegratedGradients(input: x, baseline: b, steps: 100) { (v: [Double]) -> (value: Double, gradient: [Double]) in
            let s = 1.5 * v[2] - 0.5 * v[3], d = 1 - tanh(s) * tanh(s)
            return (tanh(s), [0, 0, 1.5 * d, -0.5 * d, 0, 0])
        }
        let perToken = ig.grouped(2)
        XCTAssertEqual(perToken[0], 0)
        XCTAssertEqual(perToken[2], 0)
        XCTAssertEqual(perToken[1], tanh(1.5 * 0.9 - 0.5 * 0.3), accuracy: 1e-4)
        XCTAssertTrue(ig.isComplete(relative: 1e-4))
    }

    /// f = x1 x2 x3 from 0: each input gets f/3 in the limit; the midpoint sum of a^2 falls short
    /// by exactly 1/(12 m^2), so the completeness gap is f / (4 m^2).
    func testProductSharesEquallyAndTheGapIsTheRiemannError() {
        let x = [1.5, -2.0, 0.8], fx = x.reduce(1, *)
        for steps in [4, 10, 50] {
            let ig = IntegratedGradients(input: x, baseline: [0, 0, 0], steps: steps) { v in
                (v[0] * v[1] * v[2], [v[1] * v[2], v[0] * v[2], v[0] * v[1]])
            }
            let m = Double(steps)
            for a in ig.attributions { XCTAssertEqual(a, fx * (1.0 / 3 - 1 / (12 * m * m)), accuracy: 1e-12) }
            XCTAssertEqual(ig.completenessGap, abs(fx) / (4 * m * m), accuracy: 1e-12)
        }
    }

    /// f = exp(w.x) from 0: IG_i = w_i x_i (e^s - 1) / s with s = w.x.
    func testExponentialConverges() {
        let w = [0.3, -1.2, 0.7, 2.0], x = [1.0, 0.5, -0.4, 0.6]
        let s = zip(w, x).map(*).reduce(0, +)
        let ig = IntegratedGradients(input: x, baseline: [0, 0, 0, 0], steps: 200) { v in
            let value = exp(zip(w, v).map(*).reduce(0, +))
            return (value, w.map { $0 * value })
        }
        for i in 0..<4 { XCTAssertEqual(ig.attributions[i], w[i] * x[i] * (exp(s) - 1) / s, accuracy: 1e-5) }
        XCTAssertTrue(ig.isComplete(relative: 1e-5))
    }

    /// The language model's log-probability of a post: the embedding trick reproduces the real
    /// forward at the input, and the attributions add up to f(x) - f(baseline), closer with
    /// more steps. Tolerance: 0.1% of |f(x) - f(b)| at 64 steps (measured: 0.02%). With much
    /// larger weights (x8) the fp32 model is so sharp along the path that 256 steps are not
    /// enough: the gap is the number to report, not an assumption.
    func testLanguageModelAttributionsAreComplete() {
        let config = GPTConfig(vocabSize: 64, contextLength: 8, layers: 2, heads: 2, modelDim: 16)
        let tokens: [Int32] = [5, 17, 42, 3, 60, 9]
        let model = GPT(config: config, batchSize: 1, sequenceLength: tokens.count, seed: 11)
        for i in 0..<model.parameterCount { model.parameters[i] *= 3 }  // a sharper model than GPT-2's init
        let before = Array(model.parameters)

        let coarse = LanguageModelAttribution.logProbability(model: model, tokens: tokens, target: 1, baselineToken: 0, steps: 4)
        let fine = LanguageModelAttribution.logProbability(model: model, tokens: tokens, target: 1, baselineToken: 0, steps: 64)
        XCTAssertEqual(Array(model.parameters), before, "the position table is restored")
        let targets = Array(tokens.dropFirst()) + [1]
        let loss = tokens.withUnsafeBufferPointer { i in targets.withUnsafeBufferPointer { model.forward(inputs: i.baseAddress!, targets: $0.baseAddress!) } }
        XCTAssertEqual(fine.result.valueAtInput, -Double(tokens.count) * Double(loss), accuracy: 1e-4)
        XCTAssertGreaterThan(abs(fine.result.difference), 0.3, "the baseline must change the model's output")
        XCTAssertEqual(fine.perToken.count, tokens.count)
        XCTAssertEqual(fine.perToken.reduce(0, +), fine.result.sum, accuracy: 1e-9)
        XCTAssertTrue(fine.result.isComplete(relative: 1e-3),
                      "sum \(fine.result.sum) vs f(x) - f(b) = \(fine.result.difference)")
        XCTAssertLessThan(fine.result.completenessGap, coarse.result.completenessGap, "more steps, smaller gap")
    }
}
