/// Classification scores over a fixed label set, as scikit-learn computes them with
/// `labels=range(K)` and `zero_division=0`: a class never predicted has precision 0, a class
/// absent from the data recall 0, and both count (as F1 0) in the macro average.
public struct ClassificationMetrics: Equatable {
    /// confusion[true][predicted]
    public let confusion: [[Int]]
    public let accuracy: Double
    public let precision, recall, f1: [Double]
    public let support: [Int]
    public let macroF1, weightedF1: Double

    public init(truth: [Int], predicted: [Int], classes K: Int) {
        precondition(truth.count == predicted.count && !truth.isEmpty)
        var confusion = Array(repeating: Array(repeating: 0, count: K), count: K)
        for (t, p) in zip(truth, predicted) { confusion[t][p] += 1 }
        self.confusion = confusion
        let correct = (0..<K).reduce(0) { $0 + confusion[$1][$1] }
        accuracy = Double(correct) / Double(truth.count)
        let predictedCounts = (0..<K).map { k in confusion.reduce(0) { $0 + $1[k] } }
        func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : Double(a) / Double(b) }
        let support = confusion.map { $0.reduce(0, +) }
        let precision = (0..<K).map { ratio(confusion[$0][$0], predictedCounts[$0]) }
        let recall = (0..<K).map { ratio(confusion[$0][$0], support[$0]) }
        let f1 = (0..<K).map { k in
            precision[k] + recall[k] == 0 ? 0 : 2 * precision[k] * recall[k] / (precision[k] + recall[k])
        }
        (self.support, self.precision, self.recall, self.f1) = (support, precision, recall, f1)
        macroF1 = f1.reduce(0, +) / Double(K)
        weightedF1 = zip(f1, support).reduce(0) { $0 + $1.0 * Double($1.1) } / Double(truth.count)
    }

    /// Binary ROC-AUC of `scores` (higher: more likely positive) by the rank-sum (Mann-Whitney)
    /// formula, ties getting their average rank; nil unless both classes occur.
    public static func rocAUC(scores: [Double], positive: [Bool]) -> Double? {
        let positives = positive.filter { $0 }.count, negatives = positive.count - positives
        guard positives > 0, negatives > 0 else { return nil }
        let ranks = averageRanks(scores)
        let positiveRankSum = zip(ranks, positive).reduce(0.0) { $0 + ($1.1 ? $1.0 : 0) }
        return (positiveRankSum - Double(positives * (positives + 1)) / 2) / Double(positives * negatives)
    }
}

/// Ranks 1...n of `values`, tied values sharing the mean of their ranks.
func averageRanks(_ values: [Double]) -> [Double] {
    let order = values.indices.sorted { values[$0] < values[$1] }
    var ranks = [Double](repeating: 0, count: values.count)
    var start = 0
    while start < order.count {
        var end = start
        while end + 1 < order.count && values[order[end + 1]] == values[order[start]] { end += 1 }
        let rank = Double(start + end) / 2 + 1
        for i in start...end { ranks[order[i]] = rank }
        start = end + 1
    }
    return ranks
}

/// Regression scores: mean absolute error, root mean squared error, Spearman's rank correlation.
public struct RegressionMetrics: Equatable {
    public let mae, rmse, spearman: Double

    public init(truth: [Double], predicted: [Double]) {
        precondition(truth.count == predicted.count && !truth.isEmpty)
        let n = Double(truth.count)
        mae = zip(truth, predicted).reduce(0) { $0 + abs($1.0 - $1.1) } / n
        rmse = (zip(truth, predicted).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / n).squareRoot()
        spearman = pearson(averageRanks(truth), averageRanks(predicted))
    }
}

/// Pearson correlation; 0 when either side is constant.
func pearson(_ x: [Double], _ y: [Double]) -> Double {
    let n = Double(x.count)
    let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
    var sxy = 0.0, sxx = 0.0, syy = 0.0
    for (a, b) in zip(x, y) {
        sxy += (a - mx) * (b - my)
        sxx += (a - mx) * (a - mx)
        syy += (b - my) * (b - my)
    }
    return sxx == 0 || syy == 0 ? 0 : sxy / (sxx * syy).squareRoot()
}
