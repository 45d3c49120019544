import Foundation

/// Every failure of the checkpoint layer (safetensors files, hashing, checkpoint directories).
/// Messages name the file involved and say what to do about it, because they are what an
/// operator sees when a resume fails.
public enum CheckpointError: Error, CustomStringConvertible {
    case io(path: String, operation: String, reason: String)
    case safeTensorsTooSmall(path: String, bytes: Int)
    case safeTensorsBadHeaderLength(path: String, headerLength: UInt64, fileSize: Int)
    case safeTensorsBadJSON(path: String, detail: String)
    case safeTensorsBadEntry(path: String, tensor: String, detail: String)
    case safeTensorsUnsupportedDtype(path: String, tensor: String, dtype: String)
    case safeTensorsBadOffsets(path: String, tensor: String, detail: String)
    case safeTensorsTruncated(path: String, expectedBytes: Int, actualBytes: Int)
    case safeTensorsTrailingBytes(path: String, expectedBytes: Int, actualBytes: Int)
    case invalidTensor(tensor: String, detail: String)
    case tensorNotFound(path: String, tensor: String)
    case elementCountMismatch(path: String, tensor: String, expected: Int, destination: Int)
    case manifestMissing(directory: String)
    case manifestUnreadable(directory: String, detail: String)
    case fileMissing(directory: String, file: String)
    case fileSizeMismatch(directory: String, file: String, expected: Int, actual: Int)
    case fileCorrupted(directory: String, file: String, expectedSHA256: String, actualSHA256: String)
    case stateUnreadable(path: String, detail: String)
    case unexpectedSubdirectory(directory: String, name: String)
    case reservedFileName(name: String)
    case checkpointNotFound(reference: String, searched: String)
    case noCheckpoints(directory: String)
    case latestCorrupt(directory: String, cause: String)
    case noValidCheckpoint(directory: String, skipped: [String])
    case invalidStep(Int)

    /// An `io` error describing the current `errno`; call right after the failing system call.
    static func posix(path: String, operation: String) -> CheckpointError {
        let code = errno
        return .io(path: path, operation: operation, reason: "\(String(cString: strerror(code))) (errno \(code))")
    }

    public var description: String {
        switch self {
        case let .io(path, operation, reason):
            return "\(operation) failed for \(path): \(reason). Check that the path exists, its permissions and free "
                   + "disk space."
        case let .safeTensorsTooSmall(path, bytes):
            return "\(path) is not a safetensors file: only \(bytes) bytes, shorter than the 8-byte header length. "
                   + "The file is truncated or was never written completely."
        case let .safeTensorsBadHeaderLength(path, headerLength, fileSize):
            return "\(path): header length \(headerLength) does not fit in a file of \(fileSize) bytes (or exceeds "
                   + "the 100 MB limit). The file is truncated or not a safetensors file."
        case let .safeTensorsBadJSON(path, detail):
            return "\(path): header is not valid safetensors JSON (\(detail)). The file is corrupt or not a "
                   + "safetensors file."
        case let .safeTensorsBadEntry(path, tensor, detail):
            return "\(path): tensor '\(tensor)' has a malformed header entry (\(detail)). The file is corrupt or was "
                   + "written by an incompatible tool."
        case let .safeTensorsUnsupportedDtype(path, tensor, dtype):
            return "\(path): tensor '\(tensor)' has dtype \(dtype); only F32 is supported. Convert the file to "
                   + "float32 first."
        case let .safeTensorsBadOffsets(path, tensor, detail):
            return "\(path): tensor '\(tensor)' has invalid data_offsets (\(detail)). The file is corrupt."
        case let .safeTensorsTruncated(path, expected, actual):
            return "\(path) is truncated: the header describes \(expected) bytes but the file has \(actual). Re-copy "
                   + "the file or resume from an earlier checkpoint."
        case let .safeTensorsTrailingBytes(path, expected, actual):
            return "\(path) has \(actual - expected) unexpected bytes after the last tensor (expected \(expected) "
                   + "bytes in total). The file is corrupt."
        case let .invalidTensor(tensor, detail):
            return "cannot write tensor '\(tensor)': \(detail). Fix the caller's tensor list."
        case let .tensorNotFound(path, tensor):
            return "\(path) has no tensor named '\(tensor)'. Check that the checkpoint was written by a model with "
                   + "the same configuration."
        case let .elementCountMismatch(path, tensor, expected, destination):
            return "\(path): tensor '\(tensor)' has \(expected) elements but the destination buffer holds "
                   + "\(destination). The model configuration differs from the checkpoint's."
        case let .manifestMissing(directory):
            return "\(directory) has no manifest.json, so it is not a complete checkpoint (probably interrupted while "
                   + "saving). Resume from an earlier checkpoint."
        case let .manifestUnreadable(directory, detail):
            return "\(directory)/manifest.json cannot be read (\(detail)). The checkpoint is corrupt; resume from an "
                   + "earlier checkpoint."
        case let .fileMissing(directory, file):
            return "\(directory)/\(file) is listed in the manifest but missing. The checkpoint is incomplete; resume "
                   + "from an earlier checkpoint."
        case let .fileSizeMismatch(directory, file, expected, actual):
            return "\(directory)/\(file) has \(actual) bytes but the manifest records \(expected) (truncated or "
                   + "overwritten). Resume from an earlier checkpoint."
        case let .fileCorrupted(directory, file, expected, actual):
            return "\(directory)/\(file) is corrupted: sha256 \(actual) does not match the manifest's \(expected). "
                   + "Resume from an earlier checkpoint."
        case let .stateUnreadable(path, detail):
            return "\(path) cannot be decoded (\(detail)). The checkpoint was written by an incompatible version or "
                   + "is corrupt."
        case let .unexpectedSubdirectory(directory, name):
            return "checkpoint writer created subdirectory '\(name)' in \(directory); checkpoint files must be plain "
                   + "files at the top level."
        case let .reservedFileName(name):
            return "checkpoint writer created '\(name)', a name the checkpoint store writes itself. Use a different "
                   + "file name."
        case let .checkpointNotFound(reference, searched):
            return "no checkpoint '\(reference)' (looked for \(searched)). Pass a checkpoint directory, 'latest', "
                   + "'best', a step number or step-NNNNNN."
        case let .noCheckpoints(directory):
            return "\(directory) contains no checkpoints. Start a fresh run or point at another run directory."
        case let .latestCorrupt(directory, cause):
            return "the latest checkpoint \(directory) failed verification: \(cause) Re-run with fallback enabled to "
                   + "resume from the newest checkpoint that verifies."
        case let .noValidCheckpoint(directory, skipped):
            return "no checkpoint in \(directory) verifies; skipped: \(skipped.joined(separator: "; ")). Start a "
                   + "fresh run."
        case let .invalidStep(step):
            return "checkpoint step must be between 0 and 999999999, got \(step)."
        }
    }
}
