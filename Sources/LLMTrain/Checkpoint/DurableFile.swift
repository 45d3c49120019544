#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Thin POSIX file helpers. Checkpoint durability needs fsync on files *and* directories and
/// positioned reads into caller memory, which FileHandle does not expose portably.
public enum DurableFile {
    /// Opens `path` and returns the descriptor; throws `CheckpointError.io` on failure.
    static func openFile(_ path: String, flags: Int32, mode: mode_t = 0o644) throws -> Int32 {
        let fd = open(path, flags | O_CLOEXEC, mode)
        guard fd >= 0 else { throw CheckpointError.posix(path: path, operation: "open") }
        return fd
    }

    /// Writes all of `bytes`, looping over short writes and EINTR.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        guard var cursor = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            // Cap each call: Linux write() transfers at most ~2 GB at once anyway.
            let written = write(fd, cursor, min(remaining, 1 << 30))
            if written < 0 {
                if errno == EINTR { continue }
                throw CheckpointError.posix(path: path, operation: "write")
            }
            cursor += written
            remaining -= written
        }
    }

    /// Reads exactly `buffer.count` bytes at `offset`; returns how many were available before EOF.
    static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int, path: String) throws -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var done = 0
        while done < buffer.count {
            let got = pread(fd, base + done, min(buffer.count - done, 1 << 30), off_t(offset + done))
            if got < 0 {
                if errno == EINTR { continue }
                throw CheckpointError.posix(path: path, operation: "read")
            }
            if got == 0 { break }
            done += got
        }
        return done
    }

    static func size(_ fd: Int32, path: String) throws -> Int {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw CheckpointError.posix(path: path, operation: "stat") }
        return Int(info.st_size)
    }

    static func sync(_ fd: Int32, path: String) throws {
        guard fsync(fd) == 0 else { throw CheckpointError.posix(path: path, operation: "fsync") }
    }

    /// fsyncs a file or directory by path. Directories must be synced for a rename or a newly
    /// created entry to survive a power loss.
    static func sync(path: String) throws {
        let fd = try openFile(path, flags: O_RDONLY)
        defer { close(fd) }
        try sync(fd, path: path)
    }

    /// fsyncs a file and returns its size, from the same descriptor so both describe one file.
    static func syncAndMeasure(path: String) throws -> Int {
        let fd = try openFile(path, flags: O_RDONLY)
        defer { close(fd) }
        try sync(fd, path: path)
        return try size(fd, path: path)
    }

    static func makeDirectory(_ path: String) throws {
        guard mkdir(path, 0o755) == 0 else { throw CheckpointError.posix(path: path, operation: "mkdir") }
    }

    /// Names in a directory, sorted, without "." and "..".
    static func entries(of path: String) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: path).sorted()
        } catch {
            throw CheckpointError.io(path: path, operation: "list directory", reason: error.localizedDescription)
        }
    }

    static func move(_ from: String, to: String) throws {
        guard rename(from, to) == 0 else {
            throw CheckpointError.posix(path: "\(from) -> \(to)", operation: "rename")
        }
    }

    /// Replaces `path` with `contents` so that readers see either the old or the new file, never
    /// a partial one: write a sibling temp file, fsync it, rename over, fsync the directory.
    public static func writeAtomically(_ contents: Data, to path: String) throws {
        let temp = path + ".tmp-\(getpid())"
        let fd = try openFile(temp, flags: O_WRONLY | O_CREAT | O_TRUNC)
        do {
            try contents.withUnsafeBytes { try writeAll(fd, $0, path: temp) }
            try sync(fd, path: temp)
            close(fd)
        } catch {
            close(fd)
            unlink(temp)
            throw error
        }
        try move(temp, to: path)
        try sync(path: (path as NSString).deletingLastPathComponent)
    }
}
