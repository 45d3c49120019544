import LLMModel
import LLMTestSupport
import XCTest
@testable import LLMTasks

/// What DP-SGD's clipping relies on in the task head: per-post gradient norms of trunk + head
/// from one batched backward, and from that same backward the gradient with each post's
/// weighted by its own factor (book-keeping).
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
        for b in posts.indices {
            XCTAssertEqual(norms.squaredNorms[b], reference[b], accuracy: 1e-4 * reference[b], "post \(b)")
        }
        XCTAssertEqual(model.gradients.map(abs).max(), 0, "the gradients wait for the clip factors")
        // The kept output gradients, each post's scaled by its factor: the weighted sum of the lone gradients.
        let factors: [Float] = [0.25, 1, 0.5]
        norms.addClippedWeightGradients(factors: factors)
        let expected = (0..<model.parameterCount).map { i in (0..<3).reduce(Float(0)) { $0 + factors[$1] * alone[$1][i] } }
        assertClose(Array(model.gradients), expected, absolute: 1e-5, relative: 1e-3, "clipped gradient of one backward")
    }
}
