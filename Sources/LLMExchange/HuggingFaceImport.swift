import Foundation
import LLMData
import LLMModel
import LLMTrain

/// `import DIR`: a Hugging Face GPT-2 directory (ours, or any GPT-2-architecture model saved with
/// `save_pretrained`: config.json + model.safetensors in float32, tensor names with or without
/// the `transformer.` prefix, lm_head absent or equal to wte) into a run directory whose
/// checkpoints/step-000000 `train --resume`, `generate` and `export` accept. Anything our model
/// cannot compute exactly is refused, naming the config field; so are classifiers
/// (GPT2ForSequenceClassification): their head has no place in a language-model checkpoint.
public enum HuggingFaceImport {
    /// Returns notes for the user.
    @discardableResult
    public static func `import`(directory: URL, output: URL, force: Bool) throws -> [String] {
        try OutputDirectory.refuseExisting(output, force: force)
        let configURL = directory.appendingPathComponent("config.json")
        let config = try modelConfig(at: configURL)
        var notes: [String] = []

        let weightsURL = directory.appendingPathComponent("model.safetensors")
        guard FileManager.default.fileExists(atPath: weightsURL.path) else {
            throw ExchangeError("\(weightsURL.path): missing; import needs the weights as model.safetensors in "
                                + "float32 (save_pretrained(..., safe_serialization=True))")
        }
        let file = try SafeTensorsFile(contentsOf: weightsURL)
        let names = Set(file.tensors.map(\.name))
        let prefix = names.contains("transformer.wte.weight") ? "transformer." : ""
        let tensors = ParameterTensor.layout(for: config)
        let parameters = UnsafeMutableBufferPointer<Float>.allocate(capacity: ParameterTensor.parameterCount(for: config))
        parameters.initialize(repeating: 0)
        defer { parameters.deallocate() }
        for t in tensors {
            let name = prefix + t.name
            guard names.contains(name) else {
                throw ExchangeError("\(weightsURL.path): tensor '\(name)' is missing; config.json describes a GPT-2 "
                                    + "with \(config.layers) layers")
            }
            let info = try file.info(name)
            guard info.shape == t.shape else {
                throw ExchangeError("\(weightsURL.path): tensor '\(name)' has shape \(info.shape), but config.json "
                                    + "implies \(t.shape)")
            }
            try file.copy(name, into: UnsafeMutableBufferPointer(rebasing: parameters[t.offset..<t.offset + t.count]))
        }
        if names.contains("lm_head.weight") {
            let head = try file.read("lm_head.weight")
            let wte = tensors[0]
            guard head.count == wte.count, head.elementsEqual(parameters[wte.offset..<wte.offset + wte.count]) else {
                throw ExchangeError("\(weightsURL.path): lm_head.weight differs from wte.weight; our model ties the "
                                    + "head to the embedding, so an untied head cannot be imported")
            }
        }
        let used = Set(tensors.map { prefix + $0.name } + ["lm_head.weight"])
        let ignored = names.subtracting(used).filter { !$0.hasSuffix("attn.bias") && !$0.hasSuffix("attn.masked_bias") }
        if !ignored.isEmpty { notes.append("note: ignored tensors not part of a GPT-2 LM: "
                                           + "\(ignored.sorted().joined(separator: ", "))") }

        let (tokenizerJSON, normalizer, tokenizerNotes) = try tokenizer(in: directory, modelVocab: config.vocabSize)
        notes += tokenizerNotes
        try OutputDirectory.write(output, force: force) { staging in
            _ = try SavedModel.writeFreshCheckpoint(config: config, parameters: UnsafeBufferPointer(parameters),
                                                    tokenizerJSON: tokenizerJSON, normalizer: normalizer, runDirectory: staging,
                                                    metadata: ["format": "pt", "model": "swift-llm-train GPT",
                                                               "imported_from": directory.path])
        }
        return notes
    }

