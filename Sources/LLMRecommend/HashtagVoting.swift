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

    private static func words(_ text: String) -> [Substring] { text.split(whereSeparator: \.isWhitespace) }

    private static func isHashtag(_ word: Substring) -> Bool {
        word.count > 1 && word.first == "#" && word.dropFirst().first!.isLetter
    }
}
