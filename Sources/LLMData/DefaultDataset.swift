import Foundation
import LLMSupport

/// The dataset of a run given no data options: the shipped corpora, a tokenizer trained on them,
/// prepared into a directory once and reused while its manifest still verifies.
public enum DefaultDataset {
    public static let defaultVocabSize = 8192

    /// Returns the manifest of `directory`, (re)building it when it is missing, corrupted, or was
    /// made with another vocabulary size, normaliser (config or rules version) or tokenizer. With `tokenizer` nil one is
    /// trained on the shipped corpora's train split (about 2 s for 8192 tokens in a release build).
    /// `willPrepare` is called when the directory has to be (re)built, before the work starts.
    public static func prepare(in directory: URL, vocabSize: Int = defaultVocabSize, tokenizer: BPETokenizer? = nil,
                               normalizer: TextNormalizer = TextNormalizer(),
                               willPrepare: () -> Void = {}) throws -> DatasetManifest {
        if let existing = try? DatasetManifest.load(directory: directory),
           existing.sources == shippedSources, existing.normalizer == normalizer.config,
           existing.normalizedByThisBuild,
           existing.vocabSize == (tokenizer?.vocabSize ?? vocabSize),
           tokenizer.map({ SHA256.hash(Data($0.tokenizerJSON().utf8)) == existing.tokenizerSHA256 }) ?? true {
            return existing
        }
        willPrepare()
        let bpe = try tokenizer ?? BPETrainer.train(texts: try TokenizerTool.corpusTexts(paths: [], normalizer: normalizer),
                                                    vocabSize: vocabSize)
        return try DatasetPreparer.prepare(posts: try ShippedCorpus.posts(), sources: shippedSources, tokenizer: bpe,
                                           normalizer: normalizer, output: directory)
    }

    static var shippedSources: [String] { ShippedCorpus.fileNames.map { "shipped:" + $0 } }
}
