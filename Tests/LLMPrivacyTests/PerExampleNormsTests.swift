import LLMModel
import LLMTrain
import LLMSupport
import LLMTestSupport
import XCTest
@testable import LLMPrivacy

/// The per-example gradient norms of one batched backward against the slow reference: each
/// example alone, its own forward and full backward, the norm of that gradient.
final class PerExampleNormsTests: XCTestCase {
    // A tiny vocabulary so tokens repeat within a post (the token embedding's shared rows).
    let config = GPTConfig(vocabSize: 7, contextLength: 24, layers: 2, heads: 2, modelDim: 16)

    func makeModel(batch: Int, time: Int) -> GPT {
        let model = GPT(config: config, batchSize: batch, sequenceLength: time, seed: 5)
        // Larger-than-init weights and non-trivial LayerNorm gains, so every layer matters.
        var rng = SplitMix64(seed: 17)
        for t in model.tensors {
            let gain = t.name.hasSuffix(".weight") && t.shape.count == 1
            rng.fillNormal(model.parameters.baseAddress! + t.offset, count: t.count, mean: gain ? 1 : 0,
                           std: t.shape.count >= 2 ? 0.3 : 0.2)
        }
        return model
    }

    /// Posts of different lengths, right-padded; d(loss)/d(hidden) is random on each post's
    /// real positions and zero on the padding (what the pooled task head hands the trunk).
    struct Batch {
        var posts: [[Int32]]
        var dHidden: [[Float]]   // per post, (length, C)
    }

    func makeBatch(lengths: [Int], seed: UInt64) -> Batch {
        var rng = SplitMix64(seed: seed)
        let posts = lengths.map { n in (0..<n).map { _ in Int32(rng.next() % UInt64(config.vocabSize)) } }
        let dHidden = lengths.map { n -> [Float] in
            var d = [Float](repeating: 0, count: n * config.modelDim)
            d.withUnsafeMutableBufferPointer { rng.fillNormal($0.baseAddress!, count: $0.count, std: 1) }
            return d
        }
        return Batch(posts: posts, dHidden: dHidden)
    }

    /// Runs the batch padded to its longest post, leaving in model.gradients the gradient of
    /// sum_b multipliers[b] * <dHidden_b, hidden_b>; with `collect`, returns its own collector's
    /// squared norms (without, whichever collector the caller set sees the backward).
    @discardableResult
    func batched(_ model: GPT, _ batch: Batch, multipliers: [Float]? = nil, collect: Bool = true) -> [Double] {
        let C = config.modelDim, T = batch.posts.map(\.count).max()!, B = batch.posts.count
        var inputs = [Int32](repeating: 0, count: B * T), d = [Float](repeating: 0, count: B * T * C)
        for (b, post) in batch.posts.enumerated() {
            for (t, id) in post.enumerated() { inputs[b * T + t] = id }
            for i in 0..<batch.dHidden[b].count { d[b * T * C + i] = batch.dHidden[b][i] * (multipliers?[b] ?? 1) }
        }
        let norms = PerExampleGradientNorms()
        if collect {
            model.zeroGradients()
            model.perExampleNorms = norms
        }
        model.forwardHidden(inputs: inputs, batch: B, time: T)
        model.backwardHidden(d)
        if collect { model.perExampleNorms = nil }
        return norms.squaredNorms
    }

    /// Example b alone (no padding): its gradient.
    func alone(_ model: GPT, _ batch: Batch, _ b: Int) -> [Float] {
        model.zeroGradients()
        model.forwardHidden(inputs: batch.posts[b], batch: 1, time: batch.posts[b].count)
        model.backwardHidden(batch.dHidden[b])
        return Array(model.gradients)
    }

    func check(lengths: [Int], file: StaticString = #filePath, line: UInt = #line) {
        let model = makeModel(batch: lengths.count, time: lengths.max()!)
        let batch = makeBatch(lengths: lengths, seed: UInt64(lengths.reduce(0, +)))
        let ghost = batched(model, batch)
        for b in lengths.indices {
            let reference = alone(model, batch, b).reduce(0.0) { $0 + Double($1) * Double($1) }
            XCTAssertEqual(ghost[b], reference, accuracy: 1e-4 * reference, "post \(b) of lengths \(lengths)",
                           file: file, line: line)
        }
    }

    /// Short posts: every linear layer takes the Gram-matrix route, T (in + out) < in x out.
    func testShortPostsUseGramMatrices() { check(lengths: [5, 3, 1, 4]) }

    /// Long posts: every linear layer forms the example's weight gradient directly.
    func testLongPostsFormTheGradient() { check(lengths: [24, 17, 22]) }

