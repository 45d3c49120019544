import LLMTestSupport
import XCTest
import LLMModel
import LLMSupport

/// Finite-difference check of the whole model's backward, tensor by tensor, on a tiny config.
final class ModelGradientTests: XCTestCase {
    let tiny = GPTConfig(vocabSize: 11, contextLength: 8, layers: 2, heads: 2, modelDim: 8)

    func testModelGradientsGELU() { checkModelGradients(config: tiny) }

    func testModelGradientsReLU() {
        var config = tiny
        config.activation = .relu
        checkModelGradients(config: config)
    }

    func checkModelGradients(config: GPTConfig) {
        let B = 2, T = 5
        let model = GPT(config: config, batchSize: B, sequenceLength: T, seed: 7)
        // Larger-than-init random parameters: at std 0.02 most gradients are tiny next to the
        // Float rounding of the loss, and the network is almost linear, which would hide bugs.
        var rng = SplitMix64(seed: 99)
        for t in model.tensors {
            rng.fillNormal(model.parameters.baseAddress! + t.offset, count: t.count,
                           mean: t.name.hasSuffix("ln_1.weight") || t.name.hasSuffix("ln_2.weight") || t.name == "ln_f.weight" ? 1 : 0,
                           std: t.shape.count >= 2 ? 0.3 : 0.1)
        }
        let inputs: [Int32] = (0..<(B * T)).map { Int32(($0 * 7 + 3) % config.vocabSize) }
        let targets: [Int32] = (0..<(B * T)).map { Int32(($0 * 5 + 1) % config.vocabSize) }
        // Loss in Double from the per-position losses, to keep the finite differences clean.
        func loss() -> Double {
            model.forward(inputs: inputs, targets: targets)
            return model.losses.reduce(0.0) { $0 + Double($1) } / Double(B * T)
        }
        model.zeroGradients()
        _ = loss()
        model.backward(lossScale: 1)
        // ReLU's kinks: a pre-activation crossing zero inside +-eps spoils that central difference,
        // so the ReLU model takes a smaller step and a looser bound (the ReLU layer itself is
        // checked tightly in LayerGradientTests).
        let eps: Float = config.activation == .relu ? 1e-4 : 1e-3
        let tolerance = config.activation == .relu ? 2e-2 : 2e-3
        for t in model.tensors {
            let analytic = (t.offset..<(t.offset + t.count)).map { Double(model.gradients[$0]) }
            let numeric = numericGradient(model.parameters.baseAddress! + t.offset, count: t.count, eps: eps, loss)
            XCTAssertLessThan(relativeError(analytic, numeric), tolerance, "\(t.name) \(config.activation)")
            // wpe rows beyond T are never used: their gradient must be exactly zero.
            if t.name == "wpe.weight" { XCTAssertTrue(analytic[(T * config.modelDim)...].allSatisfy { $0 == 0 }) }
        }
        XCTAssertEqual(model.tensors.count, 2 + 12 * config.layers + 2)
    }
}
