import LLMTasks

/// The baseline for similar posts and hashtag voting: cosine between TF-IDF rows (the
/// classification baseline's `BagOfWords`, fitted on the searched posts), exact, by scattering
/// each query into a dense vector and dotting it with every sparse row.
struct TFIDFNeighbours {
    let features: BagOfWords
    let rows: [BagOfWords.Row]

    init(_ texts: [String]) {
        features = BagOfWords(training: texts)
        rows = texts.map(features.row)
    }

    func search(_ queries: [String], k: Int, excluding: ((Int, Int) -> Bool)? = nil) -> [[NearestNeighbours.Hit]] {
        var dense = [Double](repeating: 0, count: features.featureCount)
        var scores = [Float](repeating: 0, count: rows.count)
        return queries.enumerated().map { q, text in
            let query = features.row(text)
            for entry in query { dense[entry.index] = entry.value }
            for (i, row) in rows.enumerated() { scores[i] = Float(row.reduce(0) { $0 + $1.value * dense[$1.index] }) }
            for entry in query { dense[entry.index] = 0 }
            return NearestNeighbours.best(k, of: scores[...]) { excluding?(q, $0) ?? false }
        }
    }
}
