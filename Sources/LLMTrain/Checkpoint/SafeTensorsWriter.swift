#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import LLMData
import LLMSupport

#if _endian(big)
#error("safetensors stores little-endian data; the writer and reader copy Float memory as-is")
#endif

/// Writes float32 tensors in the safetensors format, byte-for-byte as the Python `safetensors`
/// library would: tensors ordered by name, compact JSON with `__metadata__` first, header padded
/// with spaces to a multiple of 8 bytes. Tensor data is written straight from the caller's
/// buffers, so a 100 MB parameter buffer is never copied.
public enum SafeTensorsWriter {
    public typealias Tensor = (name: String, shape: [Int], data: UnsafeBufferPointer<Float>)

    /// Creates (or truncates) the file at `url`, writes the tensors and fsyncs it.
    public static func write(_ tensors: [Tensor], metadata: [String: String] = [:], to url: URL) throws {
        let path = url.path
        let fd = try DurableFile.openFile(path, flags: O_WRONLY | O_CREAT | O_TRUNC)
        defer { close(fd) }
        try write(tensors, metadata: metadata, toDescriptor: fd, path: path)
        try DurableFile.sync(fd, path: path)
    }

    static func write(_ tensors: [Tensor], metadata: [String: String], toDescriptor fd: Int32, path: String) throws {
        let ordered = try validatedInOrder(tensors)
        let header = headerBytes(for: ordered, metadata: metadata)
        var length = UInt64(header.count).littleEndian
        try withUnsafeBytes(of: &length) { try DurableFile.writeAll(fd, $0, path: path) }
        try header.withUnsafeBytes { try DurableFile.writeAll(fd, $0, path: path) }
        for tensor in ordered {
            try DurableFile.writeAll(fd, UnsafeRawBufferPointer(tensor.data), path: path)
        }
    }

    /// The padded JSON header (without the 8-byte length prefix) for tensors already in order.
    static func headerBytes(for ordered: [Tensor], metadata: [String: String]) -> [UInt8] {
        var members: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
                .map { "\(jsonStringLiteral($0.key)):\(jsonStringLiteral($0.value))" }
            members.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for tensor in ordered {
            let end = offset + tensor.data.count * MemoryLayout<Float>.size
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            members.append("\(jsonStringLiteral(tensor.name)):{\"dtype\":\"F32\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var bytes = Array("{\(members.joined(separator: ","))}".utf8)
        // The data section starts 8-byte aligned so readers can map Float data in place.
        bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - bytes.count % 8) % 8))
        return bytes
    }

    /// Checks names and shapes, then orders by the UTF-8 bytes of the name as the Rust library does.
    private static func validatedInOrder(_ tensors: [Tensor]) throws -> [Tensor] {
        var seen = Set<String>()
        for tensor in tensors {
            if tensor.name == "__metadata__" {
                throw CheckpointError.invalidTensor(tensor: tensor.name, detail: "the name is reserved for file metadata")
            }
            if !seen.insert(tensor.name).inserted {
                throw CheckpointError.invalidTensor(tensor: tensor.name, detail: "the name appears more than once")
            }
            if tensor.shape.contains(where: { $0 < 0 }) {
                throw CheckpointError.invalidTensor(tensor: tensor.name, detail: "shape \(tensor.shape) has a "
                                                                                 + "negative dimension")
            }
            let count = tensor.shape.reduce(1, *)
            if count != tensor.data.count {
                throw CheckpointError.invalidTensor(tensor: tensor.name, detail: "shape \(tensor.shape) holds "
                                                                                 + "\(count) elements but the buffer "
                                                                                 + "has \(tensor.data.count)")
            }
        }
        return tensors.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }
}
