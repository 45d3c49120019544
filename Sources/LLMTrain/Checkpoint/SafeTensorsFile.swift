#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A validated safetensors file of float32 tensors. Opening it reads and checks only the header;
/// tensor data is read on demand straight into caller-provided memory.
public struct SafeTensorsFile {
    public struct TensorInfo: Equatable {
        public let name: String
        public let shape: [Int]
        public let elementCount: Int
        /// Byte range of the data, relative to the start of the data section.
        public let dataOffsets: Range<Int>
    }

    /// Same limit as the reference implementation: refuse to parse absurd headers.
    static let maximumHeaderLength: UInt64 = 100_000_000

    public let url: URL
    public let metadata: [String: String]
    /// Tensors in the order their data appears in the file.
    public let tensors: [TensorInfo]
    private let dataStart: Int

    public init(contentsOf url: URL) throws {
        let path = url.path
        let fd = try DurableFile.openFile(path, flags: O_RDONLY)
        defer { close(fd) }
        let fileSize = try DurableFile.size(fd, path: path)
        guard fileSize >= 8 else { throw CheckpointError.safeTensorsTooSmall(path: path, bytes: fileSize) }

        var lengthField: UInt64 = 0
        _ = try withUnsafeMutableBytes(of: &lengthField) { try DurableFile.read(fd, into: $0, at: 0, path: path) }
        let headerLength = UInt64(littleEndian: lengthField)
        guard headerLength <= SafeTensorsFile.maximumHeaderLength, headerLength <= UInt64(fileSize - 8) else {
            throw CheckpointError.safeTensorsBadHeaderLength(path: path, headerLength: headerLength, fileSize: fileSize)
        }
        var header = Data(count: Int(headerLength))
        _ = try header.withUnsafeMutableBytes { try DurableFile.read(fd, into: $0, at: 8, path: path) }

        let parsed = try SafeTensorsHeader.parse(header, path: path)
        let dataStart = 8 + Int(headerLength)
        let expectedSize = dataStart + (parsed.tensors.last?.dataOffsets.upperBound ?? 0)
        if expectedSize > fileSize {
            throw CheckpointError.safeTensorsTruncated(path: path, expectedBytes: expectedSize, actualBytes: fileSize)
        }
        if expectedSize < fileSize {
            throw CheckpointError.safeTensorsTrailingBytes(path: path, expectedBytes: expectedSize, actualBytes: fileSize)
        }
        self.url = url
        self.metadata = parsed.metadata
        self.tensors = parsed.tensors
        self.dataStart = dataStart
    }

    public func info(_ name: String) throws -> TensorInfo {
        guard let tensor = tensors.first(where: { $0.name == name }) else {
            throw CheckpointError.tensorNotFound(path: url.path, tensor: name)
        }
        return tensor
    }

    /// Copies tensor `name` into `destination`, which must hold exactly its element count.
    public func copy(_ name: String, into destination: UnsafeMutableBufferPointer<Float>) throws {
        let tensor = try info(name)
        guard destination.count == tensor.elementCount else {
            throw CheckpointError.elementCountMismatch(path: url.path, tensor: name, expected: tensor.elementCount, destination: destination.count)
        }
        let path = url.path
        let fd = try DurableFile.openFile(path, flags: O_RDONLY)
        defer { close(fd) }
        let got = try DurableFile.read(fd, into: UnsafeMutableRawBufferPointer(destination), at: dataStart + tensor.dataOffsets.lowerBound, path: path)
        // The file shrank after the header was validated (e.g. overwritten underneath us).
        guard got == tensor.dataOffsets.count else {
            throw CheckpointError.safeTensorsTruncated(path: path, expectedBytes: dataStart + tensor.dataOffsets.upperBound, actualBytes: dataStart + tensor.dataOffsets.lowerBound + got)
        }
    }

    /// Convenience for small tensors; large ones should use `copy(_:into:)` into their final home.
    public func read(_ name: String) throws -> [Float] {
        let count = try info(name).elementCount
        return try [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            try copy(name, into: buffer)
            initialized = count
        }
    }
}
