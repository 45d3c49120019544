import Foundation
import LLMData
import LLMTrain

/// One labelled post, ready for the model: its token ids (at most the sequence length, the last
/// one `<|endoftext|>`), its class index, and its rating where it has one.
public struct TaskExample: Equatable, Sendable {
    public var ids: [Int32]
    public var label: Int
    public var rating: Double
}

/// The labelled posts of one split of a prepared dataset (`SPLIT.labels.jsonl`), filtered and
/// labelled as the task says.
public enum TaskData {
    /// The sidecar records of `split` that belong to the task's corpus (`task.source`).
    public static func records(directory: URL, split: CorpusSplit, spec: TaskSpec) throws -> [LabelledExample] {
        let manifest = try DatasetManifest.load(directory: directory)
        guard let file = manifest.splits[split.rawValue]?.labelsFile else {
            throw TrainingError("\(directory.appendingPathComponent(DatasetManifest.fileName).path): the dataset has "
                                + "no labelled posts in its \(split.rawValue) split; prepare it with --label-field "
                                + "(the embedded corpus has them)")
        }
        let url = directory.appendingPathComponent(file)
        let all = try LabelledExample.load(url: url)
        let needsRating = spec.kind == .regression || spec.neutralBand > 0
        for (line, record) in all.enumerated() where needsRating && record.rating == nil
            && (spec.source.isEmpty || record.source == spec.source) {
            throw TrainingError("\(url.path):\(line + 1): no 'rating', which "
                                + "\(spec.kind == .regression ? "regression" : "task.neutral_band") needs; keep to "
                                + "rated posts (task.source: vader_tweets)")
        }
        if spec.source.isEmpty && spec.labelField == "label" { return all }
        for (line, record) in all.enumerated() where record.source == nil {
            throw TrainingError("\(url.path):\(line + 1): no 'source' field, which task.source/task.label_field need; "
                                + "the dataset was prepared by an older version: prepare it again")
        }
        return all.filter { spec.source.isEmpty || $0.source == spec.source }
    }

    /// The class names of the train split, sorted: the label set when `task.labels` is empty.
    public static func labels(directory: URL, spec: TaskSpec) throws -> [String] {
        let records = try records(directory: directory, split: .train, spec: spec)
        let names = Set(records.compactMap(spec.className)).sorted()
        guard !names.isEmpty else {
            throw TrainingError("\(directory.path): no labelled train "
                                + "posts\(spec.source.isEmpty ? "" : " from source '\(spec.source)'"); check "
                                + "task.source")
        }
        return names
    }

    /// The task's examples of `split`: posts whose class is not in `spec.labels` are left out
    /// (e.g. neutral for a binary task); ids are cut to `sequenceLength - 1` and `<|endoftext|>`
    /// appended, so the last token of every post is the same summary position.
    public static func examples(directory: URL, split: CorpusSplit, spec: TaskSpec, sequenceLength: Int,
                                endOfText: Int32) throws -> [TaskExample] {
        let index = Dictionary(uniqueKeysWithValues: spec.labels.enumerated().map { ($1, $0) })
        var out: [TaskExample] = []
        for record in try records(directory: directory, split: split, spec: spec) {
            let ids = Array(record.ids.prefix(sequenceLength - 1)) + [endOfText]
            switch spec.kind {
            case .classification:
                guard let name = spec.className(record), let label = index[name] else { continue }
                out.append(TaskExample(ids: ids, label: label, rating: record.rating ?? .nan))
            case .regression:
                out.append(TaskExample(ids: ids, label: 0, rating: record.rating!))   // checked by records()
            }
        }
        guard !out.isEmpty else {
            throw TrainingError("\(directory.path): no \(split.rawValue) posts with labels \(spec.labels); check "
                                + "task.labels and task.source")
        }
        return out
    }

    /// Per-class loss weights: n / (classes * n_class) over `examples` when balanced, else 1.
    public static func classWeights(_ examples: [TaskExample], spec: TaskSpec) -> [Double] {
        guard spec.kind == .classification, spec.balancedClassWeights else { return Array(repeating: 1, count: spec.outputs) }
        var counts = Array(repeating: 0, count: spec.outputs)
        for e in examples { counts[e.label] += 1 }
        return counts.map { $0 == 0 ? 0 : Double(examples.count) / Double(spec.outputs * $0) }
    }
}
