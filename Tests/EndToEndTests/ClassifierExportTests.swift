import Foundation
import XCTest

/// `export` of fine-tuned checkpoints as GPT2ForSequenceClassification: the layout and config
/// fields, the head's weights unchanged, and the refusals (mean pooling, generate, import).
/// Loading in transformers and matching probabilities: Scripts/check-hf-parity.py.
extension FinetuneTests {
    /// name -> (shape, raw bytes) of a safetensors file, read from its header by hand.
    func tensors(_ url: URL) throws -> [String: (shape: [Int], bytes: Data)] {
        let data = try Data(contentsOf: url)
        let headerLength = Int(data.prefix(8).enumerated().reduce(UInt64(0)) {
            $0 | UInt64($1.element) << (8 * UInt64($1.offset))
        })
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<8 + headerLength)) as! [String: Any]
        var out: [String: (shape: [Int], bytes: Data)] = [:]
        for case let (name, info as [String: Any]) in header where name != "__metadata__" {
            let range = info["data_offsets"] as! [Int]
            let start = 8 + headerLength
            out[name] = (info["shape"] as! [Int], data.subdata(in: start + range[0]..<start + range[1]))
        }
        return out
    }

    private func json(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    }

    func testClassifierExportsAsGPT2ForSequenceClassification() throws {
        let run = try TrainingRun(self, "ft-export")
        try finetune(0, run, ["--steps", "2"])
        let hf = run.path + "/hf"
        let export = try Launcher.run("swift-llm-train", ["export", run.path, "--output", hf])
        XCTAssertEqual(export.status, 0, export.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: hf + "/generation_config.json"), "it does not generate")

        let config = try json(hf + "/config.json")
        XCTAssertEqual(config["architectures"] as? [String], ["GPT2ForSequenceClassification"])
        XCTAssertEqual(config["num_labels"] as? Int, 2)
        XCTAssertEqual(config["id2label"] as? [String: String], ["0": "neg", "1": "pos"])
        XCTAssertEqual(config["label2id"] as? [String: Int], ["neg": 0, "pos": 1])
        XCTAssertEqual(config["problem_type"] as? String, "single_label_classification")
        // Pooling at our appended end-of-text: <pad> pads, end-of-text is appended by the tokenizer.
        let tokenizer = try json(hf + "/tokenizer.json")
        let added = tokenizer["added_tokens"] as! [[String: Any]]
        let id = { (name: String) in added.first { $0["content"] as? String == name }?["id"] as? Int }
        XCTAssertEqual(config["pad_token_id"] as? Int, id("<pad>"))
        XCTAssertNotEqual(id("<pad>"), id("<|endoftext|>"))
        let post = tokenizer["post_processor"] as! [String: Any]
        XCTAssertEqual(post["type"] as? String, "TemplateProcessing")
        XCTAssertEqual(((post["single"] as! [[String: Any]]).last?["SpecialToken"] as? [String: Any])?["id"] as? String,
                       "<|endoftext|>")
        XCTAssertEqual(try json(hf + "/tokenizer_config.json")["model_max_length"] as? Int, 32, "fine-tuning length")

        // Trunk under save_pretrained's `transformer.` names, the head as score.weight, bytes unchanged.
        let ours = try tensors(try run.latestCheckpoint().appendingPathComponent("model.safetensors"))
        let theirs = try tensors(URL(fileURLWithPath: hf + "/model.safetensors"))
        XCTAssertEqual(Set(theirs.keys), Set(ours.keys.map { $0 == "score.weight" ? $0 : "transformer." + $0 }))
        XCTAssertEqual(theirs["score.weight"]?.shape, [2, 64])
        let changed = ours.filter { name, tensor in
            theirs[name == "score.weight" ? name : "transformer." + name].map { $0.bytes != tensor.bytes } ?? true
        }
        XCTAssertEqual(changed.count, 0, "first: \(changed.keys.sorted().first ?? "")")

        // A classifier does not generate, and import does not take one.
        let generate = try Launcher.run("swift-llm-train", ["generate", "--model", run.path, "--prompt", "hi"])
        XCTAssertNotEqual(generate.status, 0)
        XCTAssertTrue(generate.stderr.contains("is a classifier (it has a score.weight head)"), generate.output)
        let imported = try Launcher.run("swift-llm-train", ["import", hf, "--output", run.path + "/imported"])
        XCTAssertNotEqual(imported.status, 0)
        XCTAssertTrue(imported.stderr.contains("field 'architectures' is [\"GPT2ForSequenceClassification\"]"),
                      imported.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.path + "/imported"))
    }

    func testRegressionExportsAndMeanPoolingIsRefused() throws {
        let regression = try TrainingRun(self, "ft-export-reg")
        try finetune(0, regression, ["--steps", "1", "--set", "task.kind=regression"])
        let hf = regression.path + "/hf"
        XCTAssertEqual(try Launcher.run("swift-llm-train", ["export", regression.path, "--output", hf]).status, 0)
        let config = try json(hf + "/config.json")
        XCTAssertEqual(config["num_labels"] as? Int, 1)
        XCTAssertEqual(config["problem_type"] as? String, "regression")
        XCTAssertEqual(try tensors(URL(fileURLWithPath: hf + "/model.safetensors"))["score.weight"]?.shape, [1, 64])

        let mean = try TrainingRun(self, "ft-export-mean")
        try finetune(0, mean, ["--steps", "1", "--set", "task.pooling=mean"])
        let refused = try Launcher.run("swift-llm-train", ["export", mean.path, "--output", mean.path + "/hf"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("task.pooling 'mean'")
                      && refused.stderr.contains("reads only the last non-padding token"), refused.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: mean.path + "/hf"), "nothing half-written")
    }
}
