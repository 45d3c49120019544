import LLMTestSupport
import LLMSupport
import XCTest
import LLMModel
import LLMTrain
@testable import LLMTasks

/// The score head, its pooling over right-padded posts and the trunk backward from d(hidden),
/// checked by central differences through the whole model on a tiny config.
final class HeadGradientTests: XCTestCase {
    let config = GPTConfig(vocabSize: 13, contextLength: 8, layers: 1, heads: 2, modelDim: 8)
    let posts: [[Int32]] = [[3, 1, 4, 1, 5, 9], [2, 6], [5, 3, 5]]

    func spec(_ kind: TaskSpec.Kind, _ pooling: TaskSpec.Pooling) throws -> TaskSpec {
        var section = TrainConfig.TaskSection()
        section.kind = kind.rawValue
        section.pooling = pooling.rawValue
        section.labels = ["a", "b", "c"]
        return try TaskSpec(section: section)
    }

    func makeModel(_ spec: TaskSpec, batch: Int = 3, time: Int = 6) -> GPT {
        let model = GPT(config: config, batchSize: batch, sequenceLength: time, seed: 3,
                        extraTensors: spec.headTensors(modelDim: config.modelDim))
        // Larger-than-init weights so gradients stand well above Float rounding.
        var rng = SplitMix64(seed: 11)
        for t in model.tensors {
            let gain = t.name.hasSuffix("ln_1.weight") || t.name.hasSuffix("ln_2.weight") || t.name == "ln_f.weight"
            rng.fillNormal(model.parameters.baseAddress! + t.offset, count: t.count, mean: gain ? 1 : 0,
                           std: t.shape.count >= 2 ? 0.3 : 0.1)
        }
        return model
    }

    func check(_ kind: TaskSpec.Kind, _ pooling: TaskSpec.Pooling) throws {
        let spec = try spec(kind, pooling)
        let model = makeModel(spec)
        let head = ScoreHead(spec: spec, model: model)
        let labels = [2, 0, 1], ratings = [0.5, -1.0, 2.0], scales = [0.5, 1.5, 1.0]
        let dlogits = UnsafeMutablePointer<Float>.allocate(capacity: 3 * spec.outputs)
        defer { dlogits.deallocate() }
        func loss(_ d: UnsafeMutablePointer<Float>?) -> Double {
            head.forward(model: model, posts: posts, padID: 0)
            let losses = kind == .classification
                ? TaskLoss.crossEntropy(logits: head.logits, labels: labels, classes: 3, scales: scales, dlogits: d)
                : TaskLoss.squaredError(outputs: head.logits, targets: ratings, scales: scales, dlogits: d)
            return zip(losses, scales).reduce(0) { $0 + $1.0 * $1.1 }
        }
        model.zeroGradients()
        _ = loss(dlogits)
        head.backward(model: model, dlogits: dlogits)
        for t in model.tensors {
            let analytic = (t.offset..<(t.offset + t.count)).map { Double(model.gradients[$0]) }
            let numeric = numericGradient(model.parameters.baseAddress! + t.offset, count: t.count, eps: 1e-3) { loss(nil) }
            XCTAssertLessThan(relativeError(analytic, numeric), 3e-3, "\(t.name) \(kind) \(pooling)")
        }
        // Positions past the longest post are never run; padding positions feed only later
        // padding (causal), so nothing reaches wpe rows >= 6.
        let wpe = model.tensor("wpe.weight")!
        XCTAssertTrue((6 * config.modelDim..<wpe.count).allSatisfy { model.gradients[wpe.offset + $0] == 0 })
    }

    func testClassificationLastTokenPooling() throws { try check(.classification, .last) }
    func testClassificationMeanPooling() throws { try check(.classification, .mean) }
    func testRegressionLastTokenPooling() throws { try check(.regression, .last) }

    /// A post's logits do not depend on which posts share its micro-batch or how much padding
    /// follows it (causal attention, per-row pooling); only GEMM blocking may change rounding.
    func testLogitsIndependentOfBatchAndPadding() throws {
        for pooling in [TaskSpec.Pooling.last, .mean] {
            let spec = try spec(.classification, pooling)
            let model = makeModel(spec, batch: 4, time: 8)
            let head = ScoreHead(spec: spec, model: model)
            head.forward(model: model, posts: [posts[1]], padID: 0)
            let alone = (0..<3).map { head.logits[$0] }
            head.forward(model: model, posts: [[7, 7, 7, 7, 7, 7, 7, 7], posts[0], posts[1], posts[2]], padID: 12)
            let batched = (0..<3).map { head.logits[2 * 3 + $0] }
            for k in 0..<3 { XCTAssertEqual(alone[k], batched[k], accuracy: 1e-5 * max(1, abs(alone[k])), "\(pooling) class \(k)") }
        }
    }
}
