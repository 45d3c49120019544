import LLMModel

/// A heap buffer with a stable address, filled from a seeded generator.
final class TestBuffer {
    let count: Int
    let p: UnsafeMutablePointer<Float>

    init(_ count: Int, fill: Float = 0) {
        self.count = count
        p = .allocate(capacity: count)
        p.initialize(repeating: fill, count: count)
    }

    convenience init(normal count: Int, std: Float = 1, rng: inout SplitMix64) {
        self.init(count)
        rng.fillNormal(p, count: count, std: std)
    }

    deinit { p.deallocate() }

    var values: [Double] { (0..<count).map { Double(p[$0]) } }
    func zero() { p.update(repeating: 0, count: count) }
    func copy(from other: TestBuffer) { p.update(from: other.p, count: count) }
}

/// Central differences of `f` with respect to every element of `x`.
func numericGradient(_ x: TestBuffer, eps: Float, _ f: () -> Double) -> [Double] {
    numericGradient(x.p, count: x.count, eps: eps, f)
}

/// Central differences of `f` with respect to `x[0..<count]`.
func numericGradient(_ x: UnsafeMutablePointer<Float>, count: Int, eps: Float, _ f: () -> Double) -> [Double] {
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
func relativeError(_ a: [Double], _ b: [Double]) -> Double {
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

/// sum(out * weights) in Double: the scalar objective whose d/d(out) is `weights`.
func dot(_ out: TestBuffer, _ weights: TestBuffer) -> Double {
    var s = 0.0
    for i in 0..<out.count { s += Double(out.p[i]) * Double(weights.p[i]) }
    return s
}
