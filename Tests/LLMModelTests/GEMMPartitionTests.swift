import LLMSupport
import LLMTestSupport
import XCTest
@testable import LLMModel

final class GEMMPartitionTests: XCTestCase {
    func testPartsCoverTheExtentOnSixteenBoundaries() {
        for (extent, parts) in [(1024, 2), (2048, 4), (1000, 3), (8192, 4)] {
            let bounds = (0...parts).map { GEMMPartition.boundary($0, of: parts, extent: extent) }
            XCTAssertEqual(bounds.first, 0)
            XCTAssertEqual(bounds.last, extent)
            XCTAssertEqual(bounds, bounds.sorted(), "boundaries must increase")
            XCTAssertTrue(bounds.dropLast().allSatisfy { $0 % 16 == 0 }, "\(bounds)")
        }
    }

    /// ThreadingTests relies on its model's products being cut (else 1 vs 2 threads is trivial).
    func testThreadingTestShapesAreCut() {
        let BT = 16 * 64, C = 128, V = 2048
        XCTAssertGreaterThan(GEMMPartition.parts(m: BT, n: 4 * C, k: C), 1, "mlp.c_fc forward")
        XCTAssertGreaterThan(GEMMPartition.parts(m: BT, n: V, k: C), 1, "logits")
        XCTAssertGreaterThan(GEMMPartition.parts(m: V, n: C, k: BT), 1, "wte gradient")
        XCTAssertEqual(GEMMPartition.parts(m: 64, n: 64, k: 64), 1, "small products stay whole")
    }

    func testPartsComeInPowersOfTwo() {
        XCTAssertEqual(GEMMPartition.parts(m: 1024, n: 1536, k: 384), 2, "bench-ii mlp.c_fc: two workers, two parts")
        for (m, n, k) in [(1024, 1152, 384), (4096, 2304, 768), (512, 8192, 384), (700, 900, 100), (64, 64, 64)] {
            let parts = GEMMPartition.parts(m: m, n: n, k: k)
            XCTAssertEqual(parts & (parts - 1), 0, "\(m)x\(n)x\(k): \(parts) parts")
        }
    }

    func testBackwardProductsAreCutOnlyWhenBig() {
        XCTAssertEqual(GEMMPartition.backwardParts(rows: 1024, inChannels: 384, outChannels: 1536), 1, "bench-ii mlp.c_fc")
        XCTAssertEqual(GEMMPartition.backwardParts(rows: 4096, inChannels: 768, outChannels: 768), 2,
                       "GPT-2 small attn.c_proj")
    }

    /// The two products side by side (and cut, when big) give the bits of `backwardInput` and
    /// `backwardWeights` run apart, on one thread and on two.
    func testBackwardSideBySideMatchesTheProductsApart() {
        let saved = BLASThreads.current
        defer { BLASThreads.set(saved) }
        var rng = SplitMix64(seed: 3)
        for (rows, C, OC) in [(256, 64, 192), (2048, 256, 2048)] {
            let parts = GEMMPartition.backwardParts(rows: rows, inChannels: C, outChannels: OC)
            let inp = TestBuffer(normal: rows * C, rng: &rng), dout = TestBuffer(normal: rows * OC, rng: &rng)
            let weight = TestBuffer(normal: C * OC, std: 0.1, rng: &rng)
            let startWeights = TestBuffer(normal: C * OC, rng: &rng), startBias = TestBuffer(normal: OC, rng: &rng)
            func run(threads: Int, together: Bool) -> [Float] {
                BLASThreads.set(threads)
                let dinp = TestBuffer(rows * C, fill: .nan), dweight = TestBuffer(C * OC), dbias = TestBuffer(OC)
                dweight.copy(from: startWeights)
                dbias.copy(from: startBias)
                if together {
                    Matmul.backward(dinp: dinp.p, dweight: dweight.p, dbias: dbias.p, dout: dout.p, inp: inp.p,
                                    weight: weight.p, rows: rows, inChannels: C, outChannels: OC)
                } else {
                    Matmul.backwardInput(dinp: dinp.p, dout: dout.p, weight: weight.p, rows: rows, inChannels: C,
                                         outChannels: OC)
                    Matmul.backwardWeights(dweight: dweight.p, dbias: dbias.p, dout: dout.p, inp: inp.p, rows: rows,
                                           inChannels: C, outChannels: OC)
                }
                return [dinp, dweight, dbias].flatMap { b in (0..<b.count).map { b.p[$0] } }
            }
            let apart = run(threads: 1, together: false)
            XCTAssertFalse(apart.contains { $0.isNaN }, "dinp is overwritten")
            for threads in [1, 2] {
                assertBitIdentical(run(threads: threads, together: true), apart,
                                   "\(rows)x\(C)x\(OC) in \(parts) part(s), \(threads) thread(s)")
            }
            assertBitIdentical(run(threads: 2, together: false), apart, "\(rows)x\(C)x\(OC) apart, 2 threads")
        }
    }
}
