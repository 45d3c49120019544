import ArgumentParser
import Foundation
import LLMComm
import LLMData
import LLMPrivacy
import LLMTrain

/// `swift-llm-train privacy-audit`: plant canaries, train, report their exposure (LLMPrivacy).
struct PrivacyAuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "privacy-audit",
        abstract: "Measure memorisation: plant canary posts, train, and report each canary's exposure.",
        discussion: """
        Canaries are posts "PREFIX d d d ..." with random digits (seeded), each planted --insertions \
        times at random places in the corpus's train split; controls are drawn the same way and never \
        planted. The run trains from scratch with the config (so --set privacy.* trains it with \
        DP-SGD), then ranks each canary's likelihood among candidate secrets of the same format: \
        exposure = log2 |R| - log2 rank (Carlini et al. 2019). Writes RUN_DIR/privacy-audit.json.

        Examples:
          swift-llm-train privacy-audit --config Configs/tiny.yaml --run-dir runs/audit
          swift-llm-train privacy-audit --config Configs/tiny.yaml --insertions 1 --insertions 10 --insertions 100
          swift-llm-train privacy-audit --config Configs/tiny.yaml --digits 4 --candidates 10000   # exact
        """)

    @Option(help: ArgumentHelp("YAML config (presets in Configs/); data.dataset must stay empty.", valueName: "file"))
    var config: String?
    @Option(name: .customLong("set"), help: ArgumentHelp("Override one config field, e.g. --set privacy.noise_multiplier=1.0 (repeatable).", valueName: "key=value"))
    var overrides: [String] = []
    @Option(help: "Step budget: sets train.steps.")
    var steps: Int?
    @Option(help: ArgumentHelp("A new run folder: the dataset with canaries, checkpoints, privacy-audit.json.", valueName: "dir"))
    var runDir = "runs/privacy-audit"
    @Option(help: ArgumentHelp("A corpus file (plain text, JSONL, TSV, CSV; repeatable). None: the shipped corpora.", valueName: "file"))
    var input: [String] = []
    @Option(help: "JSONL field or TSV/CSV column holding the post text.")
    var textField = "text"
    @Option(help: "The canary text before its secret.")
    var prefix = "my pin is"
    @Option(help: "Digits of the secret: |R| = 10^digits.")
    var digits = 6
    @Option(help: "Copies planted of each canary (repeatable: one group of canaries per count; default 1 and 10).")
    var insertions: [Int] = []
    @Option(help: "Canaries per insertion count.")
    var canaries = 4
    @Option(help: "Unplanted control secrets.")
    var controls = 4
    @Option(help: "Candidate secrets sampled from R to rank against (at least |R| - 1: all of R, exact).")
    var candidates = 10_000
    @Option(help: "Seed of the secrets, their places and the candidate sample.")
    var seed: UInt64 = 1
    @Flag(help: "Print the JSON report instead of the table.")
    var json = false

    mutating func run() throws {
        let comm = try MPICommunicator.world()
        do {
            var trainConfig = try TrainConfig.load(path: config, overrides: overrides)
            if let steps { trainConfig.train.steps = steps }
            try trainConfig.validate(source: config ?? "config")
            var options = AuditOptions(config: trainConfig, runDirectory: URL(fileURLWithPath: runDir))
            options.inputs = input
            options.fields = CorpusFields(textField: textField)
            options.format = CanaryFormat(prefix: prefix, digits: digits)
            if !insertions.isEmpty { options.insertions = insertions }
            options.canariesPerCount = canaries
            options.controls = controls
            options.candidates = candidates
            options.seed = seed
            guard let report = try PrivacyAudit.run(options, comm: comm) else { return }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                print(report.table)
            }
        } catch {
            if comm.worldSize > 1 { comm.abort("\(error)") }
            FileHandle.standardError.write(Data("swift-llm-train: error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
