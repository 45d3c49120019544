import Foundation
import Yams

/// A config problem, naming the file (or `--set`) and the field, and saying what to do.
public struct ConfigError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

extension TrainConfig {
    /// Loads `path` (or only the defaults when nil), then applies `overrides` ("section.key=value",
    /// values in YAML syntax), then validates.
    public static func load(path: String?, overrides: [String] = []) throws -> TrainConfig {
        var tree = try defaultsTree()
        if let path {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ConfigError("\(path): cannot read the config file (does it exist?)")
            }
            let user: Node?
            do { user = try Yams.compose(yaml: text) } catch {
                throw ConfigError("\(path): not valid YAML: \(error)")
            }
            if let user { try merge(user, into: &tree, path: [], source: path) }
        }
        // Which `--set` gave a field, so a bad value is blamed on it rather than on the file.
        var setBy: [String: String] = [:]
        for assignment in overrides {
            guard let eq = assignment.firstIndex(of: "="), eq != assignment.startIndex else {
                throw ConfigError("--set \(assignment): expected section.key=value, e.g. --set "
                                  + "optimizer.learning_rate=1e-3")
            }
            let keys = assignment[..<eq].split(separator: ".").map(String.init)
            let valueText = String(assignment[assignment.index(after: eq)...])
            let value = (try? Yams.compose(yaml: valueText)) ?? nil ?? Node(valueText)
            var patch = value
            for key in keys.reversed() { patch = .mapping(Node.Mapping([(Node(key), patch)])) }
            try merge(patch, into: &tree, path: [], source: "--set \(assignment)")
            setBy[keys.joined(separator: ".")] = "--set \(assignment)"
        }
        let config: TrainConfig
        do { config = try YAMLDecoder().decode(TrainConfig.self, from: Yams.serialize(node: tree)) } catch {
            let field = (error as? DecodingError).map(codingPath)?.joined(separator: ".") ?? ""
            throw ConfigError("\(setBy[field] ?? path ?? "config"): \(describe(error))")
        }
        try config.validate(source: path ?? "config")
        return config
    }

    /// Fields a resumed run may change freely: they set how long, how fast and how often, not
    /// what is optimised (the step budget, threads, micro-batching, logging, evaluation, saving).
    public static let resumableFields: Set<String> = [
        "train.steps", "train.threads", "train.micro_batch", "train.log_every", "train.max_bad_steps",
        "train.drift_check_every", "train.shard_optimizer", "train.step_timeout_s", "train.recompute",
        "eval.every", "eval.sequences", "checkpoint.every", "checkpoint.keep_last", "checkpoint.async",
        // The tokenizer itself is checked against the checkpoint's by its sha256.
        "data.tokenizer",
    ]

    /// Every field whose value differs from `saved`, as "field: old -> new", in field order.
    public func changes(from saved: TrainConfig) throws -> [(field: String, change: String)] {
        let old = try Self.flatten(try Yams.compose(yaml: saved.yaml())!), new = try Self.flatten(try Yams.compose(yaml: yaml())!)
        return new.compactMap { field, value in
            let before = old.first { $0.0 == field }?.1 ?? "(absent)"
            return before == value ? nil : (field, "\(field): \(before) -> \(value)")
        }
    }

    private static func flatten(_ node: Node, prefix: String = "") throws -> [(String, String)] {
        guard case .mapping(let map) = node else { return [(prefix, node.string ?? "\(node)")] }
        return try map.flatMap { key, value in
            try flatten(value, prefix: prefix.isEmpty ? key.string ?? "" : prefix + "." + (key.string ?? ""))
        }
    }

    /// The config as YAML, as saved next to every run and checkpoint.
    public func yaml() throws -> String { try YAMLEncoder().encode(self) }

    private static func defaultsTree() throws -> Node {
        try Yams.compose(yaml: YAMLEncoder().encode(TrainConfig()))!
    }

    /// Overlays `user` on the defaults; every key must exist there, so typos are caught.
    private static func merge(_ user: Node, into tree: inout Node, path: [String], source: String) throws {
        guard case .mapping(let userMap) = user else {
            throw ConfigError("\(source): expected a mapping of fields at "
                              + "'\(path.isEmpty ? "top level" : path.joined(separator: "."))'")
        }
        guard case .mapping(var treeMap) = tree else { return }
        for (key, value) in userMap {
            guard let name = key.string else { continue }
            let field = (path + [name]).joined(separator: ".")
            guard let existing = treeMap[Node(name)] else {
                let known = treeMap.keys.compactMap(\.string).joined(separator: ", ")
                throw ConfigError("\(source): unknown field '\(field)'; known fields here: \(known)")
            }
            if case .mapping = existing {
                var sub = existing
                try merge(value, into: &sub, path: path + [name], source: source)
                treeMap[Node(name)] = sub
            } else {
                if case .mapping = value {
                    throw ConfigError("\(source): field '\(field)' takes a value, not a mapping")
                }
                treeMap[Node(name)] = value
            }
        }
        tree = .mapping(treeMap)
    }

    private static func codingPath(_ error: DecodingError) -> [String] {
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context),
             .keyNotFound(_, let context):
            return context.codingPath.map(\.stringValue)
        @unknown default:
            return []
        }
    }

    private static func describe(_ error: Error) -> String {
        guard let decoding = error as? DecodingError else { return "\(error)" }
        switch decoding {
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            return "field '\(context.codingPath.map(\.stringValue).joined(separator: "."))' must be a \(type)"
        case .dataCorrupted(let context):
            return "field '\(context.codingPath.map(\.stringValue).joined(separator: "."))': "
                   + "\(context.debugDescription)"
        case .keyNotFound(let key, _):
            return "missing field '\(key.stringValue)'"
        @unknown default:
            return "\(error)"
        }
    }

    /// Checks that the numbers make a trainable run; each error names the field and the fix.
    public func validate(source: String = "config") throws {
        func fail(_ message: String) throws -> Never { throw ConfigError("\(source): \(message)") }
        if model.layers < 1 { try fail("model.layers must be at least 1, got \(model.layers)") }
        if model.heads < 1 || model.modelDim % model.heads != 0 {
            try fail("model.d_model (\(model.modelDim)) must be a positive multiple of model.heads (\(model.heads))")
        }
        if model.vocabSize < 1 { try fail("model.vocab_size must be positive, got \(model.vocabSize)") }
        if train.sequenceLength < 1 || train.sequenceLength > model.contextLength {
            try fail("train.sequence_length (\(train.sequenceLength)) must be in 1...model.context_length "
                     + "(\(model.contextLength))")
        }
        if train.globalBatch < 1 || train.microBatch < 1 {
            try fail("train.global_batch and train.micro_batch must be positive")
        }
        if train.steps < 0 { try fail("train.steps must not be negative, got \(train.steps)") }
        if privacy.enabled {
            if !(privacy.maxGradNorm > 0) {
                try fail("privacy.max_grad_norm must be positive, got \(privacy.maxGradNorm)")
            }
            if privacy.noiseMultiplier < 0 || privacy.targetEpsilon < 0 {
                try fail("privacy.noise_multiplier and privacy.target_epsilon must not be negative")
            }
            if privacy.delta < 0 || privacy.delta >= 1 {
                try fail("privacy.delta must be in [0, 1), got \(privacy.delta)")
            }
        }
        if optimizer.learningRate <= 0 || optimizer.minLearningRate < 0 || optimizer.minLearningRate > optimizer.learningRate {
            try fail("need 0 <= optimizer.min_learning_rate <= optimizer.learning_rate and learning_rate > 0")
        }
        if !(0..<1).contains(optimizer.beta1) || !(0..<1).contains(optimizer.beta2) {
            try fail("optimizer.beta1 and optimizer.beta2 must be in [0, 1)")
        }
        if !(train.stepTimeout >= 0) {
            try fail("train.step_timeout_s must be 0 (off) or a positive number of seconds, got \(train.stepTimeout)")
        }
        if checkpoint.keepLast < 1 { try fail("checkpoint.keep_last must be at least 1, got \(checkpoint.keepLast)") }
    }

    /// How a global batch splits over `worldSize` ranks: sequences per rank, the micro-batch
    /// each forward/backward sees, and the accumulation steps. Errors say which numbers to change.
    public func batchPlan(worldSize: Int) throws -> BatchPlan {
        let perRank = train.globalBatch / worldSize
        guard perRank * worldSize == train.globalBatch else {
            throw ConfigError("train.global_batch (\(train.globalBatch)) must be divisible by the number of ranks "
                              + "(\(worldSize)); choose a multiple of \(worldSize) or launch a different -n")
        }
        let micro = min(train.microBatch, perRank)
        guard perRank % micro == 0 else {
            throw ConfigError("each of the \(worldSize) ranks gets \(perRank) sequences a step, which "
                              + "train.micro_batch (\(micro)) does not divide; set train.micro_batch to a divisor of "
                              + "\(perRank)")
        }
        return BatchPlan(worldSize: worldSize, sequencesPerRank: perRank, microBatch: micro,
                         accumulationSteps: perRank / micro)
    }
}

public struct BatchPlan: Equatable, Sendable {
    public let worldSize: Int
    public let sequencesPerRank: Int
    public let microBatch: Int
    public let accumulationSteps: Int

    public init(worldSize: Int, sequencesPerRank: Int, microBatch: Int, accumulationSteps: Int) {
        self.worldSize = worldSize
        self.sequencesPerRank = sequencesPerRank
        self.microBatch = microBatch
        self.accumulationSteps = accumulationSteps
    }

    public var globalBatch: Int { sequencesPerRank * worldSize }

    /// The global sample indices of one micro-batch. Rank r takes the r-th contiguous slice of
    /// global batch `step`, a micro-step the next `microBatch` of it, so every world size sees
    /// the same samples in each step, in the same global order.
    public func samples(step: Int, rank: Int, micro: Int) -> Range<Int> {
        let first = step * globalBatch + rank * sequencesPerRank + micro * microBatch
        return first..<first + microBatch
    }
}
