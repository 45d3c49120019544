import Foundation
import LLMComm
import LLMData
import LLMSupport
import LLMTrain

/// The memorisation check of `swift-llm-train privacy-audit`: plant canary posts (random secrets
/// of one format, `insertions` copies each) at seeded places in a corpus's train split, train on
/// it with the ordinary trainer and config (so `--set privacy.*` trains it privately), then rank
/// every canary's likelihood among candidate secrets of the same format (`Exposure`). Controls,
/// secrets drawn the same way but never planted, show what exposure means for unseen text.
public struct AuditOptions: Sendable {
    public var config: TrainConfig
    public var runDirectory: URL
    /// Corpus files (`prepare`'s formats); empty: the shipped corpora.
    public var inputs: [String] = []
    public var fields = CorpusFields()
    public var format = CanaryFormat()
    /// How many copies of each planted canary; `canariesPerCount` canaries for each count.
    public var insertions = [1, 10]
    public var canariesPerCount = 4
    /// Unplanted secrets scored the same way.
    public var controls = 4
    /// Candidate secrets sampled from R; at least |R| - 1 means all of R (exact exposure).
    public var candidates = 10_000
    public var seed: UInt64 = 1

    public init(config: TrainConfig, runDirectory: URL) {
        self.config = config
        self.runDirectory = runDirectory
    }
}

public enum PrivacyAudit {
    public static let reportFile = "privacy-audit.json"
    public static let dataDirectory = "data-canaries"

    /// Prepares the corpus with canaries (coordinator), trains (every rank), scores (coordinator).
    /// Returns the report on the coordinator, nil elsewhere; the report is also written to
    /// `RUN_DIR/privacy-audit.json`.
    public static func run(_ options: AuditOptions, comm: Communicator,
                           note: (String) -> Void = { print($0) }) throws -> AuditReport? {
        try validate(options)
        var config = options.config
        let run = options.runDirectory
        let data = run.appendingPathComponent(dataDirectory)
        var rng = SplitMix64(seed: options.seed)
        let secrets = options.format.distinctIndices(options.insertions.count * options.canariesPerCount
                                                     + options.controls, rng: &rng)
        var canaries: [(index: Int, insertions: Int)] = []
        for (k, count) in options.insertions.enumerated() {
            let group = secrets[(k * options.canariesPerCount)..<((k + 1) * options.canariesPerCount)]
            canaries += group.map { ($0, count) }
        }
        canaries += secrets.suffix(options.controls).map { ($0, 0) }

        var failure: [UInt8] = []
        if comm.isCoordinator {
            do {
                try prepare(options, canaries: canaries, rng: &rng, output: data, note: note)
            } catch { failure = Array("\(error)".utf8) }
        }
        failure = try comm.broadcast(failure, root: 0)
        if !failure.isEmpty { throw TrainingError(String(decoding: failure, as: UTF8.self)) }

        config.data.dataset = data.path
        let state = try Trainer(options: TrainOptions(config: config, runDirectory: run), comm: comm,
                                privateLanguageModel: { try PrivateLanguageModel(context: $0, windows: $1) }).run()
        guard comm.isCoordinator else { return nil }

        guard let latest = try CheckpointStore(runDirectory: run, keepLast: config.checkpoint.keepLast).latest() else {
            throw TrainingError("\(run.path): training wrote no checkpoint to audit")
        }
        let saved = try SavedModel(path: latest.directory.path)
        let manifest = try DatasetManifest.load(directory: data, verify: false)
        let trainTokens = manifest.splits[CorpusSplit.train.rawValue]?.tokens ?? 0
        let epochs = Double(state.tokensSeen) / Double(max(trainTokens, 1))
        note("scoring \(canaries.count) canaries against "
             + "\(min(options.candidates, options.format.spaceSize - 1)) candidates of |R| = "
             + "\(options.format.spaceSize)")
        var report = try score(saved: saved, format: options.format, canaries: canaries,
                               candidates: options.candidates, rng: &rng)
        report.training = .init(steps: state.step, tokensSeen: state.tokensSeen, trainTokens: trainTokens,
                                epochs: epochs, finalTrainLoss: state.lastTrainLoss,
                                validationLoss: state.lastValidationLoss, checkpoint: latest.directory.path,
                                privacy: state.privacy)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try DurableFile.writeAtomically(try encoder.encode(report), to: run.appendingPathComponent(reportFile).path)
        return report
    }

