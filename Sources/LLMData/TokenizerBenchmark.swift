import LLMSupport
import Foundation

/// Tokenizer training time and single-thread encode throughput, measured on normalised text.
public struct TokenizerBenchmark: Codable, Sendable {
    public var corpusBytes: Int
    public var vocabSize: Int
    public var trainSeconds: Double
    public var encodeSeconds: Double
    public var encodeMBPerSecond: Double
    /// A second pass over the same text, every word now in the tokenizer's cache.
    public var warmEncodeMBPerSecond: Double
    public var tokens: Int

    /// Encoding starts from a fresh tokenizer (loaded from its own JSON) so the word cache is cold
    /// for the first pass, as it would be in `prepare`.
    public static func run(texts: [String], vocabSize: Int) throws -> TokenizerBenchmark {
        let bytes = texts.reduce(0) { $0 + $1.utf8.count }
        let t0 = monotonicSeconds()
        let trained = try BPETrainer.train(texts: texts, vocabSize: vocabSize)
        let trainSeconds = monotonicSeconds() - t0
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bench-tokenizer-\(getpid()).json")
        try trained.save(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let tokenizer = try BPETokenizer.load(from: url)
        let t1 = monotonicSeconds()
        var tokens = 0
        for text in texts { tokens += tokenizer.encode(text).count }
        let encodeSeconds = monotonicSeconds() - t1
        let t2 = monotonicSeconds()
        for text in texts { _ = tokenizer.encode(text) }
        let warmSeconds = monotonicSeconds() - t2
        return TokenizerBenchmark(corpusBytes: bytes, vocabSize: tokenizer.vocabSize, trainSeconds: trainSeconds,
                                  encodeSeconds: encodeSeconds, encodeMBPerSecond: Double(bytes) / 1e6 / encodeSeconds,
                                  warmEncodeMBPerSecond: Double(bytes) / 1e6 / warmSeconds, tokens: tokens)
    }
}
