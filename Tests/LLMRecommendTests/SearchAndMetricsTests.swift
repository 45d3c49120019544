import XCTest
import LLMSupport
import LLMTestSupport
@testable import LLMRecommend

/// Exact top-k against a brute-force reference, ranking metrics against hand-computed cases,
/// hashtag extraction and voting.
final class SearchAndMetricsTests: XCTestCase {
    /// Integer-valued vectors make every dot product exact in float (so the reference's order is
    /// the true one) and full of ties, which must rank by row index.
    func testTopKEqualsBruteForceWithTiesByIndex() {
        var rng = SplitMix64(seed: 11)
        let dim = 6, rows = 300, queries = 260   // 260 queries: two blocks of the product
        func vectors(_ n: Int) -> [Float] { (0..<(n * dim)).map { _ in Float(Int(rng.next() % 5) - 2) } }
        let index = vectors(rows), query = vectors(queries)
        for k in [1, 7, 50] {
            let found = NearestNeighbours.search(queries: query, index: index, dimension: dim, k: k)
            var mismatches = 0, first: String?
            var ties = 0
            for q in 0..<queries {
                let scores = (0..<rows).map { r in (0..<dim).reduce(Float(0)) { $0 + query[q * dim + $1] * index[r * dim + $1] } }
                let reference = (0..<rows).sorted { (-scores[$0], $0) < (-scores[$1], $1) }.prefix(k)
                ties += zip(reference.dropFirst(), reference).filter { scores[$0] == scores[$1] }.count
                let got = found[q].map(\.index)
                if got != Array(reference) || found[q].map(\.score) != reference.map({ scores[$0] }) {
                    mismatches += 1
                    if first == nil { first = "query \(q): \(got.prefix(8)) vs \(Array(reference.prefix(8)))" }
                }
            }
            XCTAssertEqual(mismatches, 0, "k \(k): \(mismatches) queries differ, first \(first ?? "")")
            if k > 1 { XCTAssertGreaterThan(ties, 0, "the case must exercise ties") }
        }
    }

    func testKLargerThanTheIndexReturnsEveryRowAndExclusionDropsRows() {
        let index: [Float] = [1, 0, 0, 1, 0.6, 0.8], query: [Float] = [1, 0]
        let all = NearestNeighbours.search(queries: query, index: index, dimension: 2, k: 10)
        XCTAssertEqual(all[0].map(\.index), [0, 2, 1])
        XCTAssertEqual(all[0].map(\.score), [1, 0.6, 0])
        let others = NearestNeighbours.search(queries: query, index: index, dimension: 2, k: 2) { _, row in row == 0 }
        XCTAssertEqual(others[0].map(\.index), [2, 1])
        XCTAssertEqual(NearestNeighbours.search(queries: query, index: [], dimension: 2, k: 3), [[]])
    }

    func testRecallMRRAndPrecisionByHand() {
        let ranked = ["a", "b", "c", "d", "e"]
        XCTAssertEqual(RankingMetrics.recall(at: 1, ranked: ranked, relevant: ["b", "d"]), 0)
        XCTAssertEqual(RankingMetrics.recall(at: 2, ranked: ranked, relevant: ["b", "d"]), 0.5)
        XCTAssertEqual(RankingMetrics.recall(at: 5, ranked: ranked, relevant: ["b", "d"]), 1)
        XCTAssertEqual(RankingMetrics.recall(at: 5, ranked: ranked, relevant: ["b", "z", "y"]), 1.0 / 3)
        XCTAssertEqual(RankingMetrics.reciprocalRank(ranked: ranked, relevant: ["d", "c"]), 1.0 / 3)
        XCTAssertEqual(RankingMetrics.reciprocalRank(ranked: ranked, relevant: ["a"]), 1)
        XCTAssertEqual(RankingMetrics.reciprocalRank(ranked: ranked, relevant: ["z"]), 0)
        XCTAssertEqual(RankingMetrics.precision(at: 4, relevant: [true, false, true, true, true]), 0.75)
        XCTAssertEqual(RankingMetrics.precision(at: 4, relevant: [true]), 0.25, "missing suggestions count as misses")
        // Mean over three queries: MRR of ranks 1, 2 and none = (1 + 0.5 + 0) / 3.
        let mrr = RankingMetrics.mean([["x"], ["y", "x"], ["y"]].map { RankingMetrics.reciprocalRank(ranked: $0, relevant: ["x"]) })
        XCTAssertEqual(mrr, 0.5, accuracy: 1e-12)
    }

    func testHashtagsAreFoundHiddenAndVoted() {
        let post = "Loving the #Sporcle quiz! #fb #1 and #fb again, #tcot."
        XCTAssertEqual(HashtagVoting.hashtags(in: post), ["#sporcle", "#fb", "#tcot"])
        XCTAssertEqual(HashtagVoting.withoutHashtags(post), "Loving the quiz! #1 and again,")
        let ranked = HashtagVoting.vote(neighbours: [(["#a", "#b"], 0.5), (["#b"], 0.25), (["#c"], 0.625)])
        XCTAssertEqual(ranked, ["#b", "#c", "#a"], "totals 0.75, 0.625, 0.5")
        XCTAssertEqual(HashtagVoting.vote(neighbours: [(["#z"], 0.5), (["#y"], 0.5)]), ["#y", "#z"], "ties by name")
    }
}
