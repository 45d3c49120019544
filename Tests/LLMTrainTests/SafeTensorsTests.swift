import Foundation
import XCTest
@testable import LLMTrain

final class SafeTensorsTests: XCTestCase {
    private var temp: TemporaryDirectory!

    override func setUpWithError() throws {
        temp = try TemporaryDirectory()
    }

    override func tearDown() {
        temp = nil
    }

    // MARK: round trip and format

    func testRoundTripSeveralTensorsShapesAndMetadata() throws {
        let url = temp.url.appendingPathComponent("model.safetensors")
        let weights: [Float] = (0..<24).map { Float($0) * 0.5 - 3 }
        let bias: [Float] = [1, 2, 3]
        let scalar: [Float] = [42]
        let empty: [Float] = []
        let metadata = ["step": "123", "format": "pt", "quote\"and\\slash/": "line\nbreak ✓"]
        try write([("h.0.weight", [2, 3, 4], weights), ("h.0.bias", [3], bias), ("scalar", [], scalar), ("empty", [0, 5], empty)],
                  metadata: metadata, to: url)

        let file = try SafeTensorsFile(contentsOf: url)
        XCTAssertEqual(file.metadata, metadata)
        XCTAssertEqual(file.tensors.map(\.name), ["empty", "h.0.bias", "h.0.weight", "scalar"], "data is laid out in name order, like the Python library")
        XCTAssertEqual(try file.info("h.0.weight").shape, [2, 3, 4])
        XCTAssertEqual(try file.info("scalar").shape, [])
        XCTAssertEqual(try file.read("h.0.weight"), weights)
        XCTAssertEqual(try file.read("h.0.bias"), bias)
        XCTAssertEqual(try file.read("scalar"), scalar)
        XCTAssertEqual(try file.read("empty"), empty)
    }

    func testCopyIntoCallerBufferChecksElementCount() throws {
        let url = temp.url.appendingPathComponent("m.safetensors")
        try write([("w", [4], [1, 2, 3, 4])], to: url)
        let file = try SafeTensorsFile(contentsOf: url)

        var destination = [Float](repeating: 0, count: 4)
        try destination.withUnsafeMutableBufferPointer { try file.copy("w", into: $0) }
        XCTAssertEqual(destination, [1, 2, 3, 4])

        var tooSmall = [Float](repeating: 0, count: 3)
        XCTAssertThrowsError(try tooSmall.withUnsafeMutableBufferPointer { try file.copy("w", into: $0) }) { error in
            guard case CheckpointError.elementCountMismatch(_, "w", 4, 3) = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try file.read("missing")) { error in
            guard case CheckpointError.tensorNotFound(_, "missing") = error else { return XCTFail("\(error)") }
        }
    }

    /// Bytes assembled by hand from the format description, independent of our writer.
    func testWriterMatchesHandBuiltFixtureAndReaderReadsIt() throws {
        let header = #"{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1,1],"data_offsets":[8,12]}}"#
        var fixture: [UInt8] = [136, 0, 0, 0, 0, 0, 0, 0]   // 135 bytes of JSON + 1 space of padding
        fixture += Array(header.utf8) + [0x20]
        fixture += [0x00, 0x00, 0x80, 0x3f]   // 1.0
        fixture += [0x00, 0x00, 0x00, 0xc0]   // -2.0
        fixture += [0x00, 0x00, 0x00, 0x3f]   // 0.5

        let written = temp.url.appendingPathComponent("written.safetensors")
        try write([("b", [1, 1], [0.5]), ("a", [2], [1, -2])], metadata: ["k": "v"], to: written)
        XCTAssertEqual(Array(try Data(contentsOf: written)), fixture)

        let fixtureURL = try store(fixture, "fixture.safetensors")
        let file = try SafeTensorsFile(contentsOf: fixtureURL)
        XCTAssertEqual(file.metadata, ["k": "v"])
        XCTAssertEqual(try file.read("a"), [1, -2])
        XCTAssertEqual(try file.read("b"), [0.5])
        XCTAssertEqual(try file.info("b").shape, [1, 1])
    }

