import LLMModel

/// Every layer's and head's attention over a post's tokens, from one forward of the model.
public struct AttentionMaps {
    public let tokens: [TokenPiece]
    public let layers: Int
    public let heads: Int
    /// (layers, heads, T, T) row-major: [l][h][query][key].
    public let probabilities: [Float]

    /// Runs `model` (batch 1, sequence length = the number of tokens) on the tokens.
    public init(model: GPT, tokens: [TokenPiece]) {
        precondition(model.batchSize == 1 && model.sequenceLength == tokens.count, "the model must be built for 1 x "
                                                                                   + "\(tokens.count) tokens")
        let ids = tokens.map(\.id)
        ids.withUnsafeBufferPointer { _ = model.forward(inputs: $0.baseAddress!, targets: nil) }
        self.tokens = tokens
        layers = model.config.layers
        heads = model.config.heads
        probabilities = (0..<layers).flatMap { Array(model.attentionProbabilities(layer: $0)) }
    }

    public var count: Int { tokens.count }

    /// The (T, T) map of one head: rows are queries (the token attending), columns keys.
    public func map(layer: Int, head: Int) -> [[Double]] {
        let T = count, base = (layer * heads + head) * T * T
        return (0..<T).map { q in (0..<T).map { k in Double(probabilities[base + q * T + k]) } }
    }
}
