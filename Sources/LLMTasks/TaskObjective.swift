import Foundation
import LLMComm
import LLMData
import LLMModel
import LLMPrivacy
import LLMTrain

/// Fine-tuning on labelled posts: the trunk, the pooled score head, and a per-post loss
/// (class-weighted softmax cross-entropy, or squared error on the rating). The loss of a step is
/// the weighted mean over the whole global batch, so 1, 2 or 8 ranks compute the same step.
public final class TaskObjective: TrainingObjective {
    public let spec: TaskSpec
    let train, validation: [TaskExample]
    let classWeights: [Double]
    let plan: BatchPlan
    let rank: Int
    let padID: Int32
    var batches: PostBatches
    var head: ScoreHead?
    let dlogits: UnsafeMutablePointer<Float>
    let datasetDirectory: URL
    /// DP-SGD (`privacy.enabled`): Poisson batches and per-example clipping here, the noise in the trainer.
    let dpsgd: DPSGD?
    public var privacy: GradientPrivacy? { dpsgd }

    public var headTensors: [(name: String, shape: [Int])] { spec.headTensors(modelDim: modelDim) }
    public var task: TaskIdentity? { spec.identity }
    public var description: String {
        "task \(spec.name) (\(spec.kind.rawValue)\(spec.kind == .classification ? " over [\(spec.labels.joined(separator: ", "))]" : ""), \(spec.pooling.rawValue) pooling): \(train.count) train / \(validation.count) validation posts from \(datasetDirectory.path)"
    }
    private let modelDim: Int

    /// Labels come from `task.labels`, or else from the train split.
    public init(context: ObjectiveContext) throws {
        var spec = try TaskSpec(section: context.config.task)
        let directory = context.datasetDirectory
        if spec.labels.isEmpty { spec.labels = try TaskData.labels(directory: directory, spec: spec) }
        if spec.kind == .classification && spec.labels.count < 2 {
            throw TrainingError("task.labels: a classifier needs at least two classes, got \(spec.labels)")
        }
        self.spec = spec
        let T = context.config.train.sequenceLength
        let endOfText = Int32(try DatasetManifest.load(directory: directory).endOfTextID)
        train = try TaskData.examples(directory: directory, split: .train, spec: spec, sequenceLength: T, endOfText: endOfText)
        validation = try TaskData.examples(directory: directory, split: .validation, spec: spec, sequenceLength: T,
                                           endOfText: endOfText)
        classWeights = TaskData.classWeights(train, spec: spec)
        plan = context.plan
        rank = context.rank
        padID = endOfText
        datasetDirectory = directory
        modelDim = context.config.model.modelDim
        batches = PostBatches(count: train.count, globalBatch: context.config.train.globalBatch,
                              seed: UInt64(context.config.train.seed))
        dlogits = .allocate(capacity: plan.microBatch * spec.outputs)
        if context.config.privacy.enabled { try DPSGD.requireKeptActivations(context.config.train.recompute) }
        dpsgd = context.config.privacy.enabled
            ? try DPSGD(section: context.config.privacy, examples: train.count,
                        globalBatch: context.config.train.globalBatch, steps: context.config.train.steps)
            : nil
    }

    deinit { dlogits.deallocate() }

    /// `task.trainable`: the trained tensors are a tail of the flat buffer (layout order: wte, wpe,
    /// the blocks, ln_f, score.weight), and the backward stops above the frozen blocks.
    public func trainedParameters(of model: GPT) throws -> Range<Int> {
        let layers = model.config.layers
        let first: String
        switch spec.trainable {
        case .all:
            model.trainedBlocks = nil
            return 0..<model.parameterCount
        case .head:
            model.trainedBlocks = 0
            first = ScoreHead.tensorName
        case .lastBlocks(let k):
            guard k <= layers else {
                throw TrainingError("task.trainable: last_blocks:\(k), but the model has \(layers) blocks")
            }
            model.trainedBlocks = k
            first = "h.\(layers - k).ln_1.weight"
        }
        return model.tensor(first)!.offset..<model.parameterCount
    }

    func head(for model: GPT) -> ScoreHead {
        if let head { return head }
        let made = ScoreHead(spec: spec, model: model)
        head = made
        return made
    }

