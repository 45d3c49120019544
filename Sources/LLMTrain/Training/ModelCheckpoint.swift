import Foundation
import LLMModel

/// How a model and its optimiser map onto checkpoint files: `model.safetensors` holds one tensor
/// per named parameter view (Hugging Face GPT-2 names), `optimizer.safetensors` the AdamW
/// moments under `exp_avg.NAME` / `exp_avg_sq.NAME` (PyTorch's names for them).
enum ModelCheckpoint {
    static let modelFile = "model.safetensors"
    static let optimizerFile = "optimizer.safetensors"

    static func write(model: GPT, optimizer: AdamW, into directory: URL, metadata: [String: String]) throws {
        func views(_ buffer: UnsafeMutableBufferPointer<Float>, prefix: String) -> [SafeTensorsWriter.Tensor] {
            model.tensors.map { tensor in
                (name: prefix + tensor.name, shape: tensor.shape,
                 data: UnsafeBufferPointer(rebasing: buffer[tensor.offset..<tensor.offset + tensor.count]))
            }
        }
        try SafeTensorsWriter.write(views(model.parameters, prefix: ""), metadata: metadata,
                                    to: directory.appendingPathComponent(modelFile))
        try SafeTensorsWriter.write(views(optimizer.m, prefix: "exp_avg.") + views(optimizer.v, prefix: "exp_avg_sq."),
                                    metadata: ["step": "\(optimizer.step)"],
                                    to: directory.appendingPathComponent(optimizerFile))
    }

    /// Restores weights and moments; every tensor must be present with the model's shape.
    static func read(into model: GPT, optimizer: AdamW, from directory: URL) throws {
        let weights = try SafeTensorsFile(contentsOf: directory.appendingPathComponent(modelFile))
        let moments = try SafeTensorsFile(contentsOf: directory.appendingPathComponent(optimizerFile))
        try copy(weights, prefix: "", into: model.parameters, of: model)
        try copy(moments, prefix: "exp_avg.", into: optimizer.m, of: model)
        try copy(moments, prefix: "exp_avg_sq.", into: optimizer.v, of: model)
    }

    /// Reads every tensor of `model`'s layout, named `prefix + name`, into `buffer`.
    static func copy(_ file: SafeTensorsFile, prefix: String, into buffer: UnsafeMutableBufferPointer<Float>, of model: GPT) throws {
        for tensor in model.tensors {
            let info = try file.info(prefix + tensor.name)
            guard info.shape == tensor.shape else {
                throw TrainingError("\(file.url.path): tensor '\(prefix + tensor.name)' has shape \(info.shape) but the model needs \(tensor.shape); the checkpoint was saved from a different model shape")
            }
            try file.copy(prefix + tensor.name,
                          into: UnsafeMutableBufferPointer(rebasing: buffer[tensor.offset..<tensor.offset + tensor.count]))
        }
    }
}

extension Checkpoint {
    /// The checkpoint's weights in a new model of the saved shape, for inference (no optimiser
    /// state): `batchSize` x `sequenceLength` tokens per forward. Verify the checkpoint first.
    public func loadModel(batchSize: Int = 1, sequenceLength: Int) throws -> GPT {
        let state = try loadState(TrainingState.self)
        let model = GPT(config: state.model, batchSize: batchSize, sequenceLength: sequenceLength, seed: 0)
        try ModelCheckpoint.copy(try SafeTensorsFile(contentsOf: file(ModelCheckpoint.modelFile)), prefix: "",
                                 into: model.parameters, of: model)
        return model
    }
}
