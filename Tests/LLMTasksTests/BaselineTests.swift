import XCTest
@testable import LLMTasks

final class BaselineTests: XCTestCase {
    /// TF-IDF by hand on three posts "a b", "a c", "a b b" (min_df 2).
    func testTFIDFByHand() {
        let bag = BagOfWords(training: ["a b", "a c", "a b b"])
        let terms = BagOfWords.terms("a b b")
        XCTAssertEqual(terms.filter { $0.hasPrefix("w:") }, ["w:a", "w:b", "w:b", "w:a b", "w:b b"])
        XCTAssertEqual(terms.filter { $0.hasPrefix("c:") }.count, 5 + 4 + 3)
        // "a" alone has the terms w:a and c:a, both in all 3 posts: idf ln(4/4) + 1 = 1, tf 1,
        // so after L2 normalisation each is 1/sqrt(2).
        XCTAssertEqual(bag.row("a").map(\.value), [1 / 2.0.squareRoot(), 1 / 2.0.squareRoot()])
        // "b b" keeps only terms in >= 2 training posts: w:b (df 2, tf 2), c:b (df 2, tf 2),
        // c:" " (df 3, tf 1) and c:" b" (df 2, tf 1); w:"b b", c:"b " and c:"b b" occur once.
        let idf2 = log(4.0 / 3) + 1
        let expected = [("w:b", (1 + log(2.0)) * idf2), ("c:b", (1 + log(2.0)) * idf2), ("c: ", 1.0), ("c: b", idf2)]
        let norm = expected.reduce(0) { $0 + $1.1 * $1.1 }.squareRoot()
        let row = bag.row("b b").map(\.value).sorted()
        XCTAssertEqual(row.count, expected.count)
        for (a, b) in zip(row, expected.map { $0.1 / norm }.sorted()) { XCTAssertEqual(a, b, accuracy: 1e-12) }
    }

    /// At the fitted weights the gradient of the regularised objective vanishes (computed here
    /// independently, densely): the optimiser found the minimum, not just some weights.
    func testLogisticRegressionReachesTheOptimum() {
        let rows: [BagOfWords.Row] = [[(0, 1)], [(1, 0.6), (2, 0.8)], [(0, 0.6), (2, 0.8)], [(1, 1)], [(2, 1)],
                                      [(0, 0.8), (1, 0.6)]]
        let labels = [0, 1, 0, 1, 2, 0], weights = [1.0, 2, 1, 1, 1, 0.5], l2 = 0.01
        let model = LogisticRegression(rows: rows, labels: labels, sampleWeights: weights, classes: 3, features: 3,
                                       l2: l2, iterations: 3000)
        var gradient = [Double](repeating: 0, count: 3 * 4)
        for (n, row) in rows.enumerated() {
            let z = model.logits(row), top = z.max()!
            let e = z.map { exp($0 - top) }, sum = e.reduce(0, +)
            var x = [0.0, 0, 0, 1]
            for (j, v) in row { x[j] = v }
            for k in 0..<3 {
                for j in 0..<4 { gradient[k * 4 + j] += (e[k] / sum - (k == labels[n] ? 1 : 0)) * x[j] * weights[n] / 6.5 }
            }
        }
        for k in 0..<3 { for j in 0..<3 { gradient[k * 4 + j] += l2 * model.weights[k * 4 + j] } }
        XCTAssertLessThan(gradient.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-6)
        XCTAssertEqual(rows.map { r in model.logits(r).enumerated().max { $0.element < $1.element }!.offset }, labels)
    }
}
