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
/// fixture both attention gradient tests share.
struct AttentionCase {
    let batch, time, channels, heads: Int
    let qkv, w, out, att: TestBuffer

    init(batch: Int, time: Int, channels: Int, heads: Int, rng: inout SplitMix64) {
        (self.batch, self.time, self.channels, self.heads) = (batch, time, channels, heads)
        qkv = TestBuffer(normal: batch * time * 3 * channels, rng: &rng)
        w = TestBuffer(normal: batch * time * channels, rng: &rng)
        out = TestBuffer(batch * time * channels)
        att = TestBuffer(batch * heads * time * time)
    }

    func loss() -> Double {
        Attention.forward(out: out.p, att: att.p, qkv: qkv.p, batch: batch, time: time, channels: channels, heads: heads)
        return dot(out, w)
    }

    /// Each checked attention row sums to 1 and puts no weight on the future (after `loss()`).
    func assertCausal(rows: StrideTo<Int>, accuracy: Double, file: StaticString = #filePath, line: UInt = #line) {
        let values = att.values
        for row in rows {
            let t = row % time
            XCTAssertEqual(values[(row * time)..<(row * time + t + 1)].reduce(0, +), 1, accuracy: accuracy, file: file, line: line)
            XCTAssertTrue(values[(row * time + t + 1)..<((row + 1) * time)].allSatisfy { $0 == 0 }, file: file, line: line)
        }
    }

    /// d loss / d qkv from the backward pass (after `loss()`), with poisoned buffers to start.
    func analyticGradient() -> TestBuffer {
        let dqkv = TestBuffer(qkv.count, fill: 7), scratch = TestBuffer(Attention.scratchCount(time: time), fill: 9)
        Attention.backward(dqkv: dqkv.p, scratch: scratch.p, dout: w.p, qkv: qkv.p, att: att.p,
                           batch: batch, time: time, channels: channels, heads: heads)
        return dqkv
    }
}
