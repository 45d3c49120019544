import Foundation
import LLMTestSupport
import XCTest
@testable import LLMModel
import LLMSupport

final class OptimizerTests: XCTestCase {
    /// Two AdamW steps on a 2x2 matrix (decayed) and a bias (not decayed), with clipping,
    /// against the update written out by hand in Double.
    func testAdamWMatchesHandComputedUpdate() {
        let tensors = [
            ParameterTensor(name: "w", shape: [2, 2], offset: 0, count: 4, decays: true),
            ParameterTensor(name: "b", shape: [2], offset: 4, count: 2, decays: false),
        ]
        let params = UnsafeMutableBufferPointer<Float>.allocate(capacity: 6)
        let grads = UnsafeMutableBufferPointer<Float>.allocate(capacity: 6)
        defer { params.deallocate(); grads.deallocate() }
        let p0: [Float] = [0.5, -1, 2, 0.25, 1, -0.5]
        _ = params.initialize(from: p0)
        let config = AdamWConfig(learningRate: 0, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1)
        let optimizer = AdamW(parameterCount: 6, config: config)
        let lr = 0.01
        let gradSteps: [[Float]] = [[3, 0, 4, 0, 0, 0], [0.1, -0.2, 0.3, 0, 0.5, -0.5]]
        var p = p0.map(Double.init), m = [Double](repeating: 0, count: 6), v = m
        for (t, g) in gradSteps.enumerated() {
            _ = grads.initialize(from: g)
            let norm = clipGradients(grads, maxNorm: 1)
            // By hand: clip to norm 1, then AdamW.
            let rawNorm = g.map { Double($0) * Double($0) }.reduce(0, +).squareRoot()
            XCTAssertEqual(Double(norm), rawNorm, accuracy: 1e-6)
            let clip = rawNorm > 1 ? 1 / (rawNorm + 1e-6) : 1
            for i in 0..<6 {
                let gi = Double(g[i]) * clip
                XCTAssertEqual(Double(grads[i]), gi, accuracy: 1e-7)
                m[i] = 0.9 * m[i] + 0.1 * gi
                v[i] = 0.99 * v[i] + 0.01 * gi * gi
                let mhat = m[i] / (1 - pow(0.9, Double(t + 1))), vhat = v[i] / (1 - pow(0.99, Double(t + 1)))
                let wd = i < 4 ? 0.1 : 0
                p[i] -= lr * (mhat / (vhat.squareRoot() + 1e-8) + wd * p[i])
            }
            optimizer.update(parameters: params, gradients: grads, tensors: tensors, learningRate: Float(lr))
            for i in 0..<6 {
                XCTAssertEqual(Double(params[i]), p[i], accuracy: 1e-6, "step \(t) element \(i)")
                XCTAssertEqual(Double(optimizer.m[i]), m[i], accuracy: 1e-6)
                XCTAssertEqual(Double(optimizer.v[i]), v[i], accuracy: 1e-7)
            }
        }
        XCTAssertEqual(optimizer.step, 2)
    }

    func testWeightDecayOnlyOnMatrices() {
        let tensors = [
            ParameterTensor(name: "w", shape: [1, 1], offset: 0, count: 1, decays: true),
            ParameterTensor(name: "b", shape: [1], offset: 1, count: 1, decays: false),
        ]
        let params = UnsafeMutableBufferPointer<Float>.allocate(capacity: 2)
        let grads = UnsafeMutableBufferPointer<Float>.allocate(capacity: 2)
        defer { params.deallocate(); grads.deallocate() }
        _ = params.initialize(from: [2, 2])
        _ = grads.initialize(from: [0, 0])
        let optimizer = AdamW(parameterCount: 2, config: AdamWConfig(weightDecay: 0.5))
        optimizer.update(parameters: params, gradients: grads, tensors: tensors, learningRate: 0.1)
        XCTAssertEqual(params[0], 2 - 0.1 * 0.5 * 2, accuracy: 1e-7)
        XCTAssertEqual(params[1], 2)
    }

