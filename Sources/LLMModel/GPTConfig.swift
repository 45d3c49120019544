/// The shape of a GPT-2-style decoder-only transformer. Everything the model allocates follows
/// from these numbers plus the (batch, sequence length) it is built for.
public struct GPTConfig: Codable, Equatable, Sendable {
    /// The MLP non-linearity: GPT-2's tanh-approximated GELU, or ReLU as in the classic FFN.
    public enum Activation: String, Codable, Sendable, CaseIterable {
        case gelu, relu
    }

    public var vocabSize: Int
    public var contextLength: Int
    public var layers: Int
    public var heads: Int
    public var modelDim: Int
    public var activation: Activation

    public init(vocabSize: Int, contextLength: Int, layers: Int, heads: Int, modelDim: Int,
                activation: Activation = .gelu) {
        self.vocabSize = vocabSize
        self.contextLength = contextLength
        self.layers = layers
        self.heads = heads
        self.modelDim = modelDim
        self.activation = activation
    }

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", contextLength = "context_length", layers, heads
        case modelDim = "d_model", activation
    }
}
