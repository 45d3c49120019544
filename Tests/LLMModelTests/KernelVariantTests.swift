import Foundation
import LLMTestSupport
import XCTest
import LLMModel
import LLMSupport

/// The elementwise kernels' AVX2 and AVX-512 variants against the portable one (the same bits:
/// without fused multiply-add every variant performs the same IEEE operations in the same order)
/// and every variant against Double references with tolerances. A variant this CPU lacks is
/// skipped, saying so.
final class KernelVariantTests: XCTestCase {
    let saved = Kernels.active
    override func tearDown() { Kernels.select(saved) }

    func testAVX2GivesPortableBits() throws { try checkSameBits(.avx2) }
    func testAVX512GivesPortableBits() throws { try checkSameBits(.avx512) }
    func testPortableMatchesDoubleReferences() throws { try checkAgainstDouble(.portable) }
    func testAVX2MatchesDoubleReferences() throws { try checkAgainstDouble(.avx2) }
    func testAVX512MatchesDoubleReferences() throws { try checkAgainstDouble(.avx512) }

    func testModelStepsGiveTheSameBitsInEveryVariant() throws {
        let variants = KernelVariant.allCases.filter(\.isSupported)
        try XCTSkipIf(variants.count < 2, "this CPU runs only the portable kernels: nothing to compare")
        let reference = trainingSteps(.portable)
        for v in variants.dropFirst() {
            let result = trainingSteps(v)
            assertBitIdentical(result.losses, reference.losses, "\(v) losses")
            assertBitIdentical(result.parameters, reference.parameters, "\(v) parameters after 2 steps")
        }
    }

    func testNamesRoundTrip() {
        XCTAssertTrue(KernelVariant.portable.isSupported)
        for v in KernelVariant.allCases { XCTAssertEqual(KernelVariant(name: v.description), v) }
        XCTAssertNil(KernelVariant(name: "sse9"))
    }

    private func require(_ v: KernelVariant) throws {
        try XCTSkipUnless(v.isSupported, "this CPU lacks \(v); its kernels cannot run here")
        XCTAssertTrue(Kernels.select(v))
        XCTAssertEqual(Kernels.active, v)
    }

    private func checkSameBits(_ v: KernelVariant) throws {
        try require(v)
        let variant = kernelOutputs(v)
        let portable = kernelOutputs(.portable)
        for (name, values) in portable.sorted(by: { $0.key < $1.key }) {
            assertBitIdentical(variant[name] ?? [], values, "\(v) \(name)")
        }
    }

