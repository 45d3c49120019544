import Foundation
import LLMSupport
import LLMTrain

/// Post vectors on disk: `NAME.safetensors` holds `embeddings` [count, dimension] (float32, unit
/// rows) and, in its metadata, the model's sha256 and path, the pooling and the sidecar's sha256;
/// `NAME.jsonl` holds one `{"id":...,"text":...}` line per row, in row order.
public struct EmbeddingIndex {
    public static let tensorName = "embeddings"
    public struct Post: Codable, Equatable, Sendable {
        public var id: String
        public var text: String
        public init(id: String, text: String) { self.id = id; self.text = text }
    }

    public var vectors: [Float]
    public var dimension: Int
    public var posts: [Post]
    public var modelSHA256: String
    public var pooling: String
    /// The checkpoint path given to `embed`: `similar` embeds its queries with it by default.
    public var modelPath: String
    public var count: Int { posts.count }

    public init(vectors: [Float], dimension: Int, posts: [Post], modelSHA256: String, pooling: String,
                modelPath: String) {
        precondition(vectors.count == posts.count * dimension, "one row of `dimension` floats per post")
        self.vectors = vectors
        self.dimension = dimension
        self.posts = posts
        self.modelSHA256 = modelSHA256
        self.pooling = pooling
        self.modelPath = modelPath
    }

    /// The sidecar next to `url`: the same name with extension `.jsonl`.
    public static func sidecarURL(_ url: URL) -> URL { url.deletingPathExtension().appendingPathExtension("jsonl") }

    /// Writes the sidecar, then the tensors (each via a temp file and a rename), so the
    /// safetensors file, which names the sidecar's sha256, is never left pointing at a partial one.
    public func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var lines = Data()
        for post in posts { lines.append(try encoder.encode(post)); lines.append(0x0A) }
        try DurableFile.writeAtomically(lines, to: Self.sidecarURL(url).path)
        let temp = url.path + ".tmp-\(getpid())"
        try vectors.withUnsafeBufferPointer { data in
            try SafeTensorsWriter.write([(name: Self.tensorName, shape: [count, dimension], data: data)],
                                        metadata: ["model_sha256": modelSHA256, "model_path": modelPath, "pooling": pooling,
                                                   "sidecar_sha256": SHA256.hash(lines)],
                                        to: URL(fileURLWithPath: temp))
        }
        try DurableFile.move(temp, to: url.path)
    }

    /// Reads an index written by `write`; refuses one whose sidecar does not match it, and one
    /// made with another model than `expectModel` (a sha256) when given.
    public static func load(url: URL, expectModel: String? = nil) throws -> EmbeddingIndex {
        let file = try SafeTensorsFile(contentsOf: url)
        let info = try file.info(tensorName)
        guard info.shape.count == 2, let model = file.metadata["model_sha256"],
              let sidecarSHA = file.metadata["sidecar_sha256"] else {
            throw TrainingError("\(url.path): not an embedding index (needs \(tensorName) [posts, dim] and "
                                + "model_sha256/sidecar_sha256 metadata); make one with swift-llm-train embed")
        }
        let sidecar = sidecarURL(url)
        guard let lines = FileManager.default.contents(atPath: sidecar.path) else {
            throw TrainingError("\(sidecar.path): missing; the index's posts are written there by swift-llm-train "
                                + "embed")
        }
        guard SHA256.hash(lines) == sidecarSHA else {
            throw TrainingError("\(sidecar.path): sha256 differs from the one \(url.lastPathComponent) records; the "
                                + "two files are not from the same embed run")
        }
        let decoder = JSONDecoder()
        let posts = try lines.split(separator: 0x0A).enumerated().map { i, line in
            do { return try decoder.decode(Post.self, from: Data(line)) } catch {
                throw TrainingError("\(sidecar.path):\(i + 1): not an {id, text} object")
            }
        }
        guard posts.count == info.shape[0] else {
            throw TrainingError("\(sidecar.path): \(posts.count) posts but \(url.lastPathComponent) has "
                                + "\(info.shape[0]) rows")
        }
        let index = EmbeddingIndex(vectors: try file.read(tensorName), dimension: info.shape[1], posts: posts,
                                   modelSHA256: model, pooling: file.metadata["pooling"] ?? "mean",
                                   modelPath: file.metadata["model_path"] ?? "")
        if let expectModel { try index.require(model: expectModel, url: url) }
        return index
    }

    /// Refuses vectors made by another model than the one (sha256) about to embed the queries.
    public func require(model sha256: String, url: URL) throws {
        guard sha256 == modelSHA256 else {
            throw TrainingError("\(url.path): built with model sha256 \(modelSHA256.prefix(12))…, not the --model "
                                + "given (\(sha256.prefix(12))…); embed the posts again with this model or pass the "
                                + "one the index was built with")
        }
    }
}