    /// Without DP: the fixed global batch, each post's loss weighted by its class weight over the
    /// batch's total. With DP-SGD: a Poisson sample of posts, each post's gradient of its weighted
    /// loss clipped, the sum divided by the expected batch.
    public func accumulateGradients(step: Int, model: GPT, debug: Bool) throws -> BatchStatistics {
        let head = head(for: model)
        guard let dpsgd else {
            let global = batches.batch(step: step)
            // Every rank knows the whole global batch, so each scales its posts by the global total.
            let totalWeight = global.reduce(0.0) { $0 + weight(train[$1]) }
            let mine = Array(global[(rank * plan.sequencesPerRank)..<((rank + 1) * plan.sequencesPerRank)])
            return try microBatches(mine, step: step, model: model, head: head, debug: debug) { posts in
                let scales = posts.map { Double(plan.worldSize) * weight($0) / totalWeight }
                let losses = perPostLosses(head, posts, scales: scales, dlogits: dlogits)
                head.backward(model: model, dlogits: dlogits)
                return zip(losses, scales).reduce(0) { $0 + $1.0 * $1.1 }
            }
        }
        // DP-SGD: rank r runs the r-th contiguous slice of a Poisson sample; the trainer divides the
        // sum over ranks by the world size. Each post's gradient is clipped and then weighted by its
        // class weight over the largest one: weighting before clipping would undo the class weights
        // of every clipped post (nearly all are), and leave the minority class under-weighted.
        let global = dpsgd.batch(step: step)
        let mine = Array(global[(rank * global.count / plan.worldSize)..<((rank + 1) * global.count / plan.worldSize)])
        let scale = Double(plan.worldSize) / dpsgd.expectedBatch
        return try microBatches(mine, step: step, model: model, head: head, debug: debug) { posts in
            let weights = posts.map(weight)
            let losses = perPostLosses(head, posts, scales: weights.map { _ in 1 }, dlogits: dlogits)
            let K = spec.outputs
            dpsgd.accumulateClipped(model: model, scale: scale, weights: weights.map { $0 / maxWeight }) { s in
                for i in 0..<(posts.count * K) { dlogits[i] *= s }
                head.backward(model: model, dlogits: dlogits)
            }
            return zip(losses, weights).reduce(0) { $0 + $1.0 * $1.1 } * scale
        }
    }

    /// Runs `mine` (indices of train posts) in micro-batches: the forward, then `backward(posts)`,
    /// which leaves the micro-batch's gradient in the model and returns its loss term.
    private func microBatches(_ mine: [Int], step: Int, model: GPT, head: ScoreHead, debug: Bool,
                              backward: ([TaskExample]) -> Double) throws -> BatchStatistics {
        var loss = 0.0, tokens = 0, padding = 0
        for (micro, chunk) in PostBatches.microBatches(mine, lengths: { self.train[$0].ids.count },
                                                       size: plan.microBatch).enumerated() {
            let posts = chunk.map { train[$0] }
            let time = head.forward(model: model, posts: posts.map(\.ids), padID: padID)
            if debug, let bad = model.nonFinite {
                throw TrainingError("step \(step + 1), micro-batch \(micro): \(bad) (--debug check)")
            }
            loss += backward(posts)
            let real = posts.reduce(0) { $0 + $1.ids.count }
            tokens += real
            padding += posts.count * time - real
        }
        return BatchStatistics(loss: loss, tokens: tokens, paddingTokens: padding)
    }

    public func evaluate(model: GPT, comm: Communicator) throws -> Evaluation {
        let outputs = try Self.predict(validation, model: model, head: head(for: model), padID: padID, comm: comm)
        return TaskReport(spec: spec, examples: validation, outputs: outputs).evaluation
    }

    /// DP-SGD's weights are class weight / this, at most 1: a post's share stays within max_grad_norm.
    private var maxWeight: Double { spec.kind == .classification ? classWeights.max()! : 1 }

    private func weight(_ example: TaskExample) -> Double {
        spec.kind == .classification ? classWeights[example.label] : 1
    }

    private func perPostLosses(_ head: ScoreHead, _ posts: [TaskExample], scales: [Double],
                               dlogits: UnsafeMutablePointer<Float>?) -> [Double] {
        switch spec.kind {
        case .classification:
            return TaskLoss.crossEntropy(logits: head.logits, labels: posts.map(\.label), classes: spec.outputs,
                                         scales: scales, dlogits: dlogits)
        case .regression:
            return TaskLoss.squaredError(outputs: head.logits, targets: posts.map(\.rating), scales: scales, dlogits: dlogits)
        }
    }

    /// Collective: the head's outputs (count x outputs, row-major) for `examples`, each rank
    /// running every worldSize-th post; identical on every rank afterwards.
    public static func predict(_ examples: [TaskExample], model: GPT, head: ScoreHead, padID: Int32,
                               comm: Communicator) throws -> [Double] {
        let K = head.spec.outputs
        var outputs = [Double](repeating: 0, count: examples.count * K)
        let mine = Array(stride(from: comm.rank, to: examples.count, by: comm.worldSize))
        for chunk in PostBatches.microBatches(mine, lengths: { examples[$0].ids.count }, size: model.batchSize) {
            head.forward(model: model, posts: chunk.map { examples[$0].ids }, padID: padID)
            for (b, index) in chunk.enumerated() {
                for k in 0..<K { outputs[index * K + k] = Double(head.logits[b * K + k]) }
            }
        }
        try outputs.withUnsafeMutableBufferPointer { try comm.allReduce($0, .sum) }
        return outputs
    }
}
