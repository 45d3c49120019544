import Foundation
import XCTest
@testable import LLMPrivacy

final class RDPAccountantTests: XCTestCase {
    /// A_alpha = E_{z ~ N(0, sigma^2)} [((1 - q) + q exp((2z - 1) / (2 sigma^2)))^alpha] (Mironov
    /// et al. 2019, eq. 3), by the trapezoid rule on a fine grid: an independent route to the
    /// series the accountant sums, valid for integer and fractional orders alike.
    private func logAByQuadrature(q: Double, sigma: Double, alpha: Double) -> Double {
        let lo = -30 * sigma, hi = 30 * sigma + Double(alpha), n = 400_000
        let h = (hi - lo) / Double(n)
        var terms: [Double] = []
        terms.reserveCapacity(n + 1)
        for i in 0...n {
            let z = lo + Double(i) * h
            let logDensity = -z * z / (2 * sigma * sigma) - log(sigma * (2 * Double.pi).squareRoot())
            let ratio = (1 - q) + q * exp((2 * z - 1) / (2 * sigma * sigma))
            terms.append(logDensity + alpha * log(ratio) + log(h) + (i == 0 || i == n ? log(0.5) : 0))
        }
        let top = terms.max()!
        return log(terms.reduce(0) { $0 + exp($1 - top) }) + top
    }

    func testSeriesAgreeWithNumericalIntegration() {
        for (q, sigma) in [(0.01, 1.1), (0.05, 0.8), (0.2, 2.0), (0.001, 4.0)] {
            for alpha in [1.5, 2, 3.7, 8, 12.5, 32] {
                let series = alpha == alpha.rounded()
                    ? RDPAccountant.logAInteger(q: q, sigma: sigma, alpha: Int(alpha))
                    : RDPAccountant.logAFractional(q: q, sigma: sigma, alpha: alpha)
                let integral = logAByQuadrature(q: q, sigma: sigma, alpha: alpha)
                XCTAssertEqual(series, integral, accuracy: 1e-7 + 1e-6 * abs(integral),
                               "q \(q) sigma \(sigma) alpha \(alpha)")
            }
        }
    }

    /// The fractional series at an order next to an integer meets the integer one (continuity).
    func testFractionalMeetsIntegerOrder() {
        let exact = RDPAccountant.logAInteger(q: 0.02, sigma: 1.3, alpha: 5)
        let near = RDPAccountant.logAFractional(q: 0.02, sigma: 1.3, alpha: 5 + 1e-9)
        XCTAssertEqual(exact, near, accuracy: 1e-7)
    }

    /// Without subsampling the Gaussian mechanism's RDP is alpha / (2 sigma^2) (Mironov 2017),
    /// so epsilon has a closed form to minimise over the orders by hand.
    func testFullBatchIsTheGaussianMechanism() {
        let sigma = 5.0, steps = 10, delta = 1e-5
        let expected = RDPAccountant.orders.map { a in
            Double(steps) * a / (2 * sigma * sigma) - (log(delta) + log(a)) / (a - 1) + log((a - 1) / a)
        }.min()!
        let got = RDPAccountant.epsilon(sampleRate: 1, noiseMultiplier: sigma, steps: steps, delta: delta)
        XCTAssertEqual(got.epsilon, expected, accuracy: 1e-12)
    }

    /// Published settings, epsilons from Opacus 1.6.0's RDPAccountant (same orders and conversion;
    /// Scripts/check-privacy.py compares a whole grid): the MNIST example of TF Privacy's
    /// tutorial (60000 examples, batch 256, sigma 1.1, 60 epochs, delta 1e-5) and two of Opacus'.
    func testPublishedSettings() {
        let cases: [(q: Double, sigma: Double, steps: Int, delta: Double, epsilon: Double)] = [
            (256.0 / 60000, 1.1, 14062, 1e-5, 2.5965558689607486),
            (0.01, 1.0, 1000, 1e-5, 2.1013652716430564),
            (0.004, 4.0, 250, 1e-6, 0.1482649862521985),
        ]
        for c in cases {
            let got = RDPAccountant.epsilon(sampleRate: c.q, noiseMultiplier: c.sigma, steps: c.steps, delta: c.delta)
            XCTAssertEqual(got.epsilon, c.epsilon, accuracy: 1e-6 * c.epsilon, "\(c)")
        }
    }

    func testNoiseMultiplierReachesTheTarget() throws {
        for target in [1.0, 3.0, 8.0] {
            let sigma = try RDPAccountant.noiseMultiplier(targetEpsilon: target, delta: 1e-5, sampleRate: 0.01, steps: 500)
            let eps = RDPAccountant.epsilon(sampleRate: 0.01, noiseMultiplier: sigma, steps: 500, delta: 1e-5).epsilon
            XCTAssertLessThanOrEqual(eps, target)
            XCTAssertGreaterThan(eps, target - 0.01 - 1e-9)
            // More noise than needed would be found by a broken bisection: 1% less noise overshoots.
            let less = RDPAccountant.epsilon(sampleRate: 0.01, noiseMultiplier: sigma * 0.99, steps: 500, delta: 1e-5)
            XCTAssertGreaterThan(less.epsilon, target - 0.01)
        }
        XCTAssertThrowsError(try RDPAccountant.noiseMultiplier(targetEpsilon: 1e-9, delta: 1e-5, sampleRate: 1,
                                                               steps: 1_000_000))
    }
}
