// Finite differences, shared by the gradient checks of the model and of the task heads.

/// Central differences of `f` with respect to `x[0..<count]`.
public func numericGradient(_ x: UnsafeMutablePointer<Float>, count: Int, eps: Float, _ f: () -> Double) -> [Double] {
    (0..<count).map { i in
        let saved = x[i]
        x[i] = saved + eps
        let plus = f()
        x[i] = saved - eps
        let minus = f()
        x[i] = saved
        return (plus - minus) / Double(2 * eps)
    }
}

/// ||a - b|| / (||a|| + ||b||): 0 for a perfect match, 1 for opposite or unrelated vectors.
public func relativeError(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count)
    var diff = 0.0, na = 0.0, nb = 0.0
    for i in a.indices {
        diff += (a[i] - b[i]) * (a[i] - b[i])
        na += a[i] * a[i]
        nb += b[i] * b[i]
    }
    let denominator = na.squareRoot() + nb.squareRoot()
    return denominator == 0 ? 0 : diff.squareRoot() / denominator
}
