import Foundation
import LLMModel

/// How a model and its optimiser map onto checkpoint files: `model.safetensors` holds one tensor
/// per named parameter view (Hugging Face GPT-2 names), `optimizer.safetensors` the AdamW
/// moments under `exp_avg.NAME` / `exp_avg_sq.NAME` (PyTorch's names for them).
public enum ModelCheckpoint {
    public static let modelFile = "model.safetensors"
    static let optimizerFile = "optimizer.safetensors"

    static func write(model: GPT, optimizer: AdamW, into directory: URL, metadata: [String: String]) throws {
        try write(tensors: model.tensors, parameters: UnsafeBufferPointer(model.parameters),
                  m: UnsafeBufferPointer(optimizer.m), v: UnsafeBufferPointer(optimizer.v),
                  optimizerStep: optimizer.step, into: directory, metadata: metadata)
    }

    /// The same files from any buffers of the model's layout (a `CheckpointSnapshot`'s copies).
    /// `afterWeights` runs between the two files (the test-only `kill9_in_save` fault).
    static func write(tensors: [ParameterTensor], parameters: UnsafeBufferPointer<Float>, m: UnsafeBufferPointer<Float>,
                      v: UnsafeBufferPointer<Float>, optimizerStep: Int, into directory: URL,
                      metadata: [String: String], afterWeights: () throws -> Void = {}) throws {
        func views(_ buffer: UnsafeBufferPointer<Float>, prefix: String) -> [SafeTensorsWriter.Tensor] {
            tensors.map { tensor in
                (name: prefix + tensor.name, shape: tensor.shape,
                 data: UnsafeBufferPointer(rebasing: buffer[tensor.offset..<tensor.offset + tensor.count]))
            }
        }
        try SafeTensorsWriter.write(views(parameters, prefix: ""), metadata: metadata,
                                    to: directory.appendingPathComponent(modelFile))
        try afterWeights()
        try SafeTensorsWriter.write(views(m, prefix: "exp_avg.") + views(v, prefix: "exp_avg_sq."),
                                    metadata: ["step": "\(optimizerStep)"],
                                    to: directory.appendingPathComponent(optimizerFile))
    }

    /// Restores weights and moments; every tensor must be present with the model's shape.
    static func read(into model: GPT, optimizer: AdamW, from directory: URL) throws {
        let weights = try SafeTensorsFile(contentsOf: directory.appendingPathComponent(modelFile))
        let moments = try SafeTensorsFile(contentsOf: directory.appendingPathComponent(optimizerFile))
        for (file, prefix, buffer) in [(weights, "", model.parameters), (moments, "exp_avg.", optimizer.m),
                                       (moments, "exp_avg_sq.", optimizer.v)] {
            try copyTensors(model.tensors, prefix: prefix, from: file, into: buffer)
        }
    }

    /// Checkpoints written before the embeddings took their Hugging Face names (`wte.weight`,
    /// `wpe.weight`) call them `wte` and `wpe`; both spellings load.
    static let legacyNames = ["wte.weight": "wte", "wpe.weight": "wpe"]

    /// Copies every tensor of `tensors` (under `prefix`) from `file` into its view of `buffer`.
    static func copyTensors(_ tensors: [ParameterTensor], prefix: String, from file: SafeTensorsFile,
                            into buffer: UnsafeMutableBufferPointer<Float>) throws {
        let present = Set(file.tensors.map(\.name))
        for tensor in tensors {
            var name = prefix + tensor.name
            if !present.contains(name), let legacy = legacyNames[tensor.name], present.contains(prefix + legacy) {
                name = prefix + legacy
            }
            let info = try file.info(name)
            guard info.shape == tensor.shape else {
                throw TrainingError("\(file.url.path): tensor '\(name)' has shape \(info.shape) but the model needs "
                                    + "\(tensor.shape); the checkpoint was saved from a different model shape")
            }
            try file.copy(name, into: UnsafeMutableBufferPointer(rebasing: buffer[tensor.offset..<tensor.offset + tensor.count]))
        }
    }
}

extension ModelCheckpoint {
    /// Copies the weights of every model tensor not in `skipping` (a new task head) from the
    /// checkpoint; each must be present with the model's shape.
    static func readWeights(into model: GPT, from directory: URL, skipping: Set<String> = []) throws {
        let weights = try SafeTensorsFile(contentsOf: directory.appendingPathComponent(modelFile))
        for tensor in model.tensors where !skipping.contains(tensor.name) {
            let info = try weights.info(tensor.name)
            guard info.shape == tensor.shape else {
                throw TrainingError("\(weights.url.path): tensor '\(tensor.name)' has shape \(info.shape) but the "
                                    + "model needs \(tensor.shape); the checkpoint was saved from a different model "
                                    + "shape")
            }
            try weights.copy(tensor.name, into: UnsafeMutableBufferPointer(
                rebasing: model.parameters[tensor.offset..<tensor.offset + tensor.count]))
        }
    }
}