    /// The trainer's clipping: AdamW reading the gradients through the clip factor must give the
    /// bits of scaling them first and stepping (the old path), over tensors of both kinds, three
    /// steps, with a factor that rounds (not a power of two).
    func testGradientScaleGivesTheBitsOfScalingFirst() {
        let n = 1000
        let tensors = [ParameterTensor(name: "w", shape: [30, 30], offset: 0, count: 900, decays: true),
                       ParameterTensor(name: "b", shape: [100], offset: 900, count: 100, decays: false)]
        var rng = SplitMix64(seed: 9)
        let start = UnsafeMutableBufferPointer<Float>.allocate(capacity: n)
        let grads = UnsafeMutableBufferPointer<Float>.allocate(capacity: n)
        let scaled = UnsafeMutableBufferPointer<Float>.allocate(capacity: n)
        let a = UnsafeMutableBufferPointer<Float>.allocate(capacity: n)
        let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: n)
        defer { [start, grads, scaled, a, b].forEach { $0.deallocate() } }
        rng.fillNormal(start.baseAddress!, count: n, std: 1)
        _ = a.initialize(from: start)
        _ = b.initialize(from: start)
        let folded = AdamW(parameterCount: n), separate = AdamW(parameterCount: n)
        let factor: Float = 0.3 / 1.7
        for _ in 0..<3 {
            rng.fillNormal(grads.baseAddress!, count: n, std: 2)
            _ = scaled.initialize(from: grads)
            scaleGradients(scaled, by: factor, in: [0..<n])
            folded.update(parameters: a, gradients: grads, tensors: tensors, learningRate: 0.01, gradientScale: factor)
            separate.update(parameters: b, gradients: scaled, tensors: tensors, learningRate: 0.01)
        }
        assertBitIdentical(Array(a), Array(b), "parameters")
        assertBitIdentical(Array(folded.m), Array(separate.m), "m")
        assertBitIdentical(Array(folded.v), Array(separate.v), "v")
        XCTAssertNotEqual(Array(a), Array(start), "the steps moved the parameters")
    }

    func testClippingLeavesSmallGradients() {
        let grads = UnsafeMutableBufferPointer<Float>.allocate(capacity: 2)
        defer { grads.deallocate() }
        _ = grads.initialize(from: [0.3, 0.4])
        XCTAssertEqual(clipGradients(grads, maxNorm: 1), 0.5, accuracy: 1e-7)
        XCTAssertEqual(Array(grads), [0.3, 0.4])
    }

    func testLearningRateSchedule() {
        let s = LearningRateSchedule(maxLR: 1e-3, minLR: 1e-4, warmupSteps: 10, totalSteps: 110)
        XCTAssertEqual(s.rate(at: 0), 1e-4, accuracy: 1e-9)
        XCTAssertEqual(s.rate(at: 4), 5e-4, accuracy: 1e-9)
        XCTAssertEqual(s.rate(at: 9), 1e-3, accuracy: 1e-9)
        XCTAssertEqual(s.rate(at: 10), 1e-3, accuracy: 1e-9)   // peak: start of the cosine
        XCTAssertEqual(s.rate(at: 60), 5.5e-4, accuracy: 1e-9)  // half way: mid-point of max and min
        XCTAssertEqual(s.rate(at: 109), 1e-4, accuracy: 1e-6)   // one step before the floor
        XCTAssertEqual(s.rate(at: 110), 1e-4)
        XCTAssertEqual(s.rate(at: 1000), 1e-4)
        for step in 10..<109 { XCTAssertGreaterThanOrEqual(s.rate(at: step), s.rate(at: step + 1)) }
    }

    func testSplitMix64ReferenceValues() {
        // First outputs for seed 0 from the reference C implementation (Vigna).
        var rng = SplitMix64(seed: 0)
        XCTAssertEqual(rng.next(), 0xE220_A839_7B1D_CDAF)
        XCTAssertEqual(rng.next(), 0x6E78_9E6A_A1B9_65F4)
        XCTAssertEqual(rng.state, 2 &* 0x9E37_79B9_7F4A_7C15)
        var a = SplitMix64(seed: 5), b = a
        let n = 10_000
        let xs = UnsafeMutablePointer<Float>.allocate(capacity: n)
        defer { xs.deallocate() }
        a.fillNormal(xs, count: n, std: 2)
        let mean = (0..<n).reduce(0.0) { $0 + Double(xs[$1]) } / Double(n)
        let variance = (0..<n).reduce(0.0) { $0 + (Double(xs[$1]) - mean) * (Double(xs[$1]) - mean) } / Double(n)
        XCTAssertEqual(mean, 0, accuracy: 0.06)
        XCTAssertEqual(variance.squareRoot(), 2, accuracy: 0.06)
        _ = b.next()
        XCTAssertNotEqual(a, b)
    }

    func testFLOPsPerToken() {
        let c = GPTConfig(vocabSize: 100, contextLength: 16, layers: 2, heads: 2, modelDim: 8)
        let perBlock = 2 * 8 + (8 * 24 + 24) + (8 * 8 + 8) + 2 * 8 + (8 * 32 + 32) + (32 * 8 + 8)
        let n = 100 * 8 + 2 * perBlock + 2 * 8   // all but wpe
        XCTAssertEqual(trainingFLOPsPerToken(config: c, sequenceLength: 16), Double(6 * n + 12 * 2 * 8 * 16))
        XCTAssertEqual(modelFLOPsUtilization(config: c, sequenceLength: 16, tokensPerSecond: 1e9 / Double(6 * n + 12 * 2 * 8 * 16),
                                             threads: 2), 0.005, accuracy: 1e-12)
    }
}

