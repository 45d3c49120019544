import LLMModel

/// Runs posts of different lengths through the trunk as one right-padded micro-batch and pools
/// each post's hidden states to one vector: shared by the task head (`ScoreHead`) and the
/// recommendation embeddings, so both read a post the same way.
///
/// With causal attention a real token never sees the padding after it, so only the pooling
/// needs the lengths: `last` reads the hidden state of the post's last token (its
/// `<|endoftext|>`), `mean` averages its real tokens.
public enum PaddedPosts {
    /// Fills `inputs` with `posts` (1...batchSize of them, each 1...sequenceLength tokens) padded
    /// with `padID` to the longest, runs `forwardHidden`; returns the padded length.
    @discardableResult
    public static func forward(model: GPT, posts: [[Int32]], padID: Int32, inputs: UnsafeMutablePointer<Int32>) -> Int {
        precondition(!posts.isEmpty && posts.count <= model.batchSize, "a micro-batch holds 1...batchSize posts")
        let time = posts.map(\.count).max()!
        precondition(time <= model.sequenceLength && posts.allSatisfy { !$0.isEmpty },
                     "posts must hold 1...sequenceLength tokens")
        for (b, ids) in posts.enumerated() {
            for i in 0..<time { inputs[b * time + i] = i < ids.count ? ids[i] : padID }
        }
        model.forwardHidden(inputs: inputs, batch: posts.count, time: time)
        return time
    }

    /// Which positions of a post of `length` tokens the pooling reads.
    public static func positions(_ pooling: TaskSpec.Pooling, length: Int) -> Range<Int> {
        pooling == .last ? (length - 1)..<length : 0..<length
    }

    /// Pools post `b` (of `length` real tokens) of the last `forward` (padded to `time`) into `v` (C floats).
    public static func pool(model: GPT, post b: Int, length: Int, time: Int, pooling: TaskSpec.Pooling,
                            into v: UnsafeMutablePointer<Float>) {
        let C = model.config.modelDim
        v.update(repeating: 0, count: C)
        let positions = positions(pooling, length: length)
        for p in positions {
            let h = model.hidden + (b * time + p) * C
            for c in 0..<C { v[c] += h[c] }
        }
        let scale = 1 / Float(positions.count)
        for c in 0..<C { v[c] *= scale }
    }
}
