import Foundation
import LLMTrain

/// Writes a whole output directory or nothing: files go into a sibling staging directory, which
/// is fsynced and renamed into place. An existing directory is replaced only when `force` says
/// so, and is moved aside (then deleted) only once the new one is complete.
enum OutputDirectory {
    static func refuseExisting(_ output: URL, force: Bool) throws {
        if FileManager.default.fileExists(atPath: output.path) && !force {
            throw ExchangeError("\(output.path) already exists; choose another --output or pass --force to replace it")
        }
    }

    static func write(_ output: URL, force: Bool, _ fill: (URL) throws -> Void) throws {
        try refuseExisting(output, force: force)
        let fm = FileManager.default
        try fm.createDirectory(at: output.deletingLastPathComponent(), withIntermediateDirectories: true)
        let staging = URL(fileURLWithPath: output.path + ".tmp-\(getpid())")
        try? fm.removeItem(at: staging)
        try DurableFile.makeDirectory(staging.path)
        do {
            try fill(staging)
            for name in try fm.contentsOfDirectory(atPath: staging.path) {
                try DurableFile.sync(path: staging.appendingPathComponent(name).path)
            }
            try DurableFile.sync(path: staging.path)
            var aside: URL?
            if fm.fileExists(atPath: output.path) {
                aside = URL(fileURLWithPath: output.path + ".old-\(getpid())")
                try DurableFile.move(output.path, to: aside!.path)
            }
            try DurableFile.move(staging.path, to: output.path)
            try DurableFile.sync(path: output.deletingLastPathComponent().path)
            if let aside { try? fm.removeItem(at: aside) }
        } catch {
            try? fm.removeItem(at: staging)
            throw error
        }
    }

    static func writeJSON(_ object: Any, to url: URL) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        try (data + Data("\n".utf8)).write(to: url)
    }
}
