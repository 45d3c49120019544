import Foundation
import LLMComm
import LLMData
import LLMSupport
import LLMTasks
import LLMTrain

/// `evaluate-recommend`: the model's embeddings against TF-IDF cosine on the same posts of the
/// checkpoint's prepared dataset.
/// - Similar posts: each labelled test post queries the (at most `indexLimit`, evenly spread) train posts of its
///   corpus; precision@k of label agreement (a neighbour of a positive post should be positive).
/// - Hashtags: each test post with hashtags, its tags hidden, gets tags voted by its nearest
///   tagged train posts (and, for a larger sample, every tagged post by all the others);
///   recall@1/5/10 and MRR of the true tags; against the language model's own ranking of the
///   tags seen twice (`HashtagLikelihood`) and tag popularity, the floor.
public enum RecommendEvaluation {
    public struct Similar { public let source: String; public let queries, indexPosts: Int
                            public let ours, tfidf, chance: Double }
    public struct Hashtags { public let setting, method: String; public let recall1, recall5, recall10, mrr: Double }
    public struct Report {
        public var k = 10
        public var similar: [Similar] = []
        public var hashtagSettings: [String] = []
        public var hashtags: [Hashtags] = []
        public var embedPostsPerSecond = 0.0, queriesPerSecond = 0.0
    }

