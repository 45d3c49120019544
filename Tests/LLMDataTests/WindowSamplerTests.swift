import XCTest
@testable import LLMData

final class WindowSamplerTests: XCTestCase {
    var dir: URL!
    var file: TokenFile!

    override func setUpWithError() throws {
        dir = try makeTestDirectory()
        let url = dir.appendingPathComponent("seq.bin")
        try TokenFile.write((0..<1001).map { Int32($0) }, vocabSize: 2000, to: url)
        file = try TokenFile(url: url)
    }

    override func tearDown() {
        file = nil
        try? FileManager.default.removeItem(at: dir)
    }

    func sample(_ s: WindowSampler, _ g: Int) -> (inputs: [Int32], targets: [Int32]) {
        var inputs = [Int32](repeating: -1, count: s.sequenceLength)
        var targets = [Int32](repeating: -1, count: s.sequenceLength)
        inputs.withUnsafeMutableBufferPointer { i in
            targets.withUnsafeMutableBufferPointer { t in s.fill(sample: g, inputs: i.baseAddress!, targets: t.baseAddress!) }
        }
        return (inputs, targets)
    }

    func testTargetsAreInputsShiftedByOne() throws {
        let s = try WindowSampler(tokens: file, sequenceLength: 10, seed: 1)
        XCTAssertEqual(s.windowCount, 100)
        for g in [0, 57, 99, 100, 345] {
            let (inputs, targets) = sample(s, g)
            XCTAssertEqual(inputs.first! % 10, 0, "windows start at multiples of the sequence length")
            XCTAssertEqual(inputs, (0..<10).map { inputs[0] + Int32($0) })
            XCTAssertEqual(targets, inputs.map { $0 + 1 })
        }
    }

    func testEachEpochVisitsEveryWindowOnceInADifferentOrder() throws {
        let s = try WindowSampler(tokens: file, sequenceLength: 10, seed: 42)
        let epoch0 = (0..<100).map { sample(s, $0).inputs[0] / 10 }
        let epoch1 = (100..<200).map { sample(s, $0).inputs[0] / 10 }
        XCTAssertEqual(Set(epoch0), Set(0..<100))
        XCTAssertEqual(Set(epoch1), Set(0..<100))
        XCTAssertNotEqual(epoch0, epoch1)
        XCTAssertNotEqual(epoch0, Array(0..<100))
    }

    func testOrderDependsOnlyOnSeedAndSampleIndex() throws {
        let a = try WindowSampler(tokens: file, sequenceLength: 10, seed: 7)
        let b = try WindowSampler(tokens: file, sequenceLength: 10, seed: 7)
        let c = try WindowSampler(tokens: file, sequenceLength: 10, seed: 8)
        // b jumps around epochs (as a resumed run would); it must still agree with a.
        for g in [350, 3, 199, 0, 350, 1234] { XCTAssertEqual(sample(a, g).inputs, sample(b, g).inputs) }
        XCTAssertNotEqual((0..<20).map { sample(a, $0).inputs[0] }, (0..<20).map { sample(c, $0).inputs[0] })
    }

    func testTooFewTokensIsAnError() throws {
        XCTAssertEqual(try WindowSampler(tokens: file, sequenceLength: 1000, seed: 0).windowCount, 1)
        XCTAssertThrowsError(try WindowSampler(tokens: file, sequenceLength: 1001, seed: 0)) { error in
            XCTAssertEqual(error as? DataError, .tooFewTokens(path: file.url.path, count: 1001, needed: 1002))
            XCTAssertTrue("\(error)".contains("1001 tokens, but a window needs at least 1002"))
        }
    }
}
