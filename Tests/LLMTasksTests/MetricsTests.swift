import XCTest
@testable import LLMTasks

/// Metrics against confusion matrices worked out by hand (the same numbers scikit-learn gives
/// with labels=[0, 1, 2] and zero_division=0).
final class MetricsTests: XCTestCase {
    /// Three classes; class 2 ("c") occurs in the data but is never predicted.
    func testThreeClassesOneNeverPredicted() {
        let truth = [0, 0, 0, 1, 1, 2, 2, 0]
        let predicted = [0, 0, 1, 1, 0, 0, 1, 0]
        let m = ClassificationMetrics(truth: truth, predicted: predicted, classes: 3)
        XCTAssertEqual(m.confusion, [[3, 1, 0], [1, 1, 0], [1, 1, 0]])
        XCTAssertEqual(m.accuracy, 4.0 / 8)
        XCTAssertEqual(m.support, [4, 2, 2])
        // class 0: tp 3, predicted 5, support 4 -> P 0.6, R 0.75, F1 2/3
        XCTAssertEqual(m.precision[0], 0.6, accuracy: 1e-12)
        XCTAssertEqual(m.recall[0], 0.75, accuracy: 1e-12)
        XCTAssertEqual(m.f1[0], 2.0 / 3, accuracy: 1e-12)
        // class 1: tp 1, predicted 3, support 2 -> P 1/3, R 1/2, F1 0.4
        XCTAssertEqual(m.precision[1], 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(m.f1[1], 0.4, accuracy: 1e-12)
        // class 2: never predicted -> precision 0 (zero_division), recall 0, F1 0
        XCTAssertEqual([m.precision[2], m.recall[2], m.f1[2]], [0, 0, 0])
        XCTAssertEqual(m.macroF1, (2.0 / 3 + 0.4 + 0) / 3, accuracy: 1e-12)
        XCTAssertEqual(m.weightedF1, (4 * 2.0 / 3 + 2 * 0.4) / 8, accuracy: 1e-12)
    }

    /// Class 1 is absent from the data but predicted once: recall 0 (no support), precision 0,
    /// and it still counts in the macro average over the task's label set.
    func testClassAbsentFromTheData() {
        let m = ClassificationMetrics(truth: [0, 0, 2, 2, 2], predicted: [0, 1, 2, 2, 0], classes: 3)
        XCTAssertEqual(m.confusion, [[1, 1, 0], [0, 0, 0], [1, 0, 2]])
        XCTAssertEqual(m.support, [2, 0, 3])
        XCTAssertEqual([m.precision[1], m.recall[1], m.f1[1]], [0, 0, 0])
        XCTAssertEqual(m.f1[0], 0.5, accuracy: 1e-12)          // P 1/2, R 1/2
        XCTAssertEqual(m.f1[2], 0.8, accuracy: 1e-12)          // P 1, R 2/3
        XCTAssertEqual(m.macroF1, (0.5 + 0 + 0.8) / 3, accuracy: 1e-12)
        XCTAssertEqual(m.weightedF1, (2 * 0.5 + 3 * 0.8) / 5, accuracy: 1e-12)
        XCTAssertEqual(m.accuracy, 0.6, accuracy: 1e-12)
    }

    /// AUC by pairs counted by hand: of the 2 x 3 (positive, negative) pairs, the positive
    /// scores higher in 4, ties in 1 (half), loses 1 -> 4.5 / 6.
    func testROCAUCWithATie() {
        let scores = [0.9, 0.4, 0.4, 0.8, 0.1]
        let positive = [true, true, false, false, false]
        XCTAssertEqual(ClassificationMetrics.rocAUC(scores: scores, positive: positive)!, 4.5 / 6, accuracy: 1e-12)
        XCTAssertNil(ClassificationMetrics.rocAUC(scores: [0.1, 0.2], positive: [true, true]))
    }

    func testRegressionMetrics() {
        let truth = [1.0, 2.0, 3.0, 4.0], predicted = [1.5, 1.5, 3.0, 6.0]
        let r = RegressionMetrics(truth: truth, predicted: predicted)
        XCTAssertEqual(r.mae, (0.5 + 0.5 + 0 + 2) / 4, accuracy: 1e-12)
        XCTAssertEqual(r.rmse, ((0.25 + 0.25 + 0 + 4) / 4).squareRoot(), accuracy: 1e-12)
        // ranks of predicted: 1.5, 1.5, 3, 4 against 1, 2, 3, 4: Pearson of the ranks.
        let rx = [1.0, 2, 3, 4], ry = [1.5, 1.5, 3, 4]
        let mx = 2.5, my = 2.5
        let sxy = zip(rx, ry).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }
        let sxx = rx.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }, syy = ry.reduce(0) { $0 + ($1 - my) * ($1 - my) }
        XCTAssertEqual(r.spearman, sxy / (sxx * syy).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(sxy / (sxx * syy).squareRoot(), 4.5 / (5 * 4.5).squareRoot(), accuracy: 1e-12)
    }
}