    func testWriterRejectsShapeThatDoesNotMatchBuffer() throws {
        let url = temp.url.appendingPathComponent("bad.safetensors")
        XCTAssertThrowsError(try write([("w", [2, 2], [1, 2, 3])], to: url)) { error in
            guard case CheckpointError.invalidTensor("w", _) = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try write([("w", [1], [1]), ("w", [1], [2])], to: url)) { error in
            guard case CheckpointError.invalidTensor("w", _) = error else { return XCTFail("\(error)") }
        }
    }

    // MARK: malformed files

    func testTooShortForLengthField() throws {
        let url = try store([1, 2, 3], "short.safetensors")
        assertOpenFails(url) { if case .safeTensorsTooSmall = $0 { return true }; return false }
    }

    func testHeaderLengthLargerThanFile() throws {
        var bytes = validFile()
        bytes.replaceSubrange(0..<8, with: [0xff, 0xff, 0, 0, 0, 0, 0, 0])
        let url = try store(bytes, "length.safetensors")
        assertOpenFails(url) { if case .safeTensorsBadHeaderLength = $0 { return true }; return false }
    }

    func testHeaderLengthAbsurd() throws {
        var bytes = validFile()
        bytes.replaceSubrange(0..<8, with: [0, 0, 0, 0, 0, 0, 0, 0x80])
        let url = try store(bytes, "huge.safetensors")
        assertOpenFails(url) { if case .safeTensorsBadHeaderLength = $0 { return true }; return false }
    }

