/// Integrated gradients (Sundararajan et al., 2017): the attribution of input i is
///   (x_i - b_i) * integral over a in [0, 1] of df/dx_i at b + a (x - b),
/// here a midpoint Riemann sum with `steps` points (error O(1/steps^2) for smooth f). By the
/// fundamental theorem of calculus the attributions sum to f(x) - f(b) ("completeness"); the
/// gap left by the sum is reported, so a caller can say how far to trust them.
public struct IntegratedGradients {
    public let attributions: [Double]
    public let valueAtInput: Double
    public let valueAtBaseline: Double
    public let steps: Int

    public var sum: Double { attributions.reduce(0, +) }
    /// f(x) - f(b): what the attributions should add up to.
    public var difference: Double { valueAtInput - valueAtBaseline }
    /// |sum - difference|.
    public var completenessGap: Double { abs(sum - difference) }

    /// Completeness within `relative` of |f(x) - f(b)| (plus `absolute`, for differences near zero).
    public func isComplete(relative: Double, absolute: Double = 0) -> Bool {
        completenessGap <= relative * abs(difference) + absolute
    }

    /// - Parameter f: the value and gradient of the explained function at a point.
    public init(input x: [Double], baseline b: [Double], steps: Int,
                f: ([Double]) throws -> (value: Double, gradient: [Double])) rethrows {
        precondition(x.count == b.count && steps >= 1, "input and baseline must have the same size; steps >= 1")
        var integral = [Double](repeating: 0, count: x.count)
        for k in 0..<steps {
            let a = (Double(k) + 0.5) / Double(steps)
            let gradient = try f(zip(x, b).map { $1 + a * ($0 - $1) }).gradient
            for i in integral.indices { integral[i] += gradient[i] }
        }
        attributions = integral.indices.map { (x[$0] - b[$0]) * integral[$0] / Double(steps) }
        valueAtInput = try f(x).value
        valueAtBaseline = try f(b).value
        self.steps = steps
    }

    /// Attributions summed over consecutive groups of `size` inputs (a token's embedding).
    public func grouped(_ size: Int) -> [Double] {
        stride(from: 0, to: attributions.count, by: size).map { attributions[$0..<min($0 + size, attributions.count)].reduce(0, +) }
    }
}
