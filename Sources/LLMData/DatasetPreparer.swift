import Foundation
import LLMSupport

/// Turns posts into a dataset directory: per split a token file (`train.bin`, ...; posts each
/// followed by `<|endoftext|>`), a labels sidecar for labelled posts, a copy of the tokenizer, and
/// `manifest.json` with checksums.
public enum DatasetPreparer {
    /// Reads `inputs` (the shipped corpora when empty) and prepares them; see `prepare(posts:...)`.
    public static func prepare(inputs: [String], fields: CorpusFields, tokenizer: BPETokenizer,
                               normalizer: TextNormalizer = TextNormalizer(), output: URL) throws -> DatasetManifest {
        let posts = inputs.isEmpty ? try ShippedCorpus.posts()
            : try inputs.flatMap { try CorpusReader.read(url: URL(fileURLWithPath: $0), fields: fields) }
        let sources = inputs.isEmpty ? DefaultDataset.shippedSources : inputs
        return try prepare(posts: posts, sources: sources, tokenizer: tokenizer, normalizer: normalizer, output: output)
    }

    /// Posts keep the split they carry (shipped: from the file; read: from the text hash). Posts
    /// that normalise to nothing are skipped.
    public static func prepare(posts: [Post], sources: [String], tokenizer: BPETokenizer,
                               normalizer: TextNormalizer = TextNormalizer(), output: URL) throws -> DatasetManifest {
        do {
            try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        } catch {
            throw DataError.unwritable(path: output.path, reason: "cannot create the directory: "
                                                                  + "\(error.localizedDescription)")
        }
        let tokenizerText = Data(tokenizer.tokenizerJSON().utf8)
        try write(tokenizerText, to: output.appendingPathComponent(DatasetManifest.tokenizerFileName))

        var streams = [CorpusSplit: [Int32]]()
        var labelLines = [CorpusSplit: [String]]()
        var postCounts = [CorpusSplit: Int]()
        for post in posts {
            let text = normalizer.normalize(post.text)
            if text.isEmpty { continue }
            let ids = tokenizer.encode(text)
            streams[post.split, default: []].append(contentsOf: ids)
            streams[post.split, default: []].append(tokenizer.endOfTextID)
            postCounts[post.split, default: 0] += 1
            if let label = post.label {
                let example = LabelledExample(ids: ids, label: label, rating: post.rating, source: post.source)
                labelLines[post.split, default: []].append(example.jsonLine)
            }
        }
        var splits = [String: DatasetManifest.SplitFiles]()
        for split in CorpusSplit.allCases {
            guard let stream = streams[split] else { continue }
            let tokensFile = split.rawValue + ".bin"
            let tokensSHA = try TokenFile.write(stream, vocabSize: tokenizer.vocabSize, to: output.appendingPathComponent(tokensFile))
            var files = DatasetManifest.SplitFiles(tokensFile: tokensFile, tokensSHA256: tokensSHA, tokens: stream.count,
                                                   posts: postCounts[split] ?? 0, labelsFile: nil, labelsSHA256: nil)
            if let lines = labelLines[split] {
                let data = Data((lines.joined(separator: "\n") + "\n").utf8)
                files.labelsFile = split.rawValue + ".labels.jsonl"
                files.labelsSHA256 = SHA256.hash(data)
                try write(data, to: output.appendingPathComponent(files.labelsFile!))
            }
            splits[split.rawValue] = files
        }
        if splits.isEmpty { throw DataError.emptyCorpus(path: sources.joined(separator: ", ")) }
        let manifest = DatasetManifest(sources: sources, normalizer: normalizer.config,
                                       tokenizerFile: DatasetManifest.tokenizerFileName,
                                       tokenizerSHA256: SHA256.hash(tokenizerText), vocabSize: tokenizer.vocabSize,
                                       endOfTextID: Int(tokenizer.endOfTextID), splits: splits)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try write(try encoder.encode(manifest), to: output.appendingPathComponent(DatasetManifest.fileName))
        return manifest
    }

    private static func write(_ data: Data, to url: URL) throws {
        do { try data.write(to: url, options: .atomic) } catch {
            throw DataError.unwritable(path: url.path, reason: error.localizedDescription)
        }
    }
}