    func testInvalidJSON() throws {
        let url = try store(fileWithHeader(#"{"a":{"dtype":"F32","#), "json.safetensors")
        assertOpenFails(url) { if case .safeTensorsBadJSON = $0 { return true }; return false }
    }

    func testHeaderNotAnObject() throws {
        let url = try store(fileWithHeader("[1,2]"), "array.safetensors")
        assertOpenFails(url) { if case .safeTensorsBadJSON = $0 { return true }; return false }
    }

    func testWrongDtypeNamesTensor() throws {
        let url = try store(fileWithHeader(#"{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, dataBytes: 4), "dtype.safetensors")
        assertOpenFails(url) {
            if case let .safeTensorsUnsupportedDtype(path, tensor, dtype) = $0 {
                return path == url.path && tensor == "a" && dtype == "F16"
            }
            return false
        }
    }

    func testMissingFieldNamesTensor() throws {
        let url = try store(fileWithHeader(#"{"a":{"dtype":"F32","data_offsets":[0,8]}}"#, dataBytes: 8), "field.safetensors")
        assertOpenFails(url) { if case .safeTensorsBadEntry(_, "a", _) = $0 { return true }; return false }
    }

    func testOffsetsInconsistentWithShape() throws {
        let url = try store(fileWithHeader(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, dataBytes: 8), "shape.safetensors")
        assertOpenFails(url) { if case .safeTensorsBadOffsets(_, "a", _) = $0 { return true }; return false }
    }

    func testOffsetsOutOfRangeOfFile() throws {
        let url = try store(fileWithHeader(#"{"a":{"dtype":"F32","shape":[1000],"data_offsets":[0,4000]}}"#, dataBytes: 8), "range.safetensors")
        assertOpenFails(url) { if case .safeTensorsTruncated(url.path, _, _) = $0 { return true }; return false }
    }

    func testOverlappingTensors() throws {
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        let url = try store(fileWithHeader(header, dataBytes: 12), "overlap.safetensors")
        assertOpenFails(url) { if case .safeTensorsBadOffsets(_, "b", _) = $0 { return true }; return false }
    }

    func testGapBetweenTensors() throws {
        let header = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#
        let url = try store(fileWithHeader(header, dataBytes: 12), "gap.safetensors")
        assertOpenFails(url) { if case .safeTensorsBadOffsets(_, "b", _) = $0 { return true }; return false }
    }

    func testNegativeOffset() throws {
        let url = try store(fileWithHeader(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}"#, dataBytes: 0), "negative.safetensors")
        assertOpenFails(url) { if case .safeTensorsBadEntry(_, "a", _) = $0 { return true }; return false }
    }

    func testTruncatedData() throws {
        let bytes = validFile()
        let url = try store(Array(bytes.dropLast(3)), "truncated.safetensors")
        assertOpenFails(url) {
            if case let .safeTensorsTruncated(path, expected, actual) = $0 {
                return path == url.path && expected == bytes.count && actual == bytes.count - 3
            }
            return false
        }
    }

    func testTrailingGarbage() throws {
        let url = try store(validFile() + [1, 2, 3, 4], "trailing.safetensors")
        assertOpenFails(url) { if case .safeTensorsTrailingBytes = $0 { return true }; return false }
    }

    func testErrorMessagesNameTheFile() throws {
        let url = try store(fileWithHeader("nope"), "named.safetensors")
        XCTAssertThrowsError(try SafeTensorsFile(contentsOf: url)) { error in
            XCTAssertTrue("\(error)".contains(url.path), "\(error)")
        }
    }

    // MARK: Python interoperability (run by Scripts/check-safetensors.py, skipped otherwise)

    /// Reads the file the Python script wrote and writes the same tensors back for it to compare.
    func testPythonInterop() throws {
        guard let directory = ProcessInfo.processInfo.environment["SAFETENSORS_INTEROP_DIR"] else {
            throw XCTSkip("set by Scripts/check-safetensors.py")
        }
        let base = URL(fileURLWithPath: directory, isDirectory: true)
        let file = try SafeTensorsFile(contentsOf: base.appendingPathComponent("python-written.safetensors"))
        XCTAssertEqual(try file.read("wte"), (0..<12).map { Float($0) * 0.25 - 1 })
        XCTAssertEqual(try file.read("ln_f.bias"), [0.5, -0.5, 1e-3])
        XCTAssertEqual(try file.read("scalar"), [3.5])
        XCTAssertEqual(try file.info("wte").shape, [4, 3])
        XCTAssertEqual(try file.info("scalar").shape, [])

        let arrays = try file.tensors.map { try file.read($0.name) }
        try withBuffers(arrays) { buffers in
            let tensors = zip(file.tensors, buffers).map { (name: $0.name, shape: $0.shape, data: $1) }
            try SafeTensorsWriter.write(tensors, metadata: file.metadata, to: base.appendingPathComponent("swift-written.safetensors"))
        }
    }

    // MARK: helpers

    private func write(_ tensors: [(String, [Int], [Float])], metadata: [String: String] = [:], to url: URL) throws {
        try withBuffers(tensors.map(\.2)) { buffers in
            let refs = zip(tensors, buffers).map { (name: $0.0, shape: $0.1, data: $1) }
            try SafeTensorsWriter.write(refs, metadata: metadata, to: url)
        }
    }

    private func withBuffers(_ arrays: [[Float]], _ body: ([UnsafeBufferPointer<Float>]) throws -> Void) throws {
        let buffers = arrays.map { array -> UnsafeMutableBufferPointer<Float> in
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: array.count)
            _ = buffer.initialize(from: array)
            return buffer
        }
        defer { buffers.forEach { $0.deallocate() } }
        try body(buffers.map { UnsafeBufferPointer($0) })
    }

    private func store(_ bytes: [UInt8], _ name: String) throws -> URL {
        let url = temp.url.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    private func validFile() -> [UInt8] {
        fileWithHeader(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, dataBytes: 8)
    }

    private func fileWithHeader(_ json: String, dataBytes: Int = 0) -> [UInt8] {
        let header = Array(json.utf8)
        var length = UInt64(header.count).littleEndian
        return withUnsafeBytes(of: &length) { Array($0) } + header + [UInt8](repeating: 0, count: dataBytes)
    }

    private func assertOpenFails(_ url: URL, file: StaticString = #filePath, line: UInt = #line,
                                 _ matches: (CheckpointError) -> Bool) {
        XCTAssertThrowsError(try SafeTensorsFile(contentsOf: url), file: file, line: line) { error in
            guard let error = error as? CheckpointError, matches(error) else {
                return XCTFail("unexpected error: \(error)", file: file, line: line)
            }
            XCTAssertTrue(error.description.contains(url.lastPathComponent), "message must name the file: \(error)", file: file, line: line)
        }
    }
}