    static func validate(_ options: AuditOptions) throws {
        let format = options.format
        guard format.digits >= 1 && format.digits <= 18 else {
            throw TrainingError("--digits must be in 1...18, got \(format.digits)")
        }
        let needed = options.insertions.count * options.canariesPerCount + options.controls
        guard needed <= format.spaceSize / 2 else {
            throw TrainingError("\(needed) canaries and controls do not fit a space of \(format.spaceSize) secrets; "
                                + "use more digits")
        }
        guard options.insertions.allSatisfy({ $0 >= 1 }), options.candidates >= 1 else {
            throw TrainingError("--insertions must be at least 1 and --candidates at least 1")
        }
        guard options.config.data.dataset.isEmpty else {
            throw TrainingError("data.dataset is set, but privacy-audit prepares its own dataset with the canaries; "
                                + "give the corpus files with --input instead")
        }
        let checkpoints = options.runDirectory.appendingPathComponent("checkpoints")
        guard !FileManager.default.fileExists(atPath: checkpoints.path) else {
            throw TrainingError("\(options.runDirectory.path) already holds a run; an audit trains from scratch, so "
                                + "choose a new --run-dir")
        }
    }

    /// The corpus's posts with each canary's copies inserted at seeded places among them (train
    /// split), the tokenizer trained on the corpus alone (or `data.tokenizer`), as a dataset.
    static func prepare(_ options: AuditOptions, canaries: [(index: Int, insertions: Int)], rng: inout SplitMix64,
                        output: URL, note: (String) -> Void) throws {
        let normalizer = TextNormalizer()
        var posts = options.inputs.isEmpty ? try ShippedCorpus.posts()
            : try options.inputs.flatMap {
                try CorpusReader.read(url: URL(fileURLWithPath: $0), fields: options.fields)
            }
        let tokenizer = try options.config.data.tokenizer.isEmpty
            ? BPETrainer.train(texts: posts.filter { $0.split == .train }.map { normalizer.normalize($0.text) },
                               vocabSize: options.config.model.vocabSize)
            : BPETokenizer.load(from: URL(fileURLWithPath: options.config.data.tokenizer))
        var planted = 0
        for canary in canaries where canary.insertions > 0 {
            for _ in 0..<canary.insertions {
                let at = Int(rng.next() % UInt64(posts.count + 1))
                posts.insert(Post(text: options.format.text(secretIndex: canary.index), label: nil,
                                  source: "canary", split: .train), at: at)
                planted += 1
            }
        }
        note("planted \(planted) canary posts among \(posts.count - planted) posts into \(output.path)")
        let sources = (options.inputs.isEmpty ? ShippedCorpus.fileNames.map { "shipped:" + $0 } : options.inputs)
            + ["canaries:seed=\(options.seed)"]
        _ = try DatasetPreparer.prepare(posts: posts, sources: sources, tokenizer: tokenizer, normalizer: normalizer,
                                        output: output)
    }

    /// Exposure of each canary among `candidates` secrets sampled uniformly from R (without the
    /// canaries and controls), or among all of R when that is no more.
    static func score(saved: SavedModel, format: CanaryFormat, canaries: [(index: Int, insertions: Int)],
                      candidates: Int, rng: inout SplitMix64) throws -> AuditReport {
        let exhaustive = candidates >= format.spaceSize - 1
        let own = Set(canaries.map(\.index))
        var pool: [Int] = []
        if exhaustive {
            pool = Array(0..<format.spaceSize)
        } else {
            while pool.count < candidates {
                let index = Int(rng.next() % UInt64(format.spaceSize))
                if !own.contains(index) { pool.append(index) }
            }
        }
        let scorer = SequenceScorer(saved: saved)
        let poolTokens = pool.map { scorer.tokens(format.text(secretIndex: $0)) }
        let canaryTokens = canaries.map { scorer.tokens(format.text(secretIndex: $0.index)) }
        let poolScores = try scorer.logLikelihoods(poolTokens)
        // Exhaustive: the canary's own score is its entry in the pool, from the same forward.
        let canaryScores = exhaustive ? canaries.map { poolScores[$0.index] } : try scorer.logLikelihoods(canaryTokens)
        var results: [AuditReport.Canary] = []
        for (c, canary) in canaries.enumerated() {
            let score = canaryScores[c]
            let others = exhaustive ? zip(pool, poolScores).filter { $0.0 != canary.index }.map(\.1) : poolScores
            results.append(.init(secret: format.secret(canary.index), insertions: canary.insertions,
                                 logLikelihood: score, tokens: canaryTokens[c].count,
                                 perplexity: exp(-score / Double(canaryTokens[c].count)),
                                 higherCandidates: others.reduce(0) { $0 + ($1 > score ? 1 : 0) },
                                 exposureBits: Exposure.bits(canary: score, others: others)))
        }
        let perplexities = zip(poolScores, poolTokens).map { exp(-$0 / Double($1.count)) }.sorted()
        let compared = exhaustive ? format.spaceSize - 1 : candidates
        return AuditReport(format: format, spaceSize: format.spaceSize, candidates: compared, exhaustive: exhaustive,
                           maxExposureBits: log2(Double(compared + 1)),
                           candidateMedianPerplexity: perplexities[perplexities.count / 2], canaries: results)
    }
}