    /// Every kernel once on random inputs whose sizes leave a partial 16-lane group.
    private func kernelOutputs(_ v: KernelVariant) -> [String: [Float]] {
        XCTAssertTrue(Kernels.select(v))
        var rng = SplitMix64(seed: 21)
        let rows = 37, C = 45, V = 67, n = rows * C
        var out: [String: [Float]] = [:]
        func values(_ b: TestBuffer) -> [Float] { (0..<b.count).map { b.p[$0] } }

        let x = TestBuffer(normal: n, std: 3, rng: &rng), gelu = TestBuffer(n), derivative = TestBuffer(n)
        GELU.forward(out: gelu.p, derivative: derivative.p, inp: x.p, count: n)
        let dgelu = TestBuffer(n)
        GELU.backward(dinp: dgelu.p, derivative: derivative.p, dout: x.p, count: n)
        out["gelu"] = values(gelu); out["gelu'"] = values(derivative); out["gelu backward"] = values(dgelu)
        let geluAlone = TestBuffer(n)
        GELU.forward(out: geluAlone.p, derivative: nil, inp: x.p, count: n)
        out["gelu without its derivative"] = values(geluAlone)

        let weight = TestBuffer(normal: C, rng: &rng), bias = TestBuffer(normal: C, rng: &rng)
        let ln = TestBuffer(n), mean = TestBuffer(rows), rstd = TestBuffer(rows)
        LayerNorm.forward(out: ln.p, mean: mean.p, rstd: rstd.p, inp: x.p, weight: weight.p, bias: bias.p,
                          rows: rows, channels: C)
        let dout = TestBuffer(normal: n, rng: &rng), dinp = TestBuffer(n, fill: 0.5)
        let dweight = TestBuffer(C), dbias = TestBuffer(C)
        let scratch = TestBuffer(LayerNorm.scratchCount(rows: rows, channels: C))
        LayerNorm.backward(dinp: dinp.p, dweight: dweight.p, dbias: dbias.p, scratch: scratch.p, dout: dout.p, inp: x.p,
                           weight: weight.p, mean: mean.p, rstd: rstd.p, rows: rows, channels: C)
        out["layernorm"] = values(ln); out["layernorm mean"] = values(mean); out["layernorm rstd"] = values(rstd)
        out["layernorm dinp"] = values(dinp); out["layernorm dweight"] = values(dweight)
        out["layernorm dbias"] = values(dbias)

        let logits = TestBuffer(normal: rows * V, std: 5, rng: &rng), losses = TestBuffer(rows)
        let targets = (0..<rows).map { Int32($0 * 7 % V) }
        let dlogits = TestBuffer(rows * V), trainingLosses = TestBuffer(rows)
        dlogits.copy(from: logits)
        SoftmaxCrossEntropy.forward(logitsToProbs: logits.p, losses: losses.p, targets: targets, rows: rows, vocab: V)
        out["softmax"] = values(logits); out["losses"] = values(losses)
        SoftmaxCrossEntropy.forwardBackward(logitsToDlogits: dlogits.p, losses: trainingLosses.p, targets: targets,
                                            scale: 0.25, rows: rows, vocab: V)
        out["dlogits"] = values(dlogits); out["training losses"] = values(trainingLosses)

        let residual = TestBuffer(normal: n, rng: &rng), mm = TestBuffer(n), w = TestBuffer(normal: C * C, rng: &rng)
        Matmul.forward(out: mm.p, inp: x.p, weight: w.p, bias: bias.p, residual: residual.p, rows: rows, inChannels: C,
                       outChannels: C)
        let dx = TestBuffer(n), dw = TestBuffer(C * C), db = TestBuffer(C, fill: 1)
        Matmul.backward(dinp: dx.p, dweight: dw.p, dbias: db.p, dout: dout.p, inp: x.p, weight: w.p, rows: rows,
                        inChannels: C, outChannels: C)
        out["matmul+bias+residual"] = values(mm); out["matmul dbias"] = values(db)

        // The attention's causal softmax and its backward: T = 70 crosses a query tile (64) and
        // leaves partial 16-lane groups.
        let AB = 2, AT = 70, AC = 16, heads = 2
        let qkv = TestBuffer(normal: AB * AT * 3 * AC, std: 2, rng: &rng), att = TestBuffer(AB * AT * AC)
        let stats = TestBuffer(Attention.statsCount(batch: AB, time: AT, heads: heads))
        let attScratch = TestBuffer(Attention.scratchCount(time: AT))
        Attention.forward(out: att.p, stats: stats.p, scratch: attScratch.p, qkv: qkv.p, batch: AB, time: AT,
                          channels: AC, heads: heads)
        let dy = TestBuffer(normal: AB * AT * AC, rng: &rng), dqkv = TestBuffer(AB * AT * 3 * AC)
        Attention.backward(dqkv: dqkv.p, scratch: attScratch.p, dout: dy.p, qkv: qkv.p, stats: stats.p, batch: AB,
                           time: AT, channels: AC, heads: heads)
        out["attention"] = values(att); out["attention stats"] = values(stats); out["attention dqkv"] = values(dqkv)

        let p = TestBuffer(normal: n, rng: &rng), g = TestBuffer(normal: n, rng: &rng)
        let tensors = [ParameterTensor(name: "w", shape: [rows, C], offset: 0, count: n - 100, decays: true),
                       ParameterTensor(name: "b", shape: [100], offset: n - 100, count: 100, decays: false)]
        let optimizer = AdamW(parameterCount: n)
        for _ in 0..<3 {
            optimizer.update(parameters: UnsafeMutableBufferPointer(start: p.p, count: n),
                             gradients: UnsafeMutableBufferPointer(start: g.p, count: n), tensors: tensors,
                             learningRate: 1e-2)
        }
        out["adamw parameters"] = values(p); out["adamw m"] = Array(optimizer.m); out["adamw v"] = Array(optimizer.v)
        out["gradient norm"] = [gradientNorm(UnsafeMutableBufferPointer(start: g.p, count: n))]
        return out
    }

