import Foundation
import LLMData

/// The layout of a prepared dataset directory: `tokenizer.json`, `train.bin`, `validation.bin`.
enum DatasetFiles {
    static func tokenizer(in directory: URL) -> URL { directory.appendingPathComponent("tokenizer.json") }
    static func tokens(_ split: CorpusSplit, in directory: URL) -> URL { directory.appendingPathComponent("\(split.rawValue).bin") }

    static func isComplete(_ directory: URL) -> Bool {
        [tokenizer(in: directory), tokens(.train, in: directory), tokens(.validation, in: directory)]
            .allSatisfy { FileManager.default.fileExists(atPath: $0.path) }
    }

    /// Trains a tokenizer on the embedded corpus's training split and writes the token files.
    /// The tokenizer is written last, so an interrupted preparation is redone, not half-used.
    static func prepareShippedCorpus(into directory: URL, vocabSize: Int) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let normalizer = TextNormalizer()
        let texts = try ShippedCorpus.posts(split: .train).map { normalizer.normalize($0.text) }
        let tokenizer = try BPETrainer.train(texts: texts, vocabSize: vocabSize)
        let streams = try ShippedCorpus.tokenStreams(tokenizer: tokenizer, normalizer: normalizer)
        try TokenFile.write(streams.train, vocabSize: tokenizer.vocabSize, to: tokens(.train, in: directory))
        try TokenFile.write(streams.validation, vocabSize: tokenizer.vocabSize, to: tokens(.validation, in: directory))
        try tokenizer.save(to: self.tokenizer(in: directory))
    }
}
