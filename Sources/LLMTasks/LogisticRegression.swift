import Foundation

/// Multinomial logistic regression on sparse rows: minimises the (class-weighted) mean
/// cross-entropy + l2 / 2 * ||W||^2 (bias not penalised) by Nesterov-accelerated full-batch
/// gradient descent. The objective is convex and its gradient is Lipschitz with constant at most
/// 1/2 + l2 for L2-normalised rows plus a bias, so the step 1 / (1/2 + l2) converges without a search.
struct LogisticRegression {
    let classes, features: Int
    private(set) var weights: [Double]   // (classes, features + 1), the last column the bias

    init(rows: [BagOfWords.Row], labels: [Int], sampleWeights: [Double], classes: Int, features: Int,
         l2: Double, iterations: Int = 300) {
        self.classes = classes
        self.features = features
        let width = features + 1, K = classes
        var w = [Double](repeating: 0, count: K * width), previous = w
        let step = 1 / (1.0 + 0.5 + l2)   // 1 for the bias column's constant 1
        let totalWeight = sampleWeights.reduce(0, +)
        var gradient = [Double](repeating: 0, count: K * width)
        for iteration in 0..<iterations {
            let momentum = Double(iteration) / Double(iteration + 3)
            let y = zip(w, previous).map { $0 + momentum * ($0 - $1) }
            gradient.withUnsafeMutableBufferPointer { g in
                for i in 0..<g.count { g[i] = 0 }
                for (n, row) in rows.enumerated() {
                    let p = Self.probabilities(row, y, K, width)
                    let scale = sampleWeights[n] / totalWeight
                    for k in 0..<K {
                        let d = (p[k] - (k == labels[n] ? 1 : 0)) * scale
                        for (j, x) in row { g[k * width + j] += d * x }
                        g[k * width + features] += d
                    }
                }
            }
            for k in 0..<K { for j in 0..<features { gradient[k * width + j] += l2 * y[k * width + j] } }
            previous = w
            w = zip(y, gradient).map { $0 - step * $1 }
        }
        weights = w
    }

    /// The logits of a row.
    func logits(_ row: BagOfWords.Row) -> [Double] {
        let width = features + 1
        return (0..<classes).map { k in
            row.reduce(weights[k * width + features]) { $0 + weights[k * width + $1.index] * $1.value }
        }
    }

    static func probabilities(_ row: BagOfWords.Row, _ w: [Double], _ K: Int, _ width: Int) -> [Double] {
        let z = (0..<K).map { k in row.reduce(w[k * width + width - 1]) { $0 + w[k * width + $1.index] * $1.value } }
        let top = z.max()!
        let e = z.map { exp($0 - top) }, sum = e.reduce(0, +)
        return e.map { $0 / sum }
    }
}
