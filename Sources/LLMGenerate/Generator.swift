import Foundation
import LLMData
import LLMModel

/// One finished prompt: `promptIDs` as fed to the model (normalised, maybe truncated), `ids` the
/// generated tokens (without the end-of-text that stopped them), `text` their decoding.
public struct Completion: Equatable, Sendable {
    public enum Finish: String, Sendable { case endOfText = "end_of_text", maxTokens = "max_tokens", context }
    public var prompt: String
    public var promptIDs: [Int32]
    public var ids: [Int32]
    public var text: String
    public var finish: Finish
    /// The prompt did not fit the context and lost tokens on the left.
    public var truncated: Bool
}

/// Timings of one `generate` call.
public struct GenerationStats: Sendable {
    public var promptTokens = 0
    public var generatedTokens = 0
    /// From the call to the first prompt's first sampled token (its prefill included).
    public var timeToFirstToken = 0.0
    public var prefillSeconds = 0.0
    /// Rows of the one-token steps (every token after each prompt's first) and their time.
    public var decodeTokens = 0
    public var decodeSeconds = 0.0
    public var totalSeconds = 0.0
}

public struct GenerationError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Batched generation with a KV cache: up to `batchSize` prompts share one decoder, each in its
/// own cache slot; a step feeds every unfinished prompt's last token as one row.
public final class Generator {
    public let config: GPTConfig
    public let tokenizer: BPETokenizer
    public let normalizer: TextNormalizer
    public let batchSize: Int
    let decoder: KVCacheDecoder
    /// Keeps the parameters `decoder` borrows alive.
    let owner: AnyObject

    /// `parameters` (owned by `owner`) must not change while the generator exists.
    public init(config: GPTConfig, parameters: UnsafeBufferPointer<Float>, owner: AnyObject, tokenizer: BPETokenizer,
                normalizer: TextNormalizer, batchSize: Int) {
        self.config = config
        self.tokenizer = tokenizer
        self.normalizer = normalizer
        self.batchSize = max(1, batchSize)
        self.owner = owner
        decoder = KVCacheDecoder(config: config, parameters: parameters, slots: self.batchSize,
                                 maxRows: max(self.batchSize, min(config.contextLength, 128)))
    }

    /// The ids a prompt is fed as: normalised as in training, then encoded; longer than the
    /// context keeps its last `contextLength - 1` tokens (room for one generated token).
    public func promptIDs(_ prompt: String, index: Int) throws -> (ids: [Int32], truncated: Bool) {
        let ids = tokenizer.encode(normalizer.normalize(prompt))
        guard !ids.isEmpty else {
            throw GenerationError("prompt \(index + 1) is empty\(prompt.isEmpty ? "" : " after normalisation"); give "
                                  + "some text to continue")
        }
        let room = config.contextLength - 1
        return ids.count > room ? (Array(ids.suffix(room)), true) : (ids, false)
    }

    /// Generates for every prompt, `batchSize` at a time, in order. `onText(i, piece)` receives
    /// prompt i's new text as tokens arrive (whole UTF-8 characters only); `onPromptLogits(i,
    /// logits)` the logits (promptIDs.count, V) of every prompt position, for parity checks;
    /// `onFinish(i)` is called once prompt i's batch is done, in prompt order.
    public func generate(prompts: [String], maxTokens: Int, sampling: SamplingOptions,
                         onText: (Int, String) -> Void = { _, _ in }, onFinish: (Int) -> Void = { _ in },
                         onPromptLogits: ((Int, [Float]) -> Void)? = nil) throws -> ([Completion], GenerationStats) {
        let encoded = try prompts.enumerated().map { try promptIDs($1, index: $0) }
        var stats = GenerationStats()
        let start = Date()
        var completions: [Completion] = []
        for batchStart in stride(from: 0, to: prompts.count, by: batchSize) {
            let batch = Array(batchStart..<min(batchStart + batchSize, prompts.count))
            completions += run(batch: batch, prompts: prompts, encoded: encoded, maxTokens: maxTokens, sampling: sampling,
                               start: start, stats: &stats, onText: onText, onPromptLogits: onPromptLogits)
            batch.forEach(onFinish)
        }
        stats.totalSeconds = Date().timeIntervalSince(start)
        return (completions, stats)
    }

