import LLMSupport
import Foundation
import XCTest
import LLMData
import LLMModel
import LLMTrain
@testable import LLMExchange

/// Export to the Hugging Face layout and import back, read with our own safetensors reader;
/// bad directories and existing outputs. (Loading in transformers: Scripts/check-hf-parity.py.)
final class ExchangeTests: XCTestCase {
    var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("exchange-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    let config = GPTConfig(vocabSize: 300, contextLength: 16, layers: 2, heads: 2, modelDim: 8, activation: .relu)

    /// A run directory with one checkpoint of random weights and a small trained tokenizer.
    func makeCheckpoint(_ name: String = "run") throws -> (URL, [Float]) {
        let tokenizer = try BPETrainer.train(texts: ["hello world", "质量很好", "great day @user"], vocabSize: 300)
        let count = ParameterTensor.parameterCount(for: config)
        var rng = SplitMix64(seed: 5)
        var weights = [Float](repeating: 0, count: count)
        weights.withUnsafeMutableBufferPointer { rng.fillNormal($0.baseAddress!, count: count, std: 0.1) }
        let run = root.appendingPathComponent(name)
        _ = try weights.withUnsafeBufferPointer {
            try SavedModel.writeFreshCheckpoint(config: config, parameters: $0, tokenizerJSON: Data(tokenizer.tokenizerJSON().utf8),
                                                normalizer: NormalizerConfig(lowercase: true), runDirectory: run,
                                                metadata: ["format": "pt"])
        }
        return (run, weights)
    }

    func json(_ url: URL) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }

    func testExportWritesTheHuggingFaceLayoutAndImportRoundTripsTheWeights() throws {
        let (run, weights) = try makeCheckpoint()
        let hf = root.appendingPathComponent("hf")
        try HuggingFaceExport.export(checkpoint: run.path, to: hf, force: false)
        for file in ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json",
                     "tokenizer_config.json", "special_tokens_map.json", "normalizer_config.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: hf.appendingPathComponent(file).path), file)
        }
        let config = try json(hf.appendingPathComponent("config.json"))
        XCTAssertEqual(config["model_type"] as? String, "gpt2")
        XCTAssertEqual(config["activation_function"] as? String, "relu")
        XCTAssertEqual(config["n_positions"] as? Int, 16)
        XCTAssertEqual(config["n_embd"] as? Int, 8)
        let file = try SafeTensorsFile(contentsOf: hf.appendingPathComponent("model.safetensors"))
        XCTAssertEqual(file.metadata, ["format": "pt"])
        let names = Set(file.tensors.map(\.name))
        XCTAssertTrue(names.contains("wte.weight") && names.contains("wpe.weight") && names.contains("h.1.mlp.c_proj.bias"))
        XCTAssertFalse(names.contains { $0.hasPrefix("lm_head") || $0.hasPrefix("transformer.") }, "\(names)")
        let tokenizer = try json(hf.appendingPathComponent("tokenizer.json"))
        let steps = ((tokenizer["normalizer"] as? [String: Any])?["normalizers"] as? [[String: Any]])?.compactMap { $0["type"] as? String }
        XCTAssertEqual(steps, ["NFKC", "Replace", "Replace", "Replace", "Replace", "Lowercase", "Replace", "Strip"])

