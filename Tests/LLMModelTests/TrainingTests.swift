import Foundation
import LLMTestSupport
import XCTest
import LLMModel
import LLMSupport

final class TrainingTests: XCTestCase {
    func randomTokens(_ n: Int, vocab: Int, seed: UInt64) -> [Int32] {
        var rng = SplitMix64(seed: seed)
        return (0..<n).map { _ in Int32(rng.next() % UInt64(vocab)) }
    }

    func testInitialLossIsLogVocab() {
        let config = GPTConfig(vocabSize: 256, contextLength: 16, layers: 2, heads: 2, modelDim: 32)
        let model = GPT(config: config, batchSize: 4, sequenceLength: 16, seed: 1)
        let tokens = randomTokens(4 * 16 + 1, vocab: 256, seed: 2)
        let loss = tokens.withUnsafeBufferPointer { model.forward(inputs: $0.baseAddress!, targets: $0.baseAddress! + 1) }
        XCTAssertEqual(Double(loss), log(256.0), accuracy: 0.01 * log(256.0))
    }

    func testInitialisationFollowsGPT2() {
        let config = GPTConfig(vocabSize: 64, contextLength: 16, layers: 4, heads: 2, modelDim: 32)
        let model = GPT(config: config, batchSize: 1, sequenceLength: 8, seed: 3)
        func std(_ name: String) -> Double {
            let t = model.tensor(name)!
            let xs = model.parameters[t.offset..<(t.offset + t.count)].map(Double.init)
            let mean = xs.reduce(0, +) / Double(xs.count)
            return (xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(xs.count)).squareRoot()
        }
        XCTAssertEqual(std("wte.weight"), 0.02, accuracy: 0.002)
        XCTAssertEqual(std("h.1.mlp.c_fc.weight"), 0.02, accuracy: 0.002)
        XCTAssertEqual(std("h.2.mlp.c_proj.weight"), 0.02 / 8.0.squareRoot(), accuracy: 0.001)
        XCTAssertEqual(std("h.3.attn.c_proj.weight"), 0.02 / 8.0.squareRoot(), accuracy: 0.001)
        for t in model.tensors where t.shape.count == 1 {
            let expected: Float = t.name.contains("ln_") && t.name.hasSuffix(".weight") ? 1 : 0
            XCTAssertTrue(model.parameters[t.offset..<(t.offset + t.count)].allSatisfy { $0 == expected }, t.name)
            XCTAssertFalse(t.decays, t.name)
        }
        XCTAssertEqual(model.tensor("h.0.attn.c_attn.weight")?.shape, [32, 96])
        XCTAssertTrue(model.tensor("wpe.weight")!.decays)
        XCTAssertEqual(model.tensors.last.map { $0.offset + $0.count }, model.parameterCount)
        // Same seed, same weights; another seed, other weights.
        let again = GPT(config: config, batchSize: 2, sequenceLength: 4, seed: 3)
        assertBitIdentical(Array(model.parameters), Array(again.parameters), "weights from the same seed")
        let other = GPT(config: config, batchSize: 1, sequenceLength: 8, seed: 4)
        XCTAssertFalse(zip(model.parameters, other.parameters).allSatisfy { $0.0 == $0.1 })
    }

    /// Trains `steps` AdamW steps on one fixed batch and returns the losses.
    func train(config: GPTConfig, seed: UInt64, steps: Int, lr: Float, B: Int = 2, T: Int = 16) -> [Float] {
        let model = GPT(config: config, batchSize: B, sequenceLength: T, seed: seed)
        let optimizer = AdamW(parameterCount: model.parameterCount, config: AdamWConfig(weightDecay: 0))
        let tokens = randomTokens(B * T + 1, vocab: config.vocabSize, seed: 5)
        return tokens.withUnsafeBufferPointer { buf in
            (0..<steps).map { _ in
                model.zeroGradients()
                let loss = model.forwardBackward(inputs: buf.baseAddress!, targets: buf.baseAddress! + 1)
                clipGradients(model.gradients, maxNorm: 1)
                optimizer.update(model: model, learningRate: lr)
                return loss
            }
        }
    }

    func testOverfitsOneBatch() {
        let config = GPTConfig(vocabSize: 32, contextLength: 16, layers: 2, heads: 2, modelDim: 32)
        let losses = train(config: config, seed: 11, steps: 60, lr: 1e-2)
        XCTAssertLessThan(losses.last!, 0.1, "losses: \(losses.first!) ... \(losses.suffix(3))")
    }

    func testSameSeedIsBitIdenticalAndSeedsDiffer() {
        let config = GPTConfig(vocabSize: 32, contextLength: 16, layers: 2, heads: 2, modelDim: 16, activation: .relu)
        let a = train(config: config, seed: 21, steps: 20, lr: 3e-3)
        let b = train(config: config, seed: 21, steps: 20, lr: 3e-3)
        let c = train(config: config, seed: 22, steps: 20, lr: 3e-3)
        assertBitIdentical(a, b, "losses of the same seed")
        XCTAssertNotEqual(a.map(\.bitPattern), c.map(\.bitPattern))
        XCTAssertLessThan(a.last!, a.first!)
    }

