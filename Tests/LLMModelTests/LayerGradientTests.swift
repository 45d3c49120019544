import LLMTestSupport
import XCTest
import LLMModel
import LLMSupport

/// Finite-difference checks of each layer's backward against its forward, on random inputs and
/// the objective sum(out * w) for a random w (so dout = w).
final class LayerGradientTests: XCTestCase {
    let eps: Float = 1e-3
    let tolerance = 2e-3

    func testMatmulGradients() {
        var rng = SplitMix64(seed: 1)
        let rows = 3, C = 4, OC = 5
        let inp = TestBuffer(normal: rows * C, rng: &rng), weight = TestBuffer(normal: C * OC, rng: &rng)
        let bias = TestBuffer(normal: OC, rng: &rng), residual = TestBuffer(normal: rows * OC, rng: &rng)
        let w = TestBuffer(normal: rows * OC, rng: &rng), out = TestBuffer(rows * OC)
        for useResidual in [false, true] {
            func f() -> Double {
                Matmul.forward(out: out.p, inp: inp.p, weight: weight.p, bias: bias.p, residual: useResidual ? residual.p : nil,
                               rows: rows, inChannels: C, outChannels: OC)
                return dot(out, w)
            }
            let dinp = TestBuffer(rows * C, fill: 7), dweight = TestBuffer(C * OC), dbias = TestBuffer(OC)
            Matmul.backward(dinp: dinp.p, dweight: dweight.p, dbias: dbias.p, dout: w.p, inp: inp.p, weight: weight.p,
                            rows: rows, inChannels: C, outChannels: OC)
            XCTAssertLessThan(relativeError(dinp.values, numericGradient(inp, eps: eps, f)), tolerance)
            XCTAssertLessThan(relativeError(dweight.values, numericGradient(weight, eps: eps, f)), tolerance)
            XCTAssertLessThan(relativeError(dbias.values, numericGradient(bias, eps: eps, f)), tolerance)
            if useResidual {
                // The residual passes dout straight through.
                XCTAssertLessThan(relativeError(w.values, numericGradient(residual, eps: eps, f)), tolerance)
            }
        }
    }

    func testLayerNormGradients() {
        var rng = SplitMix64(seed: 2)
        let rows = 3, C = 6
        let inp = TestBuffer(normal: rows * C, rng: &rng), weight = TestBuffer(normal: C, rng: &rng)
        let bias = TestBuffer(normal: C, rng: &rng), w = TestBuffer(normal: rows * C, rng: &rng)
        let out = TestBuffer(rows * C), mean = TestBuffer(rows), rstd = TestBuffer(rows)
        func f() -> Double {
            LayerNorm.forward(out: out.p, mean: mean.p, rstd: rstd.p, inp: inp.p, weight: weight.p, bias: bias.p, rows: rows, channels: C)
            return dot(out, w)
        }
        _ = f()
        let dinp = TestBuffer(rows * C), dweight = TestBuffer(C), dbias = TestBuffer(C)
        let scratch = TestBuffer(LayerNorm.scratchCount(rows: rows, channels: C))
        LayerNorm.backward(dinp: dinp.p, dweight: dweight.p, dbias: dbias.p, scratch: scratch.p, dout: w.p, inp: inp.p, weight: weight.p,
                           mean: mean.p, rstd: rstd.p, rows: rows, channels: C)
        XCTAssertLessThan(relativeError(dinp.values, numericGradient(inp, eps: eps, f)), tolerance)
        XCTAssertLessThan(relativeError(dweight.values, numericGradient(weight, eps: eps, f)), tolerance)
        XCTAssertLessThan(relativeError(dbias.values, numericGradient(bias, eps: eps, f)), tolerance)
    }

    func testAttentionGradients() {
        var rng = SplitMix64(seed: 3)
        let attention = AttentionCase(batch: 2, time: 4, channels: 6, heads: 2, rng: &rng)
        _ = attention.loss()
        attention.assertCausal(rows: stride(from: 0, to: 2 * 2 * 4, by: 1), accuracy: 1e-5)
        XCTAssertLessThan(relativeError(attention.analyticGradient().values,
                                        numericGradient(attention.qkv, eps: eps, attention.loss)), tolerance)
    }