    /// Collective (the embedding is shared out over the ranks).
    public static func run(embedder: Embedder, dataset: URL, k: Int = 10, indexLimit: Int = 4000, voters: Int = 10,
                           comm: Communicator, log: (String) -> Void = { _ in }) throws -> Report {
        let manifest = try DatasetManifest.load(directory: dataset)
        guard manifest.tokenizerSHA256 == embedder.tokenizerSHA256 else {
            throw TrainingError("\(dataset.path): tokenizer sha256 differs from the checkpoint's; use the dataset the "
                                + "model was trained on (--dataset)")
        }
        func split(_ s: CorpusSplit) throws -> [LabelledExample] {
            guard let file = manifest.splits[s.rawValue]?.labelsFile else {
                throw TrainingError("\(dataset.path): no labelled \(s.rawValue) posts; prepare the dataset with "
                                    + "--label-field (the embedded corpus has them)")
            }
            return try LabelledExample.load(url: dataset.appendingPathComponent(file))
        }
        let train = try split(.train), test = try split(.test)
        let tokenizer = embedder.tokenizer
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
        func search(_ queries: [Float], _ index: [Float], _ k: Int,
                    _ excluding: ((Int, Int) -> Bool)? = nil) -> [[NearestNeighbours.Hit]] {
            let start = monotonicSeconds()
            defer { searched += queries.count / embedder.dimension; searchSeconds += monotonicSeconds() - start }
            return NearestNeighbours.search(queries: queries, index: index, dimension: embedder.dimension, k: k,
                                            excluding: excluding)
        }

        for source in Set(test.map { $0.source ?? "" }).sorted() {
            let queries = test.filter { ($0.source ?? "") == source }
            let index = evenlySpaced(train.filter { ($0.source ?? "") == source }, limit: indexLimit)
            guard !index.isEmpty else { continue }
            log("similar posts, \(source.isEmpty ? "all" : source): \(queries.count) test posts against "
                + "\(index.count) train posts")
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

        // Hashtags, two ways: test posts voted by tagged train posts (few: the shipped corpora
        // have few tags), and leave-one-out over every tagged post of all splits (each voted by
        // the others), a larger sample of the same task.
        let validation = try split(.validation)
        func tagged(_ records: [LabelledExample]) -> [Tagged] {
            records.map { Tagged(text: text($0), ids: ids($0), tags: HashtagVoting.hashtags(in: text($0))) }
                .filter { !$0.tags.isEmpty }
        }
        let trainTagged = tagged(train), testTagged = tagged(test)
        let likelihood = HashtagLikelihood(embedder: embedder)
        let allTagged = trainTagged + tagged(validation) + testTagged
        func evaluate(_ setting: String, queries: [Tagged], catalogue: [Tagged], leaveOneOut: Bool) throws {
            guard !queries.isEmpty, !catalogue.isEmpty else { return }
            log("hashtags, \(setting): \(queries.count) queries, \(catalogue.count) tagged posts voting")
            let known = Set(catalogue.flatMap(\.tags))
            let truth = queries.map { Set($0.tags) }
            let unreachable = queries.indices.reduce(0) { total, q in
                total + queries[q].tags.filter { tag in
                    !known.contains(tag)
                        || (leaveOneOut && !catalogue.indices.contains { $0 != q && catalogue[$0].tags.contains(tag) })
                }.count
            }
            report.hashtagSettings.append("\(setting): \(queries.count) posts with "
                                          + "\(truth.reduce(0) { $0 + $1.count }) tags "
                + "(\(unreachable) never on a voting post), \(catalogue.count) tagged posts voting")
            let exclude: ((Int, Int) -> Bool)? = leaveOneOut ? { $0 == $1 } : nil
            let hidden = queries.map { HashtagVoting.withoutHashtags($0.text) }
            func score(_ method: String, _ ranked: [[String]]) {
                func recall(_ k: Int) -> Double {
                    RankingMetrics.mean(zip(ranked, truth).map { RankingMetrics.recall(at: k, ranked: $0, relevant: $1) })
                }
                let mrr = RankingMetrics.mean(zip(ranked, truth).map {
                    RankingMetrics.reciprocalRank(ranked: $0, relevant: $1)
                })
                report.hashtags.append(Hashtags(setting: setting, method: method, recall1: recall(1), recall5: recall(5),
                                                recall10: recall(10), mrr: mrr))
            }
            func voted(_ hits: [[NearestNeighbours.Hit]]) -> [[String]] {
                hits.map { HashtagVoting.vote(neighbours: $0.map { (catalogue[$0.index].tags, $0.score) }) }
            }
            let queryVectors = try embed(hidden.map { embedder.encode($0).ids })
            score("model embeddings", voted(search(queryVectors, try embed(catalogue.map(\.ids)), voters, exclude)))
            score("TF-IDF cosine", voted(TFIDFNeighbours(catalogue.map(\.text)).search(hidden, k: voters, excluding: exclude)))
            var counts: [String: Int] = [:]
            for entry in catalogue { for tag in entry.tags { counts[tag, default: 0] += 1 } }
            // The language model ranks the tags seen at least twice on the voting posts (not its own).
            score("LM likelihood", queries.indices.map { q in
                var own = counts
                if leaveOneOut { for tag in queries[q].tags { own[tag]! -= 1 } }
                return likelihood.rank(post: hidden[q], candidates: own.filter { $0.value >= 2 }.keys.sorted())
            })
            score("most frequent tags", queries.indices.map { q in
                var own = counts
                if leaveOneOut { for tag in queries[q].tags { own[tag]! -= 1 } }
                return own.filter { $0.value > 0 }.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map(\.key)
            })
        }
        try evaluate("test split", queries: testTagged, catalogue: trainTagged, leaveOneOut: false)
        try evaluate("leave-one-out", queries: allTagged, catalogue: allTagged, leaveOneOut: true)

        func finish(_ r: Report) -> Report {
            var r = r
            r.embedPostsPerSecond = embedSeconds > 0 ? Double(embedded) / embedSeconds : 0
            r.queriesPerSecond = searchSeconds > 0 ? Double(searched) / searchSeconds : 0
            return r
        }
        return finish(report)
    }

    /// At most `limit` records spread evenly over `records` (the corpus files are grouped by
    /// label, so a prefix could hold one label only).
    static func evenlySpaced<T>(_ records: [T], limit: Int) -> [T] {
        records.count <= limit ? records : (0..<limit).map { records[$0 * records.count / limit] }
    }

    struct Tagged { let text: String; let ids: [Int32]; let tags: [String] }

    public static func render(_ r: Report) -> String {
        var lines = ["similar posts: precision@\(r.k) of label agreement (test posts querying train posts)",
                     "  corpus              queries  index  model   TF-IDF  chance"]
        for s in r.similar {
            lines.append("  " + s.source.padding(toLength: 18, withPad: " ", startingAt: 0)
                + "  \(String(format: "%7d  %5d  %.4f  %.4f  %.4f", s.queries, s.indexPosts, s.ours, s.tfidf, s.chance))")
        }
        lines.append("hashtags hidden, then voted by the nearest tagged posts:")
        lines += r.hashtagSettings.map { "  " + $0 }
        lines.append("  setting         method              recall@1  recall@5  recall@10  MRR")
        for h in r.hashtags {
            lines.append("  " + h.setting.padding(toLength: 14, withPad: " ", startingAt: 0)
                + "  " + h.method.padding(toLength: 18, withPad: " ", startingAt: 0)
                + String(format: "  %8.4f  %8.4f  %9.4f  %.4f", h.recall1, h.recall5, h.recall10, h.mrr))
        }
        lines.append(String(format: "speed: embed %.0f posts/s, search %.0f "
                                    + "queries/s", r.embedPostsPerSecond, r.queriesPerSecond))
        return lines.joined(separator: "\n")
    }
}
