import LLMModel
import LLMTestSupport
import XCTest
@testable import LLMTasks

/// What DP-SGD's clipping relies on in the task head: per-post gradient norms of trunk + head
/// from one batched backward, and a second backward after the same forward.
extension HeadGradientTests {
    func testPerPostNormsThroughTheHeadMatchOnePostAtATime() throws {
        let spec = try spec(.classification, .last)
        let model = makeModel(spec)
        let head = ScoreHead(spec: spec, model: model)
        let labels = [2, 0, 1], K = spec.outputs
        let dlogits = UnsafeMutablePointer<Float>.allocate(capacity: 3 * K)
        defer { dlogits.deallocate() }
        var reference: [Double] = [], alone: [[Float]] = []
        for (b, post) in posts.enumerated() {
            model.zeroGradients()
            head.forward(model: model, posts: [post], padID: 0)
            _ = TaskLoss.crossEntropy(logits: head.logits, labels: [labels[b]], classes: K, scales: [1], dlogits: dlogits)
            head.backward(model: model, dlogits: dlogits)
            alone.append(Array(model.gradients))
            reference.append(model.gradients.reduce(0.0) { $0 + Double($1) * Double($1) })
        }
        let norms = PerExampleGradientNorms()
        model.zeroGradients()
        model.perExampleNorms = norms
        head.forward(model: model, posts: posts, padID: 0)
        _ = TaskLoss.crossEntropy(logits: head.logits, labels: labels, classes: K, scales: [1, 1, 1], dlogits: dlogits)
        head.backward(model: model, dlogits: dlogits)
        model.perExampleNorms = nil
        norms.add(head.squaredHeadGradientNorms(dlogits: dlogits))
        for b in posts.indices {
            XCTAssertEqual(norms.squaredNorms[b], reference[b], accuracy: 1e-4 * reference[b], "post \(b)")
        }
        // Second backward, same forward, posts weighted: the weighted sum of the lone gradients.
        let weights: [Float] = [0.25, 1, 0.5]
        for b in 0..<3 { for k in 0..<K { dlogits[b * K + k] *= weights[b] } }
        model.zeroGradients()
        head.backward(model: model, dlogits: dlogits)
        let expected = (0..<model.parameterCount).map { i in (0..<3).reduce(Float(0)) { $0 + weights[$1] * alone[$1][i] } }
        assertClose(Array(model.gradients), expected, absolute: 1e-5, relative: 1e-3, "weighted second backward")
    }
}