    func testGELUGradients() {
        var rng = SplitMix64(seed: 4)
        let n = 40
        let inp = TestBuffer(normal: n, std: 2, rng: &rng), w = TestBuffer(normal: n, rng: &rng), out = TestBuffer(n)
        let derivative = TestBuffer(n)
        func f() -> Double { GELU.forward(out: out.p, derivative: derivative.p, inp: inp.p, count: n); return dot(out, w) }
        let dinp = TestBuffer(n)
        GELU.forward(out: out.p, derivative: derivative.p, inp: inp.p, count: n)
        GELU.backward(dinp: dinp.p, derivative: derivative.p, dout: w.p, count: n)
        XCTAssertLessThan(relativeError(dinp.values, numericGradient(inp, eps: eps, f)), tolerance)
        // Spot values of the tanh approximation.
        GELU.forward(out: out.p, derivative: derivative.p, inp: inp.p, count: n)
        for i in 0..<n {
            let x = Double(inp.p[i])
            let expected = 0.5 * x * (1 + tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
            XCTAssertEqual(Double(out.p[i]), expected, accuracy: 1e-5)
        }
    }

    func testReLUGradients() {
        var rng = SplitMix64(seed: 5)
        let n = 40
        let inp = TestBuffer(normal: n, rng: &rng), w = TestBuffer(normal: n, rng: &rng), out = TestBuffer(n)
        // Keep inputs away from the kink so central differences do not straddle it.
        for i in 0..<n where abs(inp.p[i]) < 0.05 { inp.p[i] = 0.5 }
        func f() -> Double { ReLU.forward(out: out.p, inp: inp.p, count: n); return dot(out, w) }
        let dinp = TestBuffer(n)
        ReLU.backward(dinp: dinp.p, inp: inp.p, dout: w.p, count: n)
        XCTAssertLessThan(relativeError(dinp.values, numericGradient(inp, eps: eps, f)), tolerance)
    }

    func testEncoderGradients() {
        var rng = SplitMix64(seed: 6)
        let B = 2, T = 3, C = 4, V = 5
        let wte = TestBuffer(normal: V * C, rng: &rng), wpe = TestBuffer(normal: T * C, rng: &rng)
        let w = TestBuffer(normal: B * T * C, rng: &rng), out = TestBuffer(B * T * C)
        let tokens: [Int32] = [1, 4, 1, 0, 2, 4]
        func f() -> Double {
            Encoder.forward(out: out.p, tokens: tokens, wte: wte.p, wpe: wpe.p, batch: B, time: T, channels: C)
            return dot(out, w)
        }
        let dwte = TestBuffer(V * C), dwpe = TestBuffer(T * C)
        Encoder.backward(dwte: dwte.p, dwpe: dwpe.p, dout: w.p, tokens: tokens, batch: B, time: T, channels: C)
        XCTAssertLessThan(relativeError(dwte.values, numericGradient(wte, eps: eps, f)), tolerance)
        XCTAssertLessThan(relativeError(dwpe.values, numericGradient(wpe, eps: eps, f)), tolerance)
    }

    func testSoftmaxCrossEntropyGradients() {
        var rng = SplitMix64(seed: 7)
        let rows = 3, V = 7
        let logits = TestBuffer(normal: rows * V, std: 2, rng: &rng), work = TestBuffer(rows * V), losses = TestBuffer(rows)
        let targets: [Int32] = [0, 6, 3]
        func f() -> Double {
            work.copy(from: logits)
            SoftmaxCrossEntropy.forward(logitsToProbs: work.p, losses: losses.p, targets: targets, rows: rows, vocab: V)
            return losses.values.reduce(0, +) / Double(rows)
        }
        _ = f()
        // Forward against a direct Double computation.
        for r in 0..<rows {
            let row = (0..<V).map { Double(logits.p[r * V + $0]) }
            let lse = log(row.map { exp($0) }.reduce(0, +))
            XCTAssertEqual(Double(losses.p[r]), lse - row[Int(targets[r])], accuracy: 1e-5)
        }
        let forwardLosses = losses.values
        work.copy(from: logits)
        SoftmaxCrossEntropy.forwardBackward(logitsToDlogits: work.p, losses: losses.p, targets: targets,
                                            scale: 1 / Float(rows), rows: rows, vocab: V)
        XCTAssertEqual(losses.values, forwardLosses, "training's fused pass gives the forward's losses")
        let analytic = work.values
        XCTAssertLessThan(relativeError(analytic, numericGradient(logits, eps: eps, f)), tolerance)
    }
}

final class ActivationAccuracyTests: XCTestCase {
    /// The 16-lane GELU loop and its scalar tail give the same bits, so results do not depend
    /// on where the threads' chunks start; with or without the derivative, the same output.
    func testGELULanesMatchScalarTail() {
        var rng = SplitMix64(seed: 9)
        let n = 16 * 5 + 7
        let inp = TestBuffer(normal: n, std: 3, rng: &rng)
        let out = TestBuffer(n), derivative = TestBuffer(n), one = TestBuffer(1), oneDerivative = TestBuffer(1)
        let alone = TestBuffer(n, fill: .nan), oneAlone = TestBuffer(1)
        GELU.forward(out: out.p, derivative: derivative.p, inp: inp.p, count: n)
        GELU.forward(out: alone.p, derivative: nil, inp: inp.p, count: n)
        for i in 0..<n {
            GELU.forward(out: one.p, derivative: oneDerivative.p, inp: inp.p + i, count: 1)
            GELU.forward(out: oneAlone.p, derivative: nil, inp: inp.p + i, count: 1)
            XCTAssertEqual(out.p[i].bitPattern, one.p[0].bitPattern, "gelu at \(i)")
            XCTAssertEqual(derivative.p[i].bitPattern, oneDerivative.p[0].bitPattern, "gelu' at \(i)")
            XCTAssertEqual(alone.p[i].bitPattern, out.p[i].bitPattern, "gelu without its derivative at \(i)")
            XCTAssertEqual(oneAlone.p[0].bitPattern, out.p[i].bitPattern, "gelu without its derivative, one at \(i)")
        }
    }

