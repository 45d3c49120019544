import XCTest
@testable import LLMData

final class SHA256HasherTests: XCTestCase {
    func testKnownVectors() {
        XCTAssertEqual(SHA256Hasher.hexDigest([UInt8]()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256Hasher.hexDigest(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256Hasher.hexDigest(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256Hasher.hexDigest([UInt8](repeating: 0x61, count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testIncrementalUpdatesMatchOneShot() {
        let data = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var h = SHA256Hasher()
        for chunk in stride(from: 0, to: data.count, by: 37) { h.update(data[chunk..<min(chunk + 37, data.count)]) }
        XCTAssertEqual(h.finalize(), SHA256Hasher.hash(data))
    }

    func testSplitHashMatchesPythonGenerator() {
        // Values from Scripts/make_corpora.py's split_of / FNV-1a 64.
        XCTAssertEqual(CorpusSplit.fnv1a64("a".utf8), 0xaf63dc4c8601ec8c)
        XCTAssertEqual(CorpusSplit.fnv1a64([UInt8]()), 0xcbf29ce484222325)
    }
}
