import Foundation

/// TF-IDF features of a post for the baseline: word unigrams and bigrams plus character 1- to
/// 3-grams (which carry Chinese, written without spaces), vocabulary and idf from the train
/// split (features in at least two posts), sublinear tf (1 + ln tf), rows L2-normalised, as
/// scikit-learn's TfidfVectorizer(sublinear_tf=True, min_df=2) does.
public struct BagOfWords {
    public typealias Row = [(index: Int, value: Double)]
    private let index: [String: Int]
    private let idf: [Double]
    public var featureCount: Int { idf.count }

    public init(training texts: [String], minDocumentFrequency: Int = 2) {
        var df: [String: Int] = [:]
        for text in texts { for term in Set(Self.terms(text)) { df[term, default: 0] += 1 } }
        let kept = df.filter { $0.value >= minDocumentFrequency }.keys.sorted()
        index = Dictionary(uniqueKeysWithValues: kept.enumerated().map { ($1, $0) })
        let n = Double(texts.count)
        idf = kept.map { log((1 + n) / (1 + Double(df[$0]!))) + 1 }
    }

    public func row(_ text: String) -> Row {
        var counts: [Int: Int] = [:]
        for term in Self.terms(text) { if let i = index[term] { counts[i, default: 0] += 1 } }
        var row = counts.map { (index: $0.key, value: (1 + log(Double($0.value))) * idf[$0.key]) }
            .sorted { $0.index < $1.index }
        let norm = row.reduce(0) { $0 + $1.value * $1.value }.squareRoot()
        if norm > 0 { for i in row.indices { row[i].value /= norm } }
        return row
    }

    /// Lower-cased words (runs of letters, digits, @, #, ') and their bigrams, then char n-grams.
    static func terms(_ text: String) -> [String] {
        let lower = text.lowercased()
        let words = lower.split { !($0.isLetter || $0.isNumber || $0 == "@" || $0 == "#" || $0 == "'") }.map(String.init)
        var terms = words.map { "w:" + $0 }
        if words.count > 1 { for i in 1..<words.count { terms.append("w:" + words[i - 1] + " " + words[i]) } }
        let chars = Array(lower)
        for n in 1...3 where chars.count >= n {
            for i in 0...(chars.count - n) { terms.append("c:" + String(chars[i..<(i + n)])) }
        }
        return terms
    }
}
