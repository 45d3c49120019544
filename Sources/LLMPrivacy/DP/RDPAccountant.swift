import Foundation

/// Rényi-DP accountant for the Poisson-subsampled Gaussian mechanism (Mironov, Talwar, Zhang
/// 2019, "Rényi Differential Privacy of the Sampled Gaussian Mechanism"), term for term as
/// Opacus' `RDPAccountant` / TensorFlow Privacy's `compute_rdp`, so the epsilons can be checked
/// against theirs (Scripts/check-privacy.py).
///
/// One DP-SGD step is one use of the mechanism: every example is in the batch independently
/// with probability `sampleRate` (Poisson sampling), the summed clipped gradients get Gaussian
/// noise of std `noiseMultiplier x max_grad_norm`. RDP composes additively over steps, and the
/// (epsilon, delta) guarantee is the best conversion over the orders (Balle et al. 2020, as
/// Opacus' `get_privacy_spent`).
public enum RDPAccountant {
    /// Opacus' DEFAULT_ALPHAS: 1.1 ... 10.9 in steps of 0.1, then 12 ... 63.
    public static let orders: [Double] = (1..<100).map { 1 + Double($0) / 10 } + (12..<64).map(Double.init)

    /// RDP of `steps` compositions at each of `orders`.
    public static func rdp(sampleRate q: Double, noiseMultiplier sigma: Double, steps: Int,
                           orders: [Double] = orders) -> [Double] {
        orders.map { Double(steps) * rdpOneStep(q: q, sigma: sigma, alpha: $0) }
    }

    /// (epsilon, the order that gave it) at `delta` after `steps` steps; infinity without noise.
    public static func epsilon(sampleRate: Double, noiseMultiplier: Double, steps: Int,
                               delta: Double) -> (epsilon: Double, order: Double) {
        epsilon(rdp: rdp(sampleRate: sampleRate, noiseMultiplier: noiseMultiplier, steps: steps), delta: delta)
    }

    /// (epsilon, order) at `delta` of the RDP curve `rdp` over `orders`.
    public static func epsilon(rdp: [Double], delta: Double) -> (epsilon: Double, order: Double) {
        var best = (epsilon: Double.infinity, order: Double.nan)
        for (alpha, r) in zip(orders, rdp) {
            let eps = r - (log(delta) + log(alpha)) / (alpha - 1) + log((alpha - 1) / alpha)
            if eps.isFinite && eps < best.epsilon { best = (eps, alpha) }
        }
        return best
    }

    /// The smallest noise multiplier (to `tolerance` in epsilon) whose epsilon after `steps`
    /// steps stays at or below `targetEpsilon`: Opacus' `get_noise_multiplier`, the same
    /// doubling then bisection, so both pick the same sigma.
    public static func noiseMultiplier(targetEpsilon: Double, delta: Double, sampleRate: Double, steps: Int,
                                       tolerance: Double = 0.01) throws -> Double {
        func eps(_ sigma: Double) -> Double {
            epsilon(sampleRate: sampleRate, noiseMultiplier: sigma, steps: steps, delta: delta).epsilon
        }
        var low = 0.0, high = 10.0, epsHigh = Double.infinity
        while epsHigh > targetEpsilon {
            high *= 2
            epsHigh = eps(high)
            if high > 1e6 {
                throw PrivacyError("privacy.target_epsilon=\(targetEpsilon) cannot be reached in \(steps) steps at "
                                   + "sampling rate \(sampleRate) (noise multiplier over 1e6): raise the target "
                                   + "epsilon or lower train.steps / train.global_batch")
            }
        }
        while targetEpsilon - epsHigh > tolerance {
            let mid = (low + high) / 2, e = eps(mid)
            if e < targetEpsilon { high = mid; epsHigh = e } else { low = mid }
        }
        return high
    }

    static func rdpOneStep(q: Double, sigma: Double, alpha: Double) -> Double {
        if q == 0 { return 0 }
        if sigma == 0 { return .infinity }
        if q == 1 { return alpha / (2 * sigma * sigma) }
        if alpha.isInfinite { return .infinity }
        let logA = alpha == alpha.rounded() ? logAInteger(q: q, sigma: sigma, alpha: Int(alpha))
                                            : logAFractional(q: q, sigma: sigma, alpha: alpha)
        return logA / (alpha - 1)
    }

    /// log A_alpha for integer alpha: a finite binomial sum.
    static func logAInteger(q: Double, sigma: Double, alpha: Int) -> Double {
        var logA = -Double.infinity
        let a = Double(alpha)
        for i in 0...alpha {
            let k = Double(i)
            let logBinomial = lgamma(a + 1) - lgamma(k + 1) - lgamma(a - k + 1)
            let term = logBinomial + k * log(q) + (a - k) * log(1 - q) + (k * k - k) / (2 * sigma * sigma)
            logA = logAdd(logA, term)
        }
        return logA
    }

    /// log A_alpha for fractional alpha: two infinite series, summed until their terms are
    /// below e^-30 (as TF Privacy's `_compute_log_a_frac`).
    static func logAFractional(q: Double, sigma: Double, alpha: Double) -> Double {
        var logA0 = -Double.infinity, logA1 = -Double.infinity
        let z0 = sigma * sigma * log(1 / q - 1) + 0.5
        var logCoefficient = 0.0, coefficientSign = 1.0   // binom(alpha, i), as log|.| and sign
        var i = 0.0
        while true {
            let j = alpha - i
            let logT0 = logCoefficient + i * log(q) + j * log(1 - q)
            let logT1 = logCoefficient + j * log(q) + i * log(1 - q)
            let logE0 = log(0.5) + logErfc((i - z0) / (2.0.squareRoot() * sigma))
            let logE1 = log(0.5) + logErfc((z0 - j) / (2.0.squareRoot() * sigma))
            let logS0 = logT0 + (i * i - i) / (2 * sigma * sigma) + logE0
            let logS1 = logT1 + (j * j - j) / (2 * sigma * sigma) + logE1
            if coefficientSign > 0 {
                logA0 = logAdd(logA0, logS0)
                logA1 = logAdd(logA1, logS1)
            } else {
                logA0 = logSub(logA0, logS0)
                logA1 = logSub(logA1, logS1)
            }
            if max(logS0, logS1) < -30 { break }
            // binom(alpha, i + 1) = binom(alpha, i) * (alpha - i) / (i + 1)
            logCoefficient += log(abs(alpha - i)) - log(i + 1)
            if alpha - i < 0 { coefficientSign = -coefficientSign }
            i += 1
        }
        return logAdd(logA0, logA1)
    }

    /// log(erfc(x)), with the asymptotic series where erfc underflows.
    static func logErfc(_ x: Double) -> Double {
        let r = erfc(x)
        if r > 0 { return log(r) }
        return -log(Double.pi) / 2 - log(x) - x * x - 0.5 / (x * x) + 0.625 / pow(x, 4) - 37.0 / 24 / pow(x, 6)
            + 353.0 / 64 / pow(x, 8)
    }

    static func logAdd(_ x: Double, _ y: Double) -> Double {
        let (a, b) = (min(x, y), max(x, y))
        if a == -.infinity { return b }
        return log1p(exp(a - b)) + b
    }

    /// log(e^x - e^y) for x >= y (the series' partial sums stay positive).
    static func logSub(_ x: Double, _ y: Double) -> Double {
        if y == -.infinity { return x }
        if x <= y { return -.infinity }
        let d = expm1(x - y)
        return d.isFinite ? log(d) + y : x
    }
}

/// A privacy setting that cannot work, naming the field and the fix.
public struct PrivacyError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
