import LLMTestSupport
import XCTest
import LLMModel
import LLMSupport

/// A data-parallel rank updates only its shard of the flat buffers; the shards together must
/// do exactly what one full update does, bit for bit.
final class ShardedUpdateTests: XCTestCase {
    private let tensors = [
        ParameterTensor(name: "w", shape: [5, 7], offset: 0, count: 35, decays: true),
        ParameterTensor(name: "b", shape: [7], offset: 35, count: 7, decays: false),
        ParameterTensor(name: "g", shape: [3, 3], offset: 42, count: 9, decays: true),
    ]
    private let shards: [[Range<Int>]] = [[0..<4, 20..<38], [4..<20], [38..<51]]

    private func buffers(seed: UInt64) -> (UnsafeMutableBufferPointer<Float>, UnsafeMutableBufferPointer<Float>) {
        var rng = SplitMix64(seed: seed)
        let p = UnsafeMutableBufferPointer<Float>.allocate(capacity: 51), g = UnsafeMutableBufferPointer<Float>.allocate(capacity: 51)
        rng.fillNormal(p.baseAddress!, count: 51, std: 1)
        rng.fillNormal(g.baseAddress!, count: 51, std: 3)
        addTeardownBlock { p.deallocate(); g.deallocate() }
        return (p, g)
    }

    func testShardedAdamWStepsEqualOneFullStep() {
        let (fullP, fullG) = buffers(seed: 1), (shardP, shardG) = buffers(seed: 1)
        let config = AdamWConfig(learningRate: 0.01, weightDecay: 0.1)
        let full = AdamW(parameterCount: 51, config: config)
        let ranks = shards.map { _ in AdamW(parameterCount: 51, config: config) }
        for _ in 0..<3 {
            full.update(parameters: fullP, gradients: fullG, tensors: tensors, learningRate: 0.01)
            for (optimizer, pieces) in zip(ranks, shards) {
                optimizer.update(parameters: shardP, gradients: shardG, tensors: tensors, learningRate: 0.01, ranges: pieces)
            }
        }
        assertBitIdentical(Array(shardP), Array(fullP), "sharded vs full update")
        for (optimizer, pieces) in zip(ranks, shards) {
            for i in pieces.joined() {
                XCTAssertEqual(optimizer.m[i], full.m[i])
                XCTAssertEqual(optimizer.v[i], full.v[i])
            }
        }
    }

    func testShardNormsAddUpToTheGlobalNormAndClipTheSame() {
        let (g, _) = buffers(seed: 2), (h, _) = buffers(seed: 2)
        let total = shards.map { sumOfSquares(g, in: $0) }.reduce(0, +)
        XCTAssertEqual(Float(total.squareRoot()), gradientNorm(g), accuracy: 1e-5 * gradientNorm(g))
        let norm = clipGradients(h, maxNorm: 1)
        let scale = clipScale(norm: norm, maxNorm: 1)!
        for pieces in shards { scaleGradients(g, by: scale, in: pieces) }
        assertBitIdentical(Array(g), Array(h), "shard-wise vs global clipping")
        XCTAssertNil(clipScale(norm: 0.5, maxNorm: 1))
    }
}