final class BLASTests: XCTestCase {
    func testCoreTypeRecommendationOnlyForTheFallback() {
        XCTAssertFalse(BLASThreads.coreName.isEmpty)
        if BLASThreads.coreName.lowercased() != "prescott" { XCTAssertNil(BLASThreads.recommendedCoreType) }
    }

    func testNarrowKernelNoteOnlyWhenTheVariableHoldsBackAnAVX512CPU() {
        let zen5: Set = ["avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_bf16"]
        let zen3: Set = ["avx2", "fma"]
        let note = BLASThreads.narrowKernelNoteFor(forced: "Haswell", coreName: "Haswell", cpuFlags: zen5)
        XCTAssertTrue(note?.contains("OPENBLAS_CORETYPE=Haswell holds OpenBLAS to its Haswell kernel") == true, note ?? "nil")
        XCTAssertTrue(note?.contains("Cooperlake kernel") == true, note ?? "nil")
        XCTAssertTrue(BLASThreads.narrowKernelNoteFor(forced: "Haswell", coreName: "Haswell", cpuFlags: zen5.subtracting(["avx512_bf16"]))?
                          .contains("SkylakeX kernel") == true)
        // Nothing to say: no variable, an AVX-512 kernel already, or a CPU without AVX-512.
        XCTAssertNil(BLASThreads.narrowKernelNoteFor(forced: nil, coreName: "Haswell", cpuFlags: zen5))
        XCTAssertNil(BLASThreads.narrowKernelNoteFor(forced: "", coreName: "Haswell", cpuFlags: zen5))
        XCTAssertNil(BLASThreads.narrowKernelNoteFor(forced: "SkylakeX", coreName: "SkylakeX", cpuFlags: zen5))
        XCTAssertNil(BLASThreads.narrowKernelNoteFor(forced: "Cooperlake", coreName: "Cooperlake", cpuFlags: zen5))
        XCTAssertNil(BLASThreads.narrowKernelNoteFor(forced: "Haswell", coreName: "Haswell", cpuFlags: zen3))
    }
}