        let imported = root.appendingPathComponent("imported")
        try HuggingFaceImport.import(directory: hf, output: imported, force: false)
        let back = try SavedModel(path: imported.path)
        XCTAssertEqual(back.config, self.config)
        XCTAssertEqual(back.normalizer, NormalizerConfig(lowercase: true))
        let differing = zip(weights, back.parameters).filter { $0.bitPattern != $1.bitPattern }.count
        XCTAssertEqual(differing, 0, "weights must round-trip bit for bit")
        // Exported again, the weights file is byte-identical to the first export.
        let again = root.appendingPathComponent("hf2")
        try HuggingFaceExport.export(checkpoint: imported.path, to: again, force: false)
        XCTAssertEqual(try Data(contentsOf: hf.appendingPathComponent("model.safetensors")),
                       try Data(contentsOf: again.appendingPathComponent("model.safetensors")))
        XCTAssertEqual(try Data(contentsOf: hf.appendingPathComponent("tokenizer.json")),
                       try Data(contentsOf: again.appendingPathComponent("tokenizer.json")))
    }

    func testExportRefusesAnExistingDirectoryUnlessForced() throws {
        let (run, _) = try makeCheckpoint()
        let hf = root.appendingPathComponent("hf")
        try FileManager.default.createDirectory(at: hf, withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: hf.appendingPathComponent("mine.txt"))
        XCTAssertThrowsError(try HuggingFaceExport.export(checkpoint: run.path, to: hf, force: false)) {
            XCTAssertTrue("\($0)".contains("already exists") && "\($0)".contains("--force"), "\($0)")
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: hf.appendingPathComponent("mine.txt").path), "left untouched")
        try HuggingFaceExport.export(checkpoint: run.path, to: hf, force: true)
        XCTAssertFalse(FileManager.default.fileExists(atPath: hf.appendingPathComponent("mine.txt").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: hf.appendingPathComponent("config.json").path))
    }

    /// What save_pretrained writes: `transformer.` names and a tied lm_head copy.
    func testImportAcceptsTheTransformerPrefixAndAnIdenticalHead() throws {
        let (run, weights) = try makeCheckpoint()
        let hf = root.appendingPathComponent("hf")
        try HuggingFaceExport.export(checkpoint: run.path, to: hf, force: false)
        let tensors = ParameterTensor.layout(for: config)
        try weights.withUnsafeBufferPointer { w in
            var views = tensors.map { t in (name: "transformer." + t.name, shape: t.shape,
                                             data: UnsafeBufferPointer(rebasing: w[t.offset..<t.offset + t.count])) }
            views.append((name: "lm_head.weight", shape: tensors[0].shape, data: views[0].data))
            try SafeTensorsWriter.write(views, metadata: ["format": "pt"], to: hf.appendingPathComponent("model.safetensors"))
        }
        let out = root.appendingPathComponent("imported")
        try HuggingFaceImport.import(directory: hf, output: out, force: false)
        let back = try SavedModel(path: out.path)
        XCTAssertTrue(zip(weights, back.parameters).allSatisfy { $0.bitPattern == $1.bitPattern })

        // An untied head is refused, naming it.
        var other = weights
        other[0] += 1
        try other.withUnsafeBufferPointer { w in
            var views = tensors.map { t in (name: t.name, shape: t.shape,
                                             data: UnsafeBufferPointer(rebasing: w[t.offset..<t.offset + t.count])) }
            weights.withUnsafeBufferPointer { orig in
                views.append((name: "lm_head.weight", shape: tensors[0].shape,
                              data: UnsafeBufferPointer(rebasing: orig[0..<tensors[0].count])))
            }
            try SafeTensorsWriter.write(views, metadata: [:], to: hf.appendingPathComponent("model.safetensors"))
        }
        XCTAssertThrowsError(try HuggingFaceImport.import(directory: hf, output: root.appendingPathComponent("x"), force: false)) {
            XCTAssertTrue("\($0)".contains("lm_head.weight differs"), "\($0)")
        }
    }

    func testImportOfANonGPT2DirectoryNamesTheField() throws {
        let dir = root.appendingPathComponent("other")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let cases: [([String: Any], String)] = [
            (["model_type": "llama", "hidden_size": 8], "'model_type' is \"llama\""),
            (["n_embd": 8], "'model_type' is missing"),
            (["model_type": "gpt2", "n_layer": 2, "n_head": 2, "vocab_size": 300, "n_positions": 16], "'n_embd' is missing"),
            (["model_type": "gpt2", "n_embd": 8, "n_layer": 2, "n_head": 2, "vocab_size": 300, "n_positions": 16,
              "activation_function": "gelu"], "'activation_function' is \"gelu\""),
        ]
        for (config, expected) in cases {
            try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("config.json"))
            XCTAssertThrowsError(try HuggingFaceImport.import(directory: dir, output: root.appendingPathComponent("o"), force: false)) {
                XCTAssertTrue("\($0)".contains(expected) && "\($0)".contains("config.json"), "\($0)")
            }
        }
        XCTAssertThrowsError(try HuggingFaceImport.import(directory: root.appendingPathComponent("nowhere"),
                                                          output: root.appendingPathComponent("o"), force: false)) {
            XCTAssertTrue("\($0)".contains("config.json: missing"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("o").path), "nothing half-written")
    }

    /// Rewrites a checkpoint's model.safetensors and updates its manifest to match, as if saved so.
    func rewriteWeights(_ checkpoint: URL, _ views: [SafeTensorsWriter.Tensor]) throws {
        try SafeTensorsWriter.write(views, metadata: [:], to: checkpoint.appendingPathComponent("model.safetensors"))
        let manifestURL = checkpoint.appendingPathComponent("manifest.json")
        var manifest = try json(manifestURL)
        var files = manifest["files"] as! [[String: Any]]
        let data = try Data(contentsOf: checkpoint.appendingPathComponent("model.safetensors"))
        for i in files.indices where files[i]["name"] as? String == "model.safetensors" {
            files[i]["sha256"] = SHA256.hash(data)
            files[i]["bytes"] = data.count
        }
        manifest["files"] = files
        try JSONSerialization.data(withJSONObject: manifest).write(to: manifestURL)
    }

    /// Checkpoints from before the rename name the embeddings `wte` and `wpe`.
    func testCheckpointWithTheOldEmbeddingNamesStillLoads() throws {
        let (run, weights) = try makeCheckpoint()
        let checkpoint = run.appendingPathComponent("checkpoints/step-000000")
        let tensors = ParameterTensor.layout(for: config)
        try weights.withUnsafeBufferPointer { w in
            try rewriteWeights(checkpoint, tensors.map { t in
                (name: t.name.replacingOccurrences(of: "wte.weight", with: "wte").replacingOccurrences(of: "wpe.weight", with: "wpe"),
                 shape: t.shape, data: UnsafeBufferPointer(rebasing: w[t.offset..<t.offset + t.count]))
            })
        }
        let names = try SafeTensorsFile(contentsOf: checkpoint.appendingPathComponent("model.safetensors")).tensors.map(\.name)
        XCTAssertTrue(names.contains("wte") && !names.contains("wte.weight"))
        let loaded = try SavedModel(path: checkpoint.path)
        XCTAssertTrue(zip(weights, loaded.parameters).allSatisfy { $0.bitPattern == $1.bitPattern })
    }

    /// The weights are checked against the manifest; the optimiser moments, unused, are not read.
    func testCorruptWeightsAreRefusedNamingTheFile() throws {
        let (run, _) = try makeCheckpoint()
        let checkpoint = run.appendingPathComponent("checkpoints/step-000000")
        func flipLastByte(_ name: String) throws {
            let url = checkpoint.appendingPathComponent(name)
            var data = try Data(contentsOf: url)
            data[data.count - 1] ^= 0xFF
            try data.write(to: url)
        }
        try flipLastByte("optimizer.safetensors")
        XCTAssertNoThrow(try SavedModel(path: run.path))
        try flipLastByte("model.safetensors")
        XCTAssertThrowsError(try SavedModel(path: run.path)) { XCTAssertTrue("\($0)".contains("model.safetensors"), "\($0)") }
    }

    /// A checkpoint with a score.weight head is a classifier: SavedModel refuses it unless asked
    /// (export), and a head without a task in state.json is an inconsistent checkpoint. (Real
    /// classifiers: EndToEndTests.FinetuneTests.testClassifierExportsAsGPT2ForSequenceClassification.)
    func testClassifierCheckpointIsRefusedUnlessAsked() throws {
        let (run, weights) = try makeCheckpoint()
        let checkpoint = run.appendingPathComponent("checkpoints/step-000000")
        let tensors = ParameterTensor.layout(for: config)
        let score = [Float](repeating: 0.5, count: 2 * 8)
        try weights.withUnsafeBufferPointer { w in
            try score.withUnsafeBufferPointer { s in
                try rewriteWeights(checkpoint, tensors.map { t in
                    (name: t.name, shape: t.shape, data: UnsafeBufferPointer(rebasing: w[t.offset..<t.offset + t.count]))
                } + [(name: "score.weight", shape: [2, 8], data: s)])
            }
        }
        XCTAssertThrowsError(try SavedModel(path: run.path)) {
            XCTAssertTrue("\($0)".contains("is a classifier") && "\($0)".contains("language models only"), "\($0)")
        }
        XCTAssertThrowsError(try SavedModel(path: run.path, acceptingClassifier: true)) {
            XCTAssertTrue("\($0)".contains("state names no task"), "\($0)")
        }
        let hf = root.appendingPathComponent("hf")
        XCTAssertThrowsError(try HuggingFaceExport.export(checkpoint: run.path, to: hf, force: false))
        XCTAssertFalse(FileManager.default.fileExists(atPath: hf.path), "nothing half-written")
    }

    func head(kind: String, labels: [String], pooling: String = "last") -> ClassifierHead {
        ClassifierHead(task: TaskIdentity(kind: kind, name: "t", labels: labels), pooling: pooling, sequenceLength: 16,
                       shape: [labels.count, 8], weights: Array(repeating: 0, count: labels.count * 8))
    }

    /// The GPT2ForSequenceClassification fields: labels both ways, <pad> as pad_token_id (not
    /// end-of-text, which our head reads), regression as one output; mean pooling refused.
    func testClassifierConfigFields() throws {
        let tokenizer = try BPETrainer.train(texts: ["hello world", "great day"], vocabSize: 300)
        let here = root!
        let three = head(kind: "classification", labels: ["neg", "neutral", "pos"])
        let fields = try HuggingFaceExport.classifierConfig(three, tokenizer: tokenizer, source: here)
        XCTAssertEqual(fields["architectures"] as? [String], ["GPT2ForSequenceClassification"])
        XCTAssertEqual(fields["num_labels"] as? Int, 3)
        XCTAssertEqual(fields["id2label"] as? [String: String], ["0": "neg", "1": "neutral", "2": "pos"])
        XCTAssertEqual(fields["label2id"] as? [String: Int], ["neg": 0, "neutral": 1, "pos": 2])
        XCTAssertEqual(fields["problem_type"] as? String, "single_label_classification")
        XCTAssertEqual(fields["pad_token_id"] as? Int, Int(tokenizer.specialTokens[SpecialTokens.pad]!))
        XCTAssertNotEqual(fields["pad_token_id"] as? Int, Int(tokenizer.endOfTextID))

        let regression = try HuggingFaceExport.classifierConfig(head(kind: "regression", labels: ["rating"]),
                                                                 tokenizer: tokenizer, source: here)
        XCTAssertEqual(regression["num_labels"] as? Int, 1)
        XCTAssertEqual(regression["problem_type"] as? String, "regression")

        let mean = head(kind: "classification", labels: ["a", "b"], pooling: "mean")
        XCTAssertThrowsError(try HuggingFaceExport.classifierConfig(mean, tokenizer: tokenizer, source: here)) {
            let message = "\($0)"
            XCTAssertTrue(message.contains("task.pooling 'mean'") && message.contains("last non-padding token"), message)
        }
    }

    /// The classifier's tokenizer.json appends <|endoftext|> (a TemplateProcessing with its id);
    /// the language model's has no post-processor.
    func testClassifierTokenizerAppendsEndOfText() throws {
        let tokenizer = try BPETrainer.train(texts: ["hello world", "great day"], vocabSize: 300)
        let plain = try JSONSerialization.jsonObject(with: Data(tokenizer.tokenizerJSON().utf8)) as! [String: Any]
        XCTAssertTrue(plain["post_processor"] is NSNull)
        let text = tokenizer.tokenizerJSON(appendingEndOfText: true)
        let json = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
        let post = json["post_processor"] as! [String: Any]
        XCTAssertEqual(post["type"] as? String, "TemplateProcessing")
        let single = post["single"] as! [[String: Any]]
        XCTAssertEqual(single.count, 2)
        XCTAssertNotNil(single[0]["Sequence"])
        XCTAssertEqual((single[1]["SpecialToken"] as? [String: Any])?["id"] as? String, SpecialTokens.endOfText)
        let special = (post["special_tokens"] as! [String: Any])[SpecialTokens.endOfText] as! [String: Any]
        XCTAssertEqual(special["ids"] as? [Int], [Int(tokenizer.endOfTextID)])
    }
}
