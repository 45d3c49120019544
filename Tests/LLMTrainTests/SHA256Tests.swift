import Foundation
import XCTest
@testable import LLMTrain

final class SHA256Tests: XCTestCase {
    // NIST FIPS 180-4 example vectors.
    func testEmptyMessage() {
        XCTAssertEqual(SHA256.hash([UInt8]()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    func testABC() {
        XCTAssertEqual(SHA256.hash(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    func test448BitMessage() {
        let message = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
        XCTAssertEqual(SHA256.hash(Array(message.utf8)), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    func testOneMillionAsInUnevenChunks() {
        // Uneven chunk sizes exercise the carry-over of partial blocks between updates.
        var hasher = SHA256()
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 997)
        var remaining = 1_000_000
        while remaining > 0 {
            let take = min(remaining, chunk.count)
            hasher.update(chunk[0..<take])
            remaining -= take
        }
        XCTAssertEqual(SHA256.hexDigest(hasher.finalize()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testFileHashMatchesInMemoryHashAcrossChunkBoundary() throws {
        let directory = try TemporaryDirectory()
        let url = directory.url.appendingPathComponent("blob")
        let bytes = (0..<(1 << 20) + 4321).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        try Data(bytes).write(to: url)
        XCTAssertEqual(try SHA256.hash(fileAt: url), SHA256.hash(bytes))
    }
}

/// A fresh directory under the system temp directory, removed when the test ends.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("llmtrain-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }
}
