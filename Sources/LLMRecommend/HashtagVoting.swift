/// Hashtag suggestions by neighbour voting: each of a post's nearest tagged posts votes for
/// its hashtags with its similarity; tags rank by their total (ties by name). It can only
/// suggest tags seen in the index, which is why the report counts the unreachable ones.
public enum HashtagVoting {
    /// The post's hashtags, lower-cased, in order of first appearance: `#` then letters, digits
    /// or `_`, starting with a letter (so "#1" is not a tag).
    public static func hashtags(in text: String) -> [String] {
        var tags: [String] = []
        for word in words(text) where isHashtag(word) {
            let tag = String(word.prefix { $0 == "#" || $0.isLetter || $0.isNumber || $0 == "_" }).lowercased()
            if !tags.contains(tag) { tags.append(tag) }
        }
        return tags
    }

    /// The post with its hashtags removed: what a user has written before tagging it.
    public static func withoutHashtags(_ text: String) -> String {
        words(text).filter { !isHashtag($0) }.joined(separator: " ")
    }

    /// Tags ranked by the summed score of the neighbours carrying them.
    public static func vote(neighbours: [(tags: [String], score: Float)]) -> [String] {
        var totals: [String: Double] = [:]
        for neighbour in neighbours { for tag in neighbour.tags { totals[tag, default: 0] += Double(neighbour.score) } }
        return totals.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map(\.key)
    }

    /// Tags for each query vector, voted by its `voters` nearest posts of `index` that carry hashtags.
    public static func suggest(queries: [Float], index: EmbeddingIndex, voters: Int) -> [[String]] {
        let tagged = index.posts.indices.map { (row: $0, tags: hashtags(in: index.posts[$0].text)) }
            .filter { !$0.tags.isEmpty }
        let D = index.dimension
        let vectors = tagged.flatMap { index.vectors[($0.row * D)..<(($0.row + 1) * D)] }
        return NearestNeighbours.search(queries: queries, index: vectors, dimension: D, k: voters).map { hits in
            vote(neighbours: hits.map { (tagged[$0.index].tags, $0.score) })
        }
    }

    private static func words(_ text: String) -> [Substring] { text.split(whereSeparator: \.isWhitespace) }

    private static func isHashtag(_ word: Substring) -> Bool {
        word.count > 1 && word.first == "#" && word.dropFirst().first!.isLetter
    }
}
