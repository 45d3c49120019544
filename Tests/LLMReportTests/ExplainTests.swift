import LLMData
import LLMModel
import LLMReport
import XCTest

final class ExplainTests: XCTestCase {
    /// The 256 single bytes, then "a" + the first byte of 服 (a merge across a character).
    func byteTokenizer() throws -> BPETokenizer {
        try BPETokenizer(tokenBytes: (0..<256).map { [UInt8($0)] } + [[0x61, 0xE6]], merges: [(0x61, 0xE6)], specialTokens: [:])
    }

    func testTokensShowWholeCharactersAndMarkSplitOnes() throws {
        let tokenizer = try byteTokenizer()
        let post = "a😍服"
        let pieces = TokenPiece.pieces(tokenizer.encode(post), tokenizer: tokenizer)
        XCTAssertEqual(pieces.map(\.text), ["", "", "", "", "😍", "", "", "服"].enumerated().map { $0 == 0 ? "a" : $1 })
        XCTAssertEqual(pieces.map(\.label), ["a", "‹f0›", "‹9f›", "‹98›", "😍", "‹e6›", "‹9c›", "服"])
        XCTAssertEqual(pieces.map(\.text).joined(), post, "read in order, the tokens read the post")
        // One token holding "a" and the first byte of 服: both the letter and the marker.
        let merged = TokenPiece.pieces([256, 0x9C, 0x8D], tokenizer: tokenizer)
        XCTAssertEqual(merged.map(\.label), ["a‹e6›", "‹9c›", "服"])
        XCTAssertEqual(merged.map(\.partial), [true, true, false])
        // Broken bytes become U+FFFD rather than vanishing.
        XCTAssertEqual(TokenPiece.pieces([0xE6, 0x61], tokenizer: tokenizer).map(\.text), ["\u{FFFD}", "a"])
    }

    /// Every map of a random model: rows are probability distributions over earlier tokens.
    func testAttentionRowsSumToOneAndAreCausal() throws {
        let config = GPTConfig(vocabSize: 300, contextLength: 16, layers: 2, heads: 3, modelDim: 24)
        let tokens = TokenPiece.pieces([5, 77, 200, 3, 3, 150, 299, 42, 8], tokenizer: try byteTokenizer())
        let model = GPT(config: config, batchSize: 1, sequenceLength: tokens.count, seed: 7)
        // Larger weights than GPT-2's init, so the attention is far from uniform.
        for i in 0..<model.parameterCount { model.parameters[i] *= 3 }
        let maps = AttentionMaps(model: model, tokens: tokens)
        var badRows = 0, acausal = 0, firstProblem: String?
        var maxima: [Double] = []
        for layer in 0..<2 {
            for head in 0..<3 {
                let map = maps.map(layer: layer, head: head)
                for (q, row) in map.enumerated() {
                    let sum = row.reduce(0, +)
                    if abs(sum - 1) > 1e-5 { badRows += 1; firstProblem = firstProblem ?? "layer \(layer) head \(head) row \(q) sums to \(sum)" }
                    for k in (q + 1)..<row.count where row[k] != 0 {
                        acausal += 1
                        firstProblem = firstProblem ?? "layer \(layer) head \(head) query \(q) attends to later key "
                                                       + "\(k): \(row[k])"
                    }
                    if row.contains(where: { $0 < 0 }) { badRows += 1 }
                    maxima.append(row.max()!)
                }
            }
        }
        XCTAssertEqual(badRows, 0, firstProblem ?? "")
        XCTAssertEqual(acausal, 0, firstProblem ?? "")
        XCTAssertGreaterThan(maxima.filter { $0 < 0.9 }.count, maxima.count / 3, "many rows spread their attention")
        XCTAssertGreaterThan(Set(maxima.map { ($0 * 1000).rounded() }).count, 10, "rows differ")
        let output = try AttentionOutput(maps: maps, source: "test", normalizedPost: "", layer: nil, head: 2)
        XCTAssertEqual(output.layers, [0, 1])
        XCTAssertThrowsError(try AttentionOutput(maps: maps, source: "test", normalizedPost: "", layer: 2, head: nil)) {
            XCTAssertTrue("\($0)".contains("--layer 2: the model has 2 layers, numbered 0 to 1"), "\($0)")
        }
    }
}