    /// The vectorisable tanh inside GELU against Double tanh over the range that matters.
    func testGELUMatchesExactFormulaOverWideRange() {
        let n = 4001
        let inp = TestBuffer(n), out = TestBuffer(n), derivative = TestBuffer(n)
        for i in 0..<n { inp.p[i] = Float(i - n / 2) * 0.005 }   // -10 ... 10
        GELU.forward(out: out.p, derivative: derivative.p, inp: inp.p, count: n)
        var worst = 0.0
        for i in 0..<n {
            let x = Double(inp.p[i])
            let exact = 0.5 * x * (1 + tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
            worst = max(worst, abs(Double(out.p[i]) - exact) / max(1, abs(exact)))
        }
        XCTAssertLessThan(worst, 1e-6)
    }
}

final class SoftmaxAccuracyTests: XCTestCase {
    /// The vectorised exp inside the softmaxes: probabilities against Double, wide logit range.
    func testSoftmaxProbabilitiesMatchDouble() {
        var rng = SplitMix64(seed: 8)
        let rows = 4, V = 300
        let logits = TestBuffer(normal: rows * V, std: 20, rng: &rng), work = TestBuffer(rows * V), losses = TestBuffer(rows)
        work.copy(from: logits)
        let targets: [Int32] = [0, 1, 2, 3]
        SoftmaxCrossEntropy.forward(logitsToProbs: work.p, losses: losses.p, targets: targets, rows: rows, vocab: V)
        for r in 0..<rows {
            let row = (0..<V).map { Double(logits.p[r * V + $0]) }
            let maxv = row.max()!
            let sum = row.map { exp($0 - maxv) }.reduce(0, +)
            for j in 0..<V { XCTAssertEqual(Double(work.p[r * V + j]), exp(row[j] - maxv) / sum, accuracy: 1e-6) }
            XCTAssertEqual(Double(losses.p[r]), log(sum) + maxv - row[r], accuracy: 1e-4 * max(1, abs(maxv - row[r])))
        }
    }
}

/// Attention at a length spanning several causal blocks (and a ragged last one), checked by
/// directional derivatives: <grad, u> against (f(x + eps u) - f(x - eps u)) / 2 eps.
final class LongAttentionTests: XCTestCase {
    func testAttentionGradientsAcrossBlocks() {
        var rng = SplitMix64(seed: 12)
        let attention = AttentionCase(batch: 1, time: 150, channels: 16, heads: 2, rng: &rng)
        let qkv = attention.qkv, f = attention.loss
        _ = f()
        attention.assertCausal(rows: stride(from: 0, to: 2 * 150, by: 37), accuracy: 1e-4)
        let dqkv = attention.analyticGradient()
        let saved = TestBuffer(qkv.count)
        saved.copy(from: qkv)
        var analytic: [Double] = [], numeric: [Double] = []
        for _ in 0..<6 {
            let u = TestBuffer(normal: qkv.count, rng: &rng)
            let eps: Float = 1e-3
            for i in 0..<qkv.count { qkv.p[i] = saved.p[i] + eps * u.p[i] }
            let plus = f()
            for i in 0..<qkv.count { qkv.p[i] = saved.p[i] - eps * u.p[i] }
            let minus = f()
            qkv.copy(from: saved)
            numeric.append((plus - minus) / Double(2 * eps))
            analytic.append(dot(dqkv, u))
        }
        XCTAssertLessThan(relativeError(analytic, numeric), 2e-3)
    }
    /// The tiled forward and backward against the textbook attention in Double, at lengths
    /// below one tile, on a tile edge, and several tiles with a ragged last one.
    func testTiledAttentionMatchesTextbookAttention() {
        var rng = SplitMix64(seed: 13)
        for time in [5, 64, 150] {
            let attention = AttentionCase(batch: 2, time: time, channels: 24, heads: 3, rng: &rng)
            _ = attention.loss()
            let dqkv = attention.analyticGradient()
            let reference = attention.reference()
            assertClose(attention.out.values.map(Float.init), reference.y.map(Float.init), absolute: 1e-5,
                        relative: 1e-4, "y at T=\(time)")
            assertClose(dqkv.values.map(Float.init), reference.dqkv.map(Float.init), absolute: 1e-4,
                        relative: 1e-3, "dqkv at T=\(time)")
        }
    }
}
