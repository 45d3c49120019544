import LLMSupport
import XCTest
import LLMData
import LLMModel
@testable import LLMGenerate

/// Generation on a small random model: greedy against an independent argmax over full forwards,
/// batching, seeds, stopping, and bad prompts.
final class GeneratorTests: XCTestCase {
    static let texts = ["what a great day", "terrible service, never again", "质量很好 不错", "love it 😀 so much",
                        "the hotel was clean and quiet", "worst phone ever", "酒店服务很好"]

    func makeGenerator(batchSize: Int, context: Int = 24) throws -> (Generator, GPT) {
        let tokenizer = try BPETrainer.train(texts: Self.texts, vocabSize: 300)
        let config = GPTConfig(vocabSize: tokenizer.vocabSize, contextLength: context, layers: 2, heads: 2, modelDim: 16)
        let model = GPT(config: config, batchSize: 1, sequenceLength: context, seed: 3)
        var rng = SplitMix64(seed: 11)
        // Larger than GPT-2's init so the argmax is decided by clear margins.
        rng.fillNormal(model.parameters.baseAddress!, count: model.parameterCount, std: 0.3)
        let generator = Generator(config: config, parameters: UnsafeBufferPointer(model.parameters), owner: model,
                                  tokenizer: tokenizer, normalizer: TextNormalizer(), batchSize: batchSize)
        return (generator, model)
    }

    /// Greedy decoding the slow way: a full forward of the whole prefix for every new token.
    func referenceGreedy(_ model: GPT, prompt: [Int32], maxTokens: Int, endOfText: Int32) -> [Int32] {
        var ids = prompt, out: [Int32] = []
        let T = model.config.contextLength, V = model.config.vocabSize
        while out.count < maxTokens && ids.count <= T {
            let input = ids + [Int32](repeating: 0, count: T - ids.count)
            model.forward(inputs: input, targets: nil)
            let row = UnsafeBufferPointer(rebasing: model.logits[(ids.count - 1) * V..<ids.count * V])
            let next = Sampler.argmax(row)
            if next == endOfText { break }
            out.append(next)
            if ids.count == T { break }
            ids.append(next)
        }
        return out
    }

    func testGreedyMatchesFullForwardArgmaxAndIsDeterministic() throws {
        let (generator, model) = try makeGenerator(batchSize: 3)
        let prompts = ["what a", "the hotel", "质量", "love", "worst"]
        let (first, _) = try generator.generate(prompts: prompts, maxTokens: 12, sampling: SamplingOptions(greedy: true))
        let (again, _) = try generator.generate(prompts: prompts, maxTokens: 12, sampling: SamplingOptions(greedy: true))
        XCTAssertEqual(first, again)
        var compared = 0
        for c in first {
            let expected = referenceGreedy(model, prompt: c.promptIDs, maxTokens: 12, endOfText: generator.tokenizer.endOfTextID)
            XCTAssertEqual(c.ids, expected, "prompt \(c.prompt)")
            compared += expected.count
        }
        XCTAssertGreaterThan(compared, 10, "the prompts must generate something to compare")
    }

    func testBatchingDoesNotChangeResults() throws {
        let prompts = ["what a", "the hotel was", "质量很好", "love it", "worst", "great day"]
        for sampling in [SamplingOptions(greedy: true), SamplingOptions(temperature: 0.9, topK: 20, topP: 0.9, seed: 5)] {
            let (alone, _) = try makeGenerator(batchSize: 1).0.generate(prompts: prompts, maxTokens: 10, sampling: sampling)
            let (batched, _) = try makeGenerator(batchSize: 4).0.generate(prompts: prompts, maxTokens: 10, sampling: sampling)
            XCTAssertEqual(alone, batched, "\(sampling)")
        }
    }

    func testSeededSamplingIsReproducible() throws {
        let (generator, _) = try makeGenerator(batchSize: 2)
        let prompts = ["what a", "the hotel"]
        func run(_ seed: UInt64) throws -> [[Int32]] {
            try generator.generate(prompts: prompts, maxTokens: 16, sampling: SamplingOptions(temperature: 1.5, seed: seed)).0.map(\.ids)
        }
        XCTAssertEqual(try run(9), try run(9))
        XCTAssertNotEqual(try run(9), try run(10))
    }

    func testStopsAtMaxTokensAndAtTheContext() throws {
        let (generator, _) = try makeGenerator(batchSize: 2, context: 12)
        let (short, stats) = try generator.generate(prompts: ["what a"], maxTokens: 3, sampling: SamplingOptions(temperature: 2, seed: 1))
        XCTAssertLessThanOrEqual(short[0].ids.count, 3)
        if short[0].finish == .maxTokens { XCTAssertEqual(short[0].ids.count, 3) }
        XCTAssertEqual(stats.generatedTokens, short[0].ids.count)

        // 11 prompt tokens (the context less one) leave room to feed one generated token back.
        let long = String(repeating: "great day ", count: 20)
        let (full, _) = try generator.generate(prompts: [long], maxTokens: 50, sampling: SamplingOptions(temperature: 2, seed: 2))
        XCTAssertTrue(full[0].truncated)
        XCTAssertEqual(full[0].promptIDs, Array(generator.tokenizer.encode(TextNormalizer().normalize(long)).suffix(11)))
        XCTAssertLessThanOrEqual(full[0].ids.count, 2)
        if full[0].finish == .context { XCTAssertEqual(full[0].ids.count, 2) }
    }

    func testEmptyPromptIsAnErrorNamingIt() throws {
        let (generator, _) = try makeGenerator(batchSize: 1)
        for empty in ["", "   \u{3000} "] {
            XCTAssertThrowsError(try generator.generate(prompts: ["fine", empty], maxTokens: 2, sampling: SamplingOptions())) {
                XCTAssertTrue("\($0)".contains("prompt 2 is empty"), "\($0)")
            }
        }
    }
}
