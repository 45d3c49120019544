import Foundation

/// `manifest.json`: written last inside a checkpoint directory, so its presence marks the
/// checkpoint complete, and its sizes and hashes let `verify` detect any damaged file.
public struct CheckpointManifest: Codable, Equatable {
    public struct Entry: Codable, Equatable {
        public let name: String
        public let bytes: Int
        public let sha256: String
    }

    public static let fileName = "manifest.json"
    public static let currentFormatVersion = 1

    public let formatVersion: Int
    public let step: Int
    public let validationLoss: Double?
    public let createdAt: String
    public let files: [Entry]

    static func read(from directory: URL) throws -> CheckpointManifest {
        let url = directory.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw CheckpointError.manifestMissing(directory: directory.path)
        }
        do {
            return try JSONDecoder().decode(CheckpointManifest.self, from: Data(contentsOf: url))
        } catch {
            throw CheckpointError.manifestUnreadable(directory: directory.path, detail: "\(error)")
        }
    }

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}
