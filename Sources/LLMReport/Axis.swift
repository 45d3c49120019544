import Foundation

/// One chart axis: a data range widened to round numbers, its ticks, and the map from data to
/// [0, 1]. Linear ticks step by 1, 2 or 5 times a power of ten; a log axis (for quantities
/// spanning decades, such as gradient norms) ticks at powers of ten, with 2 and 5 in between
/// when it spans fewer than three decades.
public struct Axis: Equatable {
    public let lower: Double
    public let upper: Double
    public let logarithmic: Bool
    public let ticks: [Double]

    /// - Parameter values: the finite data values the axis must cover (at least one).
    public init(covering values: [Double], logarithmic requested: Bool = false, includeZero: Bool = false,
                targetTicks: Int = 6) {
        var low = values.min() ?? 0, high = values.max() ?? 1
        let logarithmic = requested && low > 0
        self.logarithmic = logarithmic
        if logarithmic {
            let decades = (floor(log10(low)), ceil(log10(high)))
            let (l, h) = decades.0 == decades.1 ? (decades.0, decades.0 + 1) : decades
            lower = pow(10, l)
            upper = pow(10, h)
            let steps: [Double] = h - l < 3 ? [1, 2, 5] : [1]
            var ticks: [Double] = []
            for decade in stride(from: l, through: h, by: 1) {
                let base: Double = pow(10, decade)
                ticks += steps.map { $0 * base }.filter { $0 <= pow(10, h) * (1 + 1e-9) }
            }
            self.ticks = ticks
            return
        }
        if includeZero { low = min(low, 0); high = max(high, 0) }
        if low == high {
            let pad = low == 0 ? 1 : abs(low) * 0.1
            low -= pad
            high += pad
        }
        let step = Axis.niceStep((high - low) / Double(max(targetTicks - 1, 1)))
        let first = floor(low / step + 1e-9) * step, last = ceil(high / step - 1e-9) * step
        lower = first
        upper = last
        ticks = (0...Int(((last - first) / step).rounded())).map { first + Double($0) * step }
    }

    /// The smallest of 1, 2, 5 x 10^k at least `raw`.
    static func niceStep(_ raw: Double) -> Double {
        let magnitude = pow(10, floor(log10(raw)))
        return [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw * (1 - 1e-9) } ?? 10 * magnitude
    }

    /// Where `value` falls: 0 at `lower`, 1 at `upper`.
    public func fraction(_ value: Double) -> Double {
        logarithmic ? (log10(value) - log10(lower)) / (log10(upper) - log10(lower))
            : (value - lower) / (upper - lower)
    }

    /// Tick labels short enough for an axis: 1.5k, 2M, 3e-4, 0.25.
    public func label(_ value: Double) -> String {
        Axis.format(value, spacing: logarithmic ? value : (ticks.count > 1 ? ticks[1] - ticks[0] : value))
    }

    static func format(_ value: Double, spacing: Double) -> String {
        if value == 0 { return "0" }
        let magnitude = abs(value)
        if magnitude >= 1e4 {
            for (scale, suffix) in [(1e9, "G"), (1e6, "M"), (1e3, "k")] where magnitude >= scale {
                return trimmed(value / scale, decimals: decimals(spacing / scale)) + suffix
            }
        }
        if magnitude < 1e-3 { return String(format: "%.0e", value).replacingOccurrences(of: "e-0", with: "e-") }
        return trimmed(value, decimals: decimals(spacing))
    }

    /// Enough decimals to tell ticks `spacing` apart.
    static func decimals(_ spacing: Double) -> Int {
        spacing >= 1 ? 0 : min(6, Int(ceil(-log10(abs(spacing)) - 1e-9)))
    }

    static func trimmed(_ value: Double, decimals: Int) -> String {
        var text = String(format: "%.\(decimals)f", value)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text
    }
}