    /// Our GPTConfig from a GPT-2 config.json, refusing any setting we would compute differently.
    static func modelConfig(at url: URL) throws -> GPTConfig {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ExchangeError("\(url.path): missing; not a Hugging Face model directory (save_pretrained writes "
                                + "config.json)")
        }
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ExchangeError("\(url.path): not a JSON object")
        }
        func bad(_ field: String, _ why: String) -> ExchangeError { ExchangeError("\(url.path): field '\(field)' \(why)") }
        guard let type = json["model_type"] as? String else { throw bad("model_type", "is missing; a GPT-2 config has "
                                                                                      + "\"model_type\": \"gpt2\"") }
        guard type == "gpt2" else { throw bad("model_type", "is \"\(type)\"; only GPT-2 (\"gpt2\") models can be "
                                                            + "imported") }
        // A GPT2ForSequenceClassification (ours exported, or another's) would lose its head here.
        if let architectures = json["architectures"] as? [String],
           let head = architectures.first(where: { $0 != "GPT2LMHeadModel" && $0 != "GPT2Model" }) {
            throw bad("architectures", "is [\"\(head)\"]; import reads GPT-2 language models only (a "
                      + "classifier's score head cannot be imported yet): import the language model it was "
                      + "fine-tuned from, then finetune --from it")
        }
        func integer(_ field: String, fallback: String? = nil) throws -> Int {
            if let n = json[field] as? Int, n > 0 { return n }
            if let fallback, let n = json[fallback] as? Int, n > 0 { return n }
            throw bad(field, json[field] == nil ? "is missing" : "must be a positive integer")
        }
        let C = try integer("n_embd"), layers = try integer("n_layer"), heads = try integer("n_head")
        let vocab = try integer("vocab_size"), context = try integer("n_positions", fallback: "n_ctx")
        guard C % heads == 0 else { throw bad("n_head", "(\(heads)) must divide n_embd (\(C))") }
        if let inner = json["n_inner"], !(inner is NSNull), (inner as? Int) != 4 * C {
            throw bad("n_inner", "is \(inner); our MLP is 4 x n_embd = \(4 * C) wide")
        }
        let activationName = json["activation_function"] as? String ?? "gelu_new"
        let activation: GPTConfig.Activation
        switch activationName {
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": activation = .gelu
        case "relu": activation = .relu
        default: throw bad("activation_function", "is \"\(activationName)\"; supported: gelu_new (tanh GELU) and relu")
        }
        if let eps = json["layer_norm_epsilon"] as? Double, abs(eps - Double(LayerNorm.eps)) > 1e-12 {
            throw bad("layer_norm_epsilon", "is \(eps); our LayerNorm uses \(LayerNorm.eps)")
        }
        for (field, expected) in [("scale_attn_weights", true), ("scale_attn_by_inverse_layer_idx", false),
                                  ("tie_word_embeddings", true)] {
            if let value = json[field] as? Bool, value != expected { throw bad(field, "is \(value); only \(expected) "
                                                                                      + "is supported") }
        }
        return GPTConfig(vocabSize: vocab, contextLength: context, layers: layers, heads: heads, modelDim: C, activation: activation)
    }

    /// tokenizer.json in our form (re-serialised, so a dataset prepared with it has the same
    /// sha256) and the normaliser, when the directory's tokenizer is one our encoder runs.
    static func tokenizer(in directory: URL, modelVocab: Int) throws -> (Data?, NormalizerConfig?, [String]) {
        let url = directory.appendingPathComponent("tokenizer.json")
        guard FileManager.default.fileExists(atPath: url.path) else {
            return (nil, nil, ["note: no tokenizer.json; give generate a tokenizer with --tokenizer"])
        }
        let bpe: BPETokenizer
        do { bpe = try BPETokenizer.load(from: url) } catch {
            return (nil, nil, ["note: \(error); the checkpoint has no tokenizer, give generate one with --tokenizer"])
        }
        guard bpe.vocabSize <= modelVocab else {
            throw ExchangeError("\(url.path): \(bpe.vocabSize) tokens, more than the model's vocab_size \(modelVocab)")
        }
        let normalizerURL = directory.appendingPathComponent(HuggingFaceExport.normalizerConfigFile)
        if let data = FileManager.default.contents(atPath: normalizerURL.path) {
            do { return (Data(bpe.tokenizerJSON().utf8), try JSONDecoder().decode(NormalizerConfig.self, from: data), []) } catch {
                throw ExchangeError("\(normalizerURL.path): not a normaliser config: \(error)")
            }
        }
        // Not exported by us: run no normalisation of ours over someone else's tokenizer.
        let none = NormalizerConfig(unicodeNFKC: false, collapseWhitespace: false, scrubURLs: false, scrubUsers: false,
                                    scrubEmails: false, scrubPhones: false)
        return (Data(bpe.tokenizerJSON().utf8), none,
                ["note: no \(HuggingFaceExport.normalizerConfigFile); prompts will be encoded without normalisation"])
    }
}