    private func checkAgainstDouble(_ v: KernelVariant) throws {
        try require(v)
        var rng = SplitMix64(seed: 22)
        let rows = 9, C = 45, V = 67, n = rows * C

        // GELU and gelu' from the exact tanh, -10 ... 10.
        let count = 4001
        let x = TestBuffer(count), gelu = TestBuffer(count), derivative = TestBuffer(count)
        for i in 0..<count { x.p[i] = Float(i - count / 2) * 0.005 }
        GELU.forward(out: gelu.p, derivative: derivative.p, inp: x.p, count: count)
        let k = (2 / Double.pi).squareRoot()
        let exactGELU = (0..<count).map { i -> Float in
            let x = Double(x.p[i])
            return Float(0.5 * x * (1 + tanh(k * (x + 0.044715 * x * x * x))))
        }
        let exactDerivative = (0..<count).map { i -> Float in
            let x = Double(x.p[i]), th = tanh(k * (x + 0.044715 * x * x * x))
            return Float(0.5 * (1 + th) + 0.5 * x * (1 - th * th) * k * (1 + 3 * 0.044715 * x * x))
        }
        assertClose((0..<count).map { gelu.p[$0] }, exactGELU, absolute: 1e-6, relative: 1e-6, "\(v) gelu")
        // gelu' for x below ~-4 is 1 + tanh -> 0 minus a like term: in Float both vanish where
        // tanh rounds to -1, an absolute error up to ~5e-6 (the formula's, in every variant).
        assertClose((0..<count).map { derivative.p[$0] }, exactDerivative, absolute: 1e-5, relative: 1e-5, "\(v) gelu'")

        // LayerNorm forward.
        let inp = TestBuffer(normal: n, std: 2, rng: &rng), weight = TestBuffer(normal: C, rng: &rng)
        let bias = TestBuffer(normal: C, rng: &rng), ln = TestBuffer(n)
        let mean = TestBuffer(rows), rstd = TestBuffer(rows)
        LayerNorm.forward(out: ln.p, mean: mean.p, rstd: rstd.p, inp: inp.p, weight: weight.p, bias: bias.p,
                          rows: rows, channels: C)
        var exactLN: [Float] = []
        for r in 0..<rows {
            let row = (0..<C).map { Double(inp.p[r * C + $0]) }
            let m = row.reduce(0, +) / Double(C)
            let s = 1 / (row.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(C) + 1e-5).squareRoot()
            exactLN += (0..<C).map { Float((row[$0] - m) * s * Double(weight.p[$0]) + Double(bias.p[$0])) }
        }
        assertClose((0..<n).map { ln.p[$0] }, exactLN, absolute: 1e-5, relative: 1e-5, "\(v) layernorm")

        // Softmax and cross-entropy, wide logits.
        let logits = TestBuffer(normal: rows * V, std: 20, rng: &rng), work = TestBuffer(rows * V)
        let losses = TestBuffer(rows)
        work.copy(from: logits)
        let targets = (0..<rows).map { Int32($0 * 5 % V) }
        SoftmaxCrossEntropy.forward(logitsToProbs: work.p, losses: losses.p, targets: targets, rows: rows, vocab: V)
        var exactProbs: [Float] = [], exactLosses: [Float] = []
        for r in 0..<rows {
            let row = (0..<V).map { Double(logits.p[r * V + $0]) }, top = row.max()!
            let sum = row.map { exp($0 - top) }.reduce(0, +)
            exactProbs += row.map { Float(exp($0 - top) / sum) }
            exactLosses.append(Float(log(sum) + top - row[Int(targets[r])]))
        }
        assertClose((0..<rows * V).map { work.p[$0] }, exactProbs, absolute: 1e-7, relative: 1e-5, "\(v) softmax")
        assertClose((0..<rows).map { losses.p[$0] }, exactLosses, absolute: 1e-5, relative: 1e-6, "\(v) losses")

        // AdamW, one step from zero moments, against PyTorch's formula in Double.
        let p = TestBuffer(normal: n, rng: &rng), g = TestBuffer(normal: n, rng: &rng)
        let before = (0..<n).map { Double(p.p[$0]) }
        let config = AdamWConfig()
        let optimizer = AdamW(parameterCount: n, config: config)
        optimizer.update(parameters: UnsafeMutableBufferPointer(start: p.p, count: n),
                         gradients: UnsafeMutableBufferPointer(start: g.p, count: n),
                         tensors: [ParameterTensor(name: "w", shape: [rows, C], offset: 0, count: n, decays: true)],
                         learningRate: 1e-2)
        let (b1, b2) = (Double(config.beta1), Double(config.beta2))
        let (eps, wd) = (Double(config.eps), Double(config.weightDecay))
        let exactP = (0..<n).map { i -> Float in
            let gi = Double(g.p[i]), m = (1 - b1) * gi, vv = (1 - b2) * gi * gi
            let update = (m / (1 - b1)) / ((vv / (1 - b2)).squareRoot() + eps)
            return Float(before[i] - 1e-2 * (update + wd * before[i]))
        }
        assertClose((0..<n).map { p.p[$0] }, exactP, absolute: 1e-6, relative: 1e-6, "\(v) adamw")

        // The global gradient norm.
        let exactNorm = (0..<n).map { Double(g.p[$0]) * Double(g.p[$0]) }.reduce(0, +).squareRoot()
        XCTAssertEqual(Double(gradientNorm(UnsafeMutableBufferPointer(start: g.p, count: n))), exactNorm,
                       accuracy: 1e-5 * exactNorm, "\(v) gradient norm")
    }

    /// Two AdamW steps of a small model (every kernel on the path, tails included: C = 40).
    private func trainingSteps(_ v: KernelVariant) -> (losses: [Float], parameters: [Float]) {
        XCTAssertTrue(Kernels.select(v))
        let config = GPTConfig(vocabSize: 101, contextLength: 16, layers: 2, heads: 2, modelDim: 40)
        let model = GPT(config: config, batchSize: 3, sequenceLength: 16, seed: 4)
        let optimizer = AdamW(parameterCount: model.parameterCount)
        var rng = SplitMix64(seed: 5)
        let tokens = (0...48).map { _ in Int32(rng.next() % 101) }
        var losses: [Float] = []
        for _ in 0..<2 {
            model.zeroGradients()
            losses.append(model.forwardBackward(inputs: tokens, targets: Array(tokens[1...])))
            clipGradients(model.gradients, maxNorm: 1)
            optimizer.update(model: model, learningRate: 1e-3)
        }
        return (losses, Array(model.parameters))
    }
}