    private func run(batch: [Int], prompts: [String], encoded: [(ids: [Int32], truncated: Bool)], maxTokens: Int,
                     sampling: SamplingOptions, start: Date, stats: inout GenerationStats,
                     onText: (Int, String) -> Void, onPromptLogits: ((Int, [Float]) -> Void)?) -> [Completion] {
        let V = config.vocabSize, T = config.contextLength
        decoder.resetAll()
        var samplers = batch.map { Sampler(options: sampling, stream: $0) }
        var generated = [[Int32]](repeating: [], count: batch.count)
        var streams = [UTF8Stream](repeating: UTF8Stream(), count: batch.count)
        var finish = [Completion.Finish?](repeating: maxTokens <= 0 ? .maxTokens : nil, count: batch.count)
        var next = [Int32](repeating: 0, count: batch.count)

        func accept(_ slot: Int, _ logits: UnsafeBufferPointer<Float>) {
            let id = samplers[slot].next(logits: logits)
            if batch[slot] == 0 && generated[slot].isEmpty { stats.timeToFirstToken = Date().timeIntervalSince(start) }
            if id == tokenizer.endOfTextID {
                finish[slot] = .endOfText
                return
            }
            generated[slot].append(id)
            stats.generatedTokens += 1
            let piece = streams[slot].append(tokenizer.decodeBytes([id]))
            if !piece.isEmpty { onText(batch[slot], piece) }
            if generated[slot].count >= maxTokens {
                finish[slot] = .maxTokens
            } else if decoder.lengths[slot] >= T {
                finish[slot] = .context  // no position left to feed this token back
            }
            next[slot] = id
        }

        // Prefill: each prompt alone, in chunks of the decoder's rows; the last row's logits
        // give the first token.
        let prefillStart = Date()
        for (slot, index) in batch.enumerated() {
            let ids = encoded[index].ids
            stats.promptTokens += ids.count
            var all: [Float] = []
            for chunk in stride(from: 0, to: ids.count, by: decoder.maxRows) {
                let rows = Array(ids[chunk..<min(chunk + decoder.maxRows, ids.count)])
                let logits = decoder.forward(slots: Array(repeating: slot, count: rows.count), tokens: rows)
                if onPromptLogits != nil { all += logits }
                if chunk + rows.count == ids.count && finish[slot] == nil {
                    accept(slot, UnsafeBufferPointer(rebasing: logits[(rows.count - 1) * V..<rows.count * V]))
                }
            }
            onPromptLogits?(index, all)
        }
        stats.prefillSeconds += Date().timeIntervalSince(prefillStart)

        let decodeStart = Date()
        while true {
            let active = (0..<batch.count).filter { finish[$0] == nil }
            if active.isEmpty { break }
            let logits = decoder.forward(slots: active, tokens: active.map { next[$0] })
            stats.decodeTokens += active.count
            for (row, slot) in active.enumerated() {
                accept(slot, UnsafeBufferPointer(rebasing: logits[row * V..<(row + 1) * V]))
            }
        }
        stats.decodeSeconds += Date().timeIntervalSince(decodeStart)

        return batch.enumerated().map { slot, index in
            Completion(prompt: prompts[index], promptIDs: encoded[index].ids, ids: generated[slot],
                       text: tokenizer.decode(generated[slot]), finish: finish[slot]!, truncated: encoded[index].truncated)
        }
    }
}

/// Turns a growing byte stream into text pieces that end on whole UTF-8 characters: a token can
/// end inside a multi-byte character (an emoji, a Han character), whose rest comes next token.
struct UTF8Stream {
    private var pending: [UInt8] = []

    mutating func append(_ bytes: [UInt8]) -> String {
        pending += bytes
        if pending.isEmpty { return "" }
        var end = pending.count
        // Back off over a trailing incomplete sequence (at most 3 bytes of a 4-byte character).
        for back in 1...min(3, pending.count) {
            let b = pending[pending.count - back]
            if b & 0xC0 == 0x80 { continue }
            let length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
            if length > back { end = pending.count - back }
            break
        }
        let piece = String(decoding: pending[..<end], as: UTF8.self)
        pending.removeFirst(end)
        return piece
    }
}