    /// Two micro-batches of one sequence with lossScale 1/2 give the gradient of one batch of two.
    func testGradientAccumulationMatchesBigBatch() {
        let config = GPTConfig(vocabSize: 16, contextLength: 8, layers: 1, heads: 2, modelDim: 8)
        let T = 6
        let tokens = randomTokens(2 * T + 1, vocab: 16, seed: 9)
        let inputs = Array(tokens[0..<(2 * T)]), targets = Array(tokens[1...])
        let big = GPT(config: config, batchSize: 2, sequenceLength: T, seed: 1)
        let small = GPT(config: config, batchSize: 1, sequenceLength: T, seed: 1)
        big.zeroGradients()
        let bigLoss = big.forwardBackward(inputs: inputs, targets: targets)
        small.zeroGradients()
        var smallLoss: Float = 0
        for micro in 0..<2 {
            smallLoss += small.forwardBackward(inputs: Array(inputs[(micro * T)..<((micro + 1) * T)]),
                                               targets: Array(targets[(micro * T)..<((micro + 1) * T)]),
                                               lossScale: 0.5) / 2
        }
        XCTAssertEqual(bigLoss, smallLoss, accuracy: 1e-5)
        XCTAssertLessThan(relativeError(big.gradients.map(Double.init), small.gradients.map(Double.init)), 1e-5)
    }

    func testDebugChecksReportLayer() {
        let config = GPTConfig(vocabSize: 16, contextLength: 8, layers: 3, heads: 2, modelDim: 8)
        let model = GPT(config: config, batchSize: 1, sequenceLength: 4, seed: 1)
        let tokens: [Int32] = [1, 2, 3, 4, 5]
        model.debugChecks = true
        model.forward(inputs: tokens, targets: Array(tokens[1...]))
        XCTAssertNil(model.nonFinite)
        model.parameters[model.tensor("h.1.mlp.c_fc.bias")!.offset] = .nan
        model.forward(inputs: tokens, targets: nil)
        XCTAssertEqual(model.nonFinite?.layer, 1)
        XCTAssertEqual(model.nonFinite?.activation, "mlp.c_fc")
    }

    func testLogitsWithoutTargets() {
        let config = GPTConfig(vocabSize: 16, contextLength: 8, layers: 1, heads: 2, modelDim: 8)
        let model = GPT(config: config, batchSize: 1, sequenceLength: 4, seed: 1)
        let tokens: [Int32] = [1, 2, 3, 4, 5]
        XCTAssertTrue(model.forward(inputs: tokens, targets: nil).isNaN)
        let logits = Array(model.logits)
        let loss = model.forward(inputs: tokens, targets: Array(tokens[1...]))
        // The loss recomputed from the logits of the first pass.
        var sum = 0.0
        for r in 0..<4 {
            let row = logits[(r * 16)..<((r + 1) * 16)].map(Double.init)
            sum += log(row.map { exp($0) }.reduce(0, +)) - row[Int(tokens[r + 1])]
        }
        XCTAssertEqual(Double(loss), sum / 4, accuracy: 1e-5)
    }
}

/// The threaded kernels only split work on sizes above their chunk thresholds, so this uses a
/// model big enough to take every parallel path (rows, channels, heads, AdamW chunks).
final class ThreadingTests: XCTestCase {
    func gradientsAndLosses(threads: Int, steps: Int) -> ([Float], [Float]) {
        let saved = BLASThreads.current
        BLASThreads.set(threads)
        defer { BLASThreads.set(saved) }
        // 1024 positions and a 2048-token vocabulary: every forward GEMM of the model is cut into parts,
        // and each layer's two backward products run side by side.
        let config = GPTConfig(vocabSize: 2048, contextLength: 64, layers: 1, heads: 4, modelDim: 128)
        let B = 16, T = 64
        let model = GPT(config: config, batchSize: B, sequenceLength: T, seed: 5)
        let optimizer = AdamW(parameterCount: model.parameterCount)
        var rng = SplitMix64(seed: 6)
        let tokens = (0...(B * T)).map { _ in Int32(rng.next() % 2048) }
        var losses: [Float] = []
        for _ in 0..<steps {
            model.zeroGradients()
            losses.append(model.forwardBackward(inputs: tokens, targets: Array(tokens[1...])))
            clipGradients(model.gradients, maxNorm: 1)
            optimizer.update(model: model, learningRate: 1e-3)
        }
        return (Array(model.gradients), losses)
    }

    func testTwoThreadsAreBitIdenticalToOneThread() throws {
        try XCTSkipIf(ProcessInfo.processInfo.activeProcessorCount < 2,
                      "one core: the compute workers are capped at the core count, so both runs would use one thread")
        let (g1, l1) = gradientsAndLosses(threads: 1, steps: 2)
        let (g2, l2) = gradientsAndLosses(threads: 2, steps: 2)
        // sgemm cuts products by shape alone, never along k, and every elementwise output has one
        // owner, so the thread count does not change a single rounding, whatever the BLAS kernel
        // (OPENBLAS_CORETYPE=Haswell reproduces the AMD Zen 3 kernel on other x86 CPUs).
        assertBitIdentical(l1, l2, "losses")
        assertBitIdentical(g1, g2, "gradients")
    }
}

