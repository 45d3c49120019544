import Foundation
import LLMComm
import LLMData
import LLMSupport
import LLMTasks
import LLMTrain

/// `evaluate-recommend`: the model's embeddings against TF-IDF cosine on the same posts of the
/// checkpoint's prepared dataset.
/// - Similar posts: each labelled test post queries the (first `indexLimit`) train posts of its
///   corpus; precision@k of label agreement (a neighbour of a positive post should be positive).
/// - Hashtags: each test post with hashtags, its tags hidden, gets tags voted by its nearest
///   tagged train posts; recall@1/5/10 and MRR of the true tags. Tag popularity is the floor.
public enum RecommendEvaluation {
    public struct Similar { public let source: String; public let queries, indexPosts: Int
                            public let ours, tfidf, chance: Double }
    public struct Hashtags { public let method: String; public let recall1, recall5, recall10, mrr: Double }
    public struct Report {
        public var k = 10
        public var similar: [Similar] = []
        public var hashtagQueries = 0, hashtagCatalogue = 0, unreachableTags = 0, queryTags = 0
        public var hashtags: [Hashtags] = []
        public var embedPostsPerSecond = 0.0, queriesPerSecond = 0.0
    }

    /// Collective (the embedding is shared out over the ranks).
    public static func run(embedder: Embedder, dataset: URL, k: Int = 10, indexLimit: Int = 4000, voters: Int = 10,
                           comm: Communicator, log: (String) -> Void = { _ in }) throws -> Report {
        let manifest = try DatasetManifest.load(directory: dataset)
        guard manifest.tokenizerSHA256 == embedder.saved.state.tokenizerSHA256 else {
            throw TrainingError("\(dataset.path): tokenizer sha256 differs from the checkpoint's; use the dataset the model was trained on (--dataset)")
        }
        func split(_ s: CorpusSplit) throws -> [LabelledExample] {
            guard let file = manifest.splits[s.rawValue]?.labelsFile else {
                throw TrainingError("\(dataset.path): no labelled \(s.rawValue) posts; prepare the dataset with --label-field (the embedded corpus has them)")
            }
            return try LabelledExample.load(url: dataset.appendingPathComponent(file))
        }
        let train = try split(.train), test = try split(.test)
        let tokenizer = embedder.saved.tokenizer
        let room = embedder.model.sequenceLength - 1
        func ids(_ r: LabelledExample) -> [Int32] { Array(r.ids.prefix(room)) + [embedder.padID] }
        func text(_ r: LabelledExample) -> String { tokenizer.decode(r.ids) }
        var report = Report()
        report.k = k
        var embedded = 0, embedSeconds = 0.0, searched = 0, searchSeconds = 0.0
        func embed(_ posts: [[Int32]]) throws -> [Float] {
            let start = monotonicSeconds()
            defer { embedded += posts.count; embedSeconds += monotonicSeconds() - start }
            return try embedder.embed(posts, comm: comm)
        }
        func search(_ queries: [Float], _ index: [Float], _ k: Int) -> [[NearestNeighbours.Hit]] {
            let start = monotonicSeconds()
            defer { searched += queries.count / embedder.dimension; searchSeconds += monotonicSeconds() - start }
            return NearestNeighbours.search(queries: queries, index: index, dimension: embedder.dimension, k: k)
        }

        for source in Set(test.map { $0.source ?? "" }).sorted() {
            let queries = test.filter { ($0.source ?? "") == source }
            let index = Array(train.filter { ($0.source ?? "") == source }.prefix(indexLimit))
            guard !index.isEmpty else { continue }
            log("similar posts, \(source.isEmpty ? "all" : source): \(queries.count) test posts against \(index.count) train posts")
            func precision(_ hits: [[NearestNeighbours.Hit]]) -> Double {
                RankingMetrics.mean(zip(queries, hits).map { query, hits in
                    RankingMetrics.precision(at: k, relevant: hits.map { index[$0.index].label == query.label })
                })
            }
            let ours = precision(search(try embed(queries.map(ids)), try embed(index.map(ids)), k))
            let tfidf = precision(TFIDFNeighbours(index.map(text)).search(queries.map(text), k: k))
            // Chance: the agreement a random neighbour has, the label shares squared and summed.
            var shares: [String: Double] = [:]
            for r in index { shares[r.label, default: 0] += 1 / Double(index.count) }
            let chance = RankingMetrics.mean(queries.map { shares[$0.label] ?? 0 })
            report.similar.append(Similar(source: source.isEmpty ? "all" : source, queries: queries.count,
                                          indexPosts: index.count, ours: ours, tfidf: tfidf, chance: chance))
        }

        let catalogue = train.map { (record: $0, tags: HashtagVoting.hashtags(in: text($0))) }.filter { !$0.tags.isEmpty }
        let tagged = test.map { (text: text($0), tags: HashtagVoting.hashtags(in: text($0))) }.filter { !$0.tags.isEmpty }
        report.hashtagQueries = tagged.count
        report.hashtagCatalogue = catalogue.count
        let known = Set(catalogue.flatMap(\.tags))
        report.queryTags = tagged.reduce(0) { $0 + $1.tags.count }
        report.unreachableTags = tagged.reduce(0) { $0 + $1.tags.filter { !known.contains($0) }.count }
        guard !tagged.isEmpty, !catalogue.isEmpty else { return finish(report) }
        log("hashtags: \(tagged.count) tagged test posts, \(catalogue.count) tagged train posts")
        let hidden = tagged.map { HashtagVoting.withoutHashtags($0.text) }
        func score(_ method: String, _ ranked: [[String]]) {
            let truth = tagged.map { Set($0.tags) }
            func recall(_ k: Int) -> Double {
                RankingMetrics.mean(zip(ranked, truth).map { RankingMetrics.recall(at: k, ranked: $0, relevant: $1) })
            }
            report.hashtags.append(Hashtags(method: method, recall1: recall(1), recall5: recall(5), recall10: recall(10),
                mrr: RankingMetrics.mean(zip(ranked, truth).map { RankingMetrics.reciprocalRank(ranked: $0, relevant: $1) })))
        }
        func voted(_ hits: [[NearestNeighbours.Hit]]) -> [[String]] {
            hits.map { HashtagVoting.vote(neighbours: $0.map { (catalogue[$0.index].tags, $0.score) }) }
        }
        let catalogueVectors = try embed(catalogue.map { ids($0.record) })
        score("model embeddings", voted(search(try embed(hidden.map { embedder.encode($0).ids }), catalogueVectors, voters)))
        score("TF-IDF cosine", voted(TFIDFNeighbours(catalogue.map { text($0.record) }).search(hidden, k: voters)))
        var counts: [String: Int] = [:]
        for entry in catalogue { for tag in entry.tags { counts[tag, default: 0] += 1 } }
        let popular = counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map(\.key)
        score("most frequent tags", Array(repeating: popular, count: tagged.count))

        func finish(_ r: Report) -> Report {
            var r = r
            r.embedPostsPerSecond = embedSeconds > 0 ? Double(embedded) / embedSeconds : 0
            r.queriesPerSecond = searchSeconds > 0 ? Double(searched) / searchSeconds : 0
            return r
        }
        return finish(report)
    }

    public static func render(_ r: Report) -> String {
        var lines = ["similar posts: precision@\(r.k) of label agreement (test posts querying train posts)",
                     "  corpus              queries  index  model   TF-IDF  chance"]
        for s in r.similar {
            lines.append("  " + s.source.padding(toLength: 18, withPad: " ", startingAt: 0)
                + "  \(String(format: "%7d  %5d  %.4f  %.4f  %.4f", s.queries, s.indexPosts, s.ours, s.tfidf, s.chance))")
        }
        lines.append("hashtags (hidden on \(r.hashtagQueries) tagged test posts, voted by \(r.hashtagCatalogue) tagged train posts; \(r.unreachableTags) of \(r.queryTags) true tags never occur in train)")
        lines.append("  method              recall@1  recall@5  recall@10  MRR")
        for h in r.hashtags {
            lines.append("  " + h.method.padding(toLength: 18, withPad: " ", startingAt: 0)
                + String(format: "  %8.4f  %8.4f  %9.4f  %.4f", h.recall1, h.recall5, h.recall10, h.mrr))
        }
        lines.append(String(format: "speed: embed %.0f posts/s, search %.0f queries/s", r.embedPostsPerSecond, r.queriesPerSecond))
        return lines.joined(separator: "\n")
    }
}
