import COpenBLAS

/// Exact top-k search by inner product (a cosine for unit rows): the scores of a block of
/// queries against every row are one OpenBLAS matrix product, then each query keeps its k best.
/// Equal scores rank by row index, so the answer is deterministic. No approximate index: at
/// 10^4-10^5 rows a product is milliseconds (README says when one would be needed).
public enum NearestNeighbours {
    public struct Hit: Equatable, Sendable {
        public let index: Int
        public let score: Float
        public init(index: Int, score: Float) { self.index = index; self.score = score }
    }

    /// Queries per matrix product: bounds the score block at `queryBlock` x rows floats.
    static let queryBlock = 256

    /// The `min(k, rows)` best rows of `index` (rows x dim) for each row of `queries`, best first.
    /// `excluding(query, row)` drops candidates (a post's own row when the queries are the index).
    public static func search(queries: [Float], index: [Float], dimension: Int, k: Int,
                              excluding: ((Int, Int) -> Bool)? = nil) -> [[Hit]] {
        precondition(dimension > 0 && queries.count % dimension == 0 && index.count % dimension == 0)
        let q = queries.count / dimension, n = index.count / dimension
        guard q > 0, n > 0, k > 0 else { return Array(repeating: [], count: q) }
        var results: [[Hit]] = []
        results.reserveCapacity(q)
        var scores = [Float](repeating: 0, count: min(q, queryBlock) * n)
        for start in stride(from: 0, to: q, by: queryBlock) {
            let rows = min(queryBlock, q - start)
            queries.withUnsafeBufferPointer { a in
                index.withUnsafeBufferPointer { b in
                    scores.withUnsafeMutableBufferPointer { c in
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(n), Int32(dimension), 1,
                                    a.baseAddress! + start * dimension, Int32(dimension), b.baseAddress!,
                                    Int32(dimension), 0, c.baseAddress!, Int32(n))
                    }
                }
            }
            for r in 0..<rows {
                let query = start + r
                results.append(best(k, of: scores[(r * n)..<((r + 1) * n)]) { excluding?(query, $0) ?? false })
            }
        }
        return results
    }

    /// The k highest of `row` (indices relative to its start), ties by lower index, best first:
    /// a sorted list of at most k kept by insertion, which beats a full sort for k << rows.
    static func best(_ k: Int, of row: ArraySlice<Float>, skip: (Int) -> Bool) -> [Hit] {
        var kept: [Hit] = []
        kept.reserveCapacity(k + 1)
        let base = row.startIndex
        for i in row.indices {
            let hit = Hit(index: i - base, score: row[i])
            if kept.count == k, !(hit.score > kept[k - 1].score) { continue }   // later rows lose ties
            if skip(hit.index) { continue }
            var at = kept.count
            while at > 0 && hit.score > kept[at - 1].score { at -= 1 }
            kept.insert(hit, at: at)
            if kept.count > k { kept.removeLast() }
        }
        return kept
    }
}
