import Foundation
import LLMData
import LLMSupport

/// One checkpoint directory (`step-000123/`) holding the caller's files, `state.json` and
/// `manifest.json`.
public struct Checkpoint: Equatable, Sendable, CustomStringConvertible {
    public static let stateFileName = "state.json"
    /// Trainer state may hold NaN or infinite losses, which plain JSON cannot represent.
    static let nonFiniteFloatEncoding = JSONEncoder.NonConformingFloatEncodingStrategy.convertToString(
        positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    static let nonFiniteFloatDecoding = JSONDecoder.NonConformingFloatDecodingStrategy.convertFromString(
        positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")

    public let step: Int
    public let directory: URL

    public var name: String { directory.lastPathComponent }
    public var description: String { directory.path }

    public init(step: Int, directory: URL) {
        self.step = step
        self.directory = directory
    }

    /// Name of the directory for `step`; zero-padded so `ls` lists checkpoints in step order.
    public static func directoryName(step: Int) -> String {
        let digits = String(step)
        return "step-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    /// The step encoded in a finished checkpoint directory name, or nil for anything else
    /// (including leftover `step-N.tmp-PID` and `step-N.old-PID` directories).
    public static func step(fromDirectoryName name: String) -> Int? {
        guard name.hasPrefix("step-") else { return nil }
        let digits = name.dropFirst(5)
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(digits)
    }

    public func file(_ name: String) -> URL {
        directory.appendingPathComponent(name)
    }

    public func manifest() throws -> CheckpointManifest {
        try CheckpointManifest.read(from: directory)
    }

    /// Recomputes size and SHA-256 of every file in the manifest (or only of those named in
    /// `files`, e.g. the weights and state an inference needs); throws naming the first file
    /// that is missing, truncated or corrupted.
    @discardableResult
    public func verify(files: Set<String>? = nil) throws -> CheckpointManifest {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CheckpointError.checkpointNotFound(reference: name, searched: directory.path)
        }
        let manifest = try manifest()
        for entry in manifest.files where files?.contains(entry.name) ?? true {
            let url = file(entry.name)
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: url.path),
                  let size = attributes[.size] as? Int else {
                throw CheckpointError.fileMissing(directory: directory.path, file: entry.name)
            }
            guard size == entry.bytes else {
                throw CheckpointError.fileSizeMismatch(directory: directory.path, file: entry.name, expected: entry.bytes, actual: size)
            }
            let digest = try SHA256.hash(fileAt: url)
            guard digest == entry.sha256 else {
                throw CheckpointError.fileCorrupted(directory: directory.path, file: entry.name, expectedSHA256: entry.sha256, actualSHA256: digest)
            }
        }
        return manifest
    }

    /// Decodes the trainer state saved with this checkpoint.
    public func loadState<State: Decodable>(_ type: State.Type) throws -> State {
        let url = file(Checkpoint.stateFileName)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw CheckpointError.fileMissing(directory: directory.path, file: Checkpoint.stateFileName)
        }
        do {
            let decoder = JSONDecoder()
            decoder.nonConformingFloatDecodingStrategy = Checkpoint.nonFiniteFloatDecoding
            return try decoder.decode(State.self, from: Data(contentsOf: url))
        } catch {
            throw CheckpointError.stateUnreadable(path: url.path, detail: "\(error)")
        }
    }
}
