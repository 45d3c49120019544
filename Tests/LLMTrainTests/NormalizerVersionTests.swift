import Foundation
import LLMComm
import LLMData
import LLMTrain
import XCTest

/// Training refuses a dataset whose posts went through other placeholder rules than this
/// build's (`TextNormalizer.rulesVersion`): prompts would later be scrubbed differently.
final class NormalizerVersionTests: XCTestCase {
    func testADatasetPreparedByOlderRulesIsRefused() throws {
        let data = try TemporaryDirectory()
        let posts = try ShippedCorpus.posts().enumerated().filter { $0.offset % 50 == 0 }.map(\.element)
        let tokenizer = try BPETrainer.train(texts: posts.filter { $0.split == .train }.map(\.text), vocabSize: 300)
        _ = try DatasetPreparer.prepare(posts: posts, sources: ["test"], tokenizer: tokenizer, output: data.url)
        let manifest = data.url.appendingPathComponent(DatasetManifest.fileName)
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: manifest)) as! [String: Any]
        json.removeValue(forKey: "normalizer_version")
        try JSONSerialization.data(withJSONObject: json).write(to: manifest)

        var config = TrainConfig()
        config.model = .init(vocabSize: 300, contextLength: 16, layers: 1, heads: 2, modelDim: 32)
        config.data.dataset = data.url.path
        config.train.sequenceLength = 16
        let run = try TemporaryDirectory()
        let options = TrainOptions(config: config, runDirectory: run.url)
        XCTAssertThrowsError(try InProcessCommunicator.run(worldSize: 1) { comm in
            _ = try Trainer(options: options, comm: comm)
        }) { error in
            XCTAssertTrue("\(error)".contains("placeholder rules version 1; this build's are version "
                                              + "\(TextNormalizer.rulesVersion)"), "\(error)")
            XCTAssertTrue("\(error)".contains("run `swift-llm-train prepare` again"), "\(error)")
        }
    }
}