    /// The clipped sum: DPSGD's one book-keeping backward against the sum of each example's own
    /// gradient, scaled by min(1, C / ||g_b||), with C between the norms so some are clipped and some not.
    func testClippedSumMatchesTheReference() throws { try checkClippedSum(weights: nil) }

    /// With per-example weights (class weights over the largest), applied after clipping: w_b min(1, C / ||g_b||).
    /// Weighting the loss before clipping instead scales clipped examples back to C, undoing the weights.
    func testWeightsApplyAfterClipping() throws { try checkClippedSum(weights: [0.45, 1, 0.45, 0.8]) }

    func checkClippedSum(weights: [Double]?, file: StaticString = #filePath, line: UInt = #line) throws {
        let lengths = [6, 9, 3, 8]
        let model = makeModel(batch: lengths.count, time: lengths.max()!)
        let batch = makeBatch(lengths: lengths, seed: 99)
        let single = lengths.indices.map { alone(model, batch, $0) }
        let norms = single.map { $0.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot() }
        var section = TrainConfig.PrivacySection()
        section.maxGradNorm = norms.sorted()[1] * 1.01
        section.noiseSeed = 1
        let dpsgd = try DPSGD(section: section, examples: 100, globalBatch: 10, steps: 10)
        let scale = 0.25
        var expected = [Double](repeating: 0, count: model.parameterCount)
        for (b, (g, n)) in zip(single, norms).enumerated() {
            let factor = (weights?[b] ?? 1) * min(1, section.maxGradNorm / n) * scale
            for i in g.indices { expected[i] += Double(g[i]) * factor }
        }
        // Accumulates onto what is there, as over a step's micro-batches: start from a known gradient.
        model.zeroGradients()
        model.gradients[0] = 3
        expected[0] += 3
        dpsgd.accumulateClipped(model: model, scale: scale, weights: weights) { s in
            batched(model, batch, multipliers: [Float](repeating: s, count: lengths.count), collect: false)
        }
        XCTAssertGreaterThan(norms.filter { $0 > section.maxGradNorm }.count, 1, "some examples are clipped",
                             file: file, line: line)
        XCTAssertLessThan(norms.filter { $0 > section.maxGradNorm }.count, lengths.count, "some are not",
                          file: file, line: line)
        let maximum = expected.map(abs).max()!
        assertClose(Array(model.gradients), expected.map(Float.init), absolute: Float(1e-4 * maximum),
                    "clipped sum of per-example gradients", file: file, line: line)
        XCTAssertNil(model.perExampleNorms, "the collector is unset after the micro-batch")
    }

    /// Book-keeping forms the gradients from the forward's activations after the backward:
    /// DP-SGD refuses the recompute modes, which drop them, naming the setting.
    func testClippingRefusesRecompute() throws {
        XCTAssertNoThrow(try DPSGD.requireKeptActivations(.none))
        for mode in [Recompute.attention, .blocks] {
            XCTAssertThrowsError(try DPSGD.requireKeptActivations(mode)) { error in
                XCTAssertTrue("\(error)".contains("train.recompute: \(mode.rawValue)"), "\(error)")
            }
        }
    }

    /// `trainedBlocks` K (task.trainable): the backward stops above the frozen blocks. The trained
    /// tail (ln_1 of block L-K onwards) gets bit for bit the full backward's gradients, the frozen
    /// tensors stay zero, and the norms are those of the trained tensors alone (K = 0: nothing).
    func testFrozenBlocksGetNoGradientAndNoNorm() {
        let lengths = [5, 3, 7]
        let model = makeModel(batch: lengths.count, time: lengths.max()!)
        let batch = makeBatch(lengths: lengths, seed: 3)
        batched(model, batch)
        let full = Array(model.gradients)
        let single = lengths.indices.map { alone(model, batch, $0) }
        defer { model.trainedBlocks = nil }
        for k in 0...config.layers {
            model.trainedBlocks = k
            let norms = batched(model, batch)
            let start = k == 0 ? model.parameterCount : model.tensor("h.\(config.layers - k).ln_1.weight")!.offset
            let gradients = Array(model.gradients)
            assertBitIdentical(Array(gradients[..<start]), [Float](repeating: 0, count: start), "frozen, K = \(k)")
            assertBitIdentical(Array(gradients[start...]), Array(full[start...]), "trained tail, K = \(k)")
            for b in lengths.indices {
                let reference = single[b][start...].reduce(0.0) { $0 + Double($1) * Double($1) }
                XCTAssertEqual(norms[b], reference, accuracy: 1e-4 * reference, "post \(b), K = \(k)")
            }
        }
    }
}