/// Recomputation runs the forward's kernels again on the kept inputs, so it must not change a bit.
final class RecomputeTests: XCTestCase {
    func lossesAndGradients(_ recompute: Recompute, activation: GPTConfig.Activation, threads: Int) -> ([Float], [Float]) {
        let saved = BLASThreads.current
        BLASThreads.set(threads)
        defer { BLASThreads.set(saved) }
        // Three layers (the last block's buffers are reused, the others recomputed), two attention
        // tiles, and B x 80 positions: two chunks of the LM head (a whole one and 128 rows).
        let T = 80, B = (GPT.headChunk + 128) / T
        let config = GPTConfig(vocabSize: 128, contextLength: T, layers: 3, heads: 2, modelDim: 32, activation: activation)
        let model = GPT(config: config, batchSize: B, sequenceLength: T, seed: 9, recompute: recompute)
        var rng = SplitMix64(seed: 10)
        let tokens = (0...(B * T)).map { _ in Int32(rng.next() % 128) }
        model.forward(inputs: tokens, targets: nil)
        let logits = Array(model.logits)
        var losses: [Float] = []
        for lossScale: Float in [1, 0.5] {   // two backward passes accumulate, as gradient accumulation does
            losses.append(model.forwardBackward(inputs: tokens, targets: Array(tokens[1...]), lossScale: lossScale))
        }
        return (losses + logits, Array(model.gradients))
    }

    /// DP-SGD's clipped pass runs a second backward over one forward: it must find every block's
    /// activations again (the shared buffers hold block 0's after the first backward), in each mode.
    func testSecondBackwardOverOneForwardRepeatsTheFirst() {
        for activation in GPTConfig.Activation.allCases {
            var reference: [Float]?
            for recompute in Recompute.allCases {
                let config = GPTConfig(vocabSize: 64, contextLength: 16, layers: 3, heads: 2, modelDim: 16,
                                       activation: activation)
                let B = 3, T = 16
                let model = GPT(config: config, batchSize: B, sequenceLength: T, seed: 4, recompute: recompute)
                var rng = SplitMix64(seed: 5)
                let tokens = (0..<(B * T)).map { _ in Int32(rng.next() % 64) }
                var dHidden = [Float](repeating: 0, count: B * T * 16)
                rng.fillNormal(&dHidden, count: dHidden.count, std: 1)
                model.forwardHidden(inputs: tokens, batch: B, time: T)
                var passes: [[Float]] = []
                for _ in 0..<2 {
                    model.zeroGradients()
                    model.backwardHidden(dHidden)
                    passes.append(Array(model.gradients))
                }
                let what = "\(recompute), \(activation)"
                XCTAssertTrue(passes[0].contains { $0 != 0 }, what)
                assertBitIdentical(passes[1], passes[0], "second backward vs first, " + what)
                if let reference { assertBitIdentical(passes[0], reference, "\(what) vs none") }
                reference = reference ?? passes[0]
            }
        }
    }

    func testRecomputedGradientsAreBitIdentical() {
        for activation in GPTConfig.Activation.allCases {
            for threads in [1, 2] {
                let (l0, g0) = lossesAndGradients(.none, activation: activation, threads: threads)
                XCTAssertTrue(g0.contains { $0 != 0 } && l0.allSatisfy(\.isFinite))
                for recompute in [Recompute.attention, .blocks] {
                    let (l, g) = lossesAndGradients(recompute, activation: activation, threads: threads)
                    let what = "\(recompute) vs none, \(activation), \(threads) thread(s)"
                    assertBitIdentical(l, l0, "losses and logits, " + what)
                    assertBitIdentical(g, g0, "gradients, " + what)
                }
            }
        }
    }

    /// The trunk alone (task heads) over fewer rows than the model was built for.
    func testRecomputedTrunkGradientsAreBitIdentical() {
        let config = GPTConfig(vocabSize: 64, contextLength: 80, layers: 2, heads: 2, modelDim: 32)
        var rng = SplitMix64(seed: 11)
        let tokens = (0..<(2 * 70)).map { _ in Int32(rng.next() % 64) }
        let dHidden = (0..<(2 * 70 * 32)).map { _ in Float(Int(rng.next() % 200) - 100) / 100 }
        func gradients(_ recompute: Recompute) -> [Float] {
            let model = GPT(config: config, batchSize: 3, sequenceLength: 80, seed: 12, recompute: recompute)
            model.forwardHidden(inputs: tokens, batch: 2, time: 70)
            model.backwardHidden(dHidden)
            return Array(model.gradients)
        }
        let reference = gradients(.none)
        XCTAssertTrue(reference.contains { $0 != 0 })
        assertBitIdentical(gradients(.attention), reference, "attention vs none")
        assertBitIdentical(gradients(.blocks), reference, "blocks vs none")
    }
}
