import LLMTestSupport
import XCTest
import LLMModel
import LLMSupport

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

/// sum(out * weights) in Double: the scalar objective whose d/d(out) is `weights`.
func dot(_ out: TestBuffer, _ weights: TestBuffer) -> Double {
    var s = 0.0
    for i in 0..<out.count { s += Double(out.p[i]) * Double(weights.p[i]) }
    return s
}

/// Causal attention on random q, k, v with a random linear read-out `w` as the loss: the
/// fixture the attention tests share.
struct AttentionCase {
    let batch, time, channels, heads: Int
    let qkv, w, out, stats, scratch: TestBuffer

    init(batch: Int, time: Int, channels: Int, heads: Int, rng: inout SplitMix64) {
        (self.batch, self.time, self.channels, self.heads) = (batch, time, channels, heads)
        qkv = TestBuffer(normal: batch * time * 3 * channels, rng: &rng)
        w = TestBuffer(normal: batch * time * channels, rng: &rng)
        out = TestBuffer(batch * time * channels)
        stats = TestBuffer(Attention.statsCount(batch: batch, time: time, heads: heads))
        scratch = TestBuffer(Attention.scratchCount(time: time), fill: 9)
    }

    func loss() -> Double {
        Attention.forward(out: out.p, stats: stats.p, scratch: scratch.p, qkv: qkv.p, batch: batch, time: time,
                          channels: channels, heads: heads)
        return dot(out, w)
    }

    /// The probabilities of the last `loss()`, (B, heads, T, T), recomputed from its statistics.
    var probabilities: [Double] {
        let att = TestBuffer(batch * heads * time * time, fill: 5)
        Attention.probabilities(att: att.p, qkv: qkv.p, stats: stats.p, batch: batch, time: time, channels: channels,
                                heads: heads)
        return att.values
    }

    /// Each checked attention row sums to 1 and puts no weight on the future (after `loss()`).
    func assertCausal(rows: StrideTo<Int>, accuracy: Double, file: StaticString = #filePath, line: UInt = #line) {
        let values = probabilities
        for row in rows {
            let t = row % time
            XCTAssertEqual(values[(row * time)..<(row * time + t + 1)].reduce(0, +), 1, accuracy: accuracy, file: file, line: line)
            XCTAssertTrue(values[(row * time + t + 1)..<((row + 1) * time)].allSatisfy { $0 == 0 }, file: file, line: line)
        }
    }

    /// d loss / d qkv from the backward pass (after `loss()`), with poisoned buffers to start.
    func analyticGradient() -> TestBuffer {
        let dqkv = TestBuffer(qkv.count, fill: 7)
        scratch.p.update(repeating: 9, count: scratch.count)
        Attention.backward(dqkv: dqkv.p, scratch: scratch.p, dout: w.p, qkv: qkv.p, stats: stats.p,
                           batch: batch, time: time, channels: channels, heads: heads)
        return dqkv
    }

    /// The textbook attention in Double, materialising every (T, T) matrix: y (B, T, C) and,
    /// for the read-out w as d(y), d(qkv) (B, T, 3C). The reference the tiled kernels must match.
    func reference() -> (y: [Double], dqkv: [Double]) {
        let T = time, C = channels, hs = C / heads, scale = 1 / Double(hs).squareRoot()
        let x = qkv.values, dy = w.values
        var y = [Double](repeating: 0, count: batch * T * C), d = [Double](repeating: 0, count: x.count)
        for b in 0..<batch {
            for h in 0..<heads {
                func at(_ t: Int, _ part: Int, _ i: Int) -> Int { (b * T + t) * 3 * C + part * C + h * hs + i }
                func yAt(_ t: Int, _ i: Int) -> Int { (b * T + t) * C + h * hs + i }
                for i in 0..<T {
                    var s = (0...i).map { j in scale * (0..<hs).reduce(0.0) { $0 + x[at(i, 0, $1)] * x[at(j, 1, $1)] } }
                    let m = s.max()!
                    s = s.map { exp($0 - m) }
                    let sum = s.reduce(0, +)
                    let p = s.map { $0 / sum }
                    for j in 0...i { for c in 0..<hs { y[yAt(i, c)] += p[j] * x[at(j, 2, c)] } }
                    let dp = (0...i).map { j in (0..<hs).reduce(0.0) { $0 + dy[yAt(i, $1)] * x[at(j, 2, $1)] } }
                    let pdp = zip(p, dp).reduce(0.0) { $0 + $1.0 * $1.1 }
                    for j in 0...i {
                        let ds = p[j] * (dp[j] - pdp) * scale
                        for c in 0..<hs {
                            d[at(j, 2, c)] += p[j] * dy[yAt(i, c)]
                            d[at(i, 0, c)] += ds * x[at(j, 1, c)]
                            d[at(j, 1, c)] += ds * x[at(i, 0, c)]
                        }
                    }
                }
            }
        }
        return (y, d)
    }
}
