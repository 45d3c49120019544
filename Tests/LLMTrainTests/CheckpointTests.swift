import Foundation
import XCTest
@testable import LLMTrain
import LLMData
import LLMSupport

final class CheckpointTests: XCTestCase {
    private struct TrainerState: Codable, Equatable {
        var step: Int
        var tokensSeen: Int
    }

    private struct WriterFailed: Error {}

    private struct LossState: Codable {
        var lastLoss: Double
    }

    private var temp: TemporaryDirectory!
    private var store: CheckpointStore!

    override func setUpWithError() throws {
        temp = try TemporaryDirectory()
        store = try CheckpointStore(runDirectory: temp.url, keepLast: 2)
    }

    override func tearDown() {
        store = nil
        temp = nil
    }

    // MARK: save, verify, latest

    func testSaveWritesCompleteVerifiedCheckpoint() throws {
        let checkpoint = try save(step: 123)
        XCTAssertEqual(checkpoint.name, "step-000123")
        XCTAssertEqual(checkpoint.directory.deletingLastPathComponent().standardizedFileURL,
                       temp.url.appendingPathComponent("checkpoints").standardizedFileURL)

        let manifest = try checkpoint.verify()
        XCTAssertEqual(manifest.step, 123)
        XCTAssertEqual(manifest.files.map(\.name), ["model.safetensors", "optimizer.safetensors", "state.json"])
        let modelBytes = try Data(contentsOf: checkpoint.file("model.safetensors"))
        XCTAssertEqual(manifest.files[0].bytes, modelBytes.count)
        XCTAssertEqual(manifest.files[0].sha256, SHA256.hash(modelBytes))

        XCTAssertEqual(try checkpoint.loadState(TrainerState.self), TrainerState(step: 123, tokensSeen: 123_000))
        XCTAssertEqual(try SafeTensorsFile(contentsOf: checkpoint.file("model.safetensors")).read("params"), parameters(for: 123))
        XCTAssertEqual(try pointer("latest"), "step-000123")
        XCTAssertEqual(try store.latest(), checkpoint)
    }

    func testLatestFollowsNewestSave() throws {
        XCTAssertNil(try store.latest())
        XCTAssertNil(try store.latestValid(allowFallback: false))
        try save(step: 1)
        let second = try save(step: 2)
        XCTAssertEqual(try store.latest(), second)
        XCTAssertEqual(try store.latestValid(allowFallback: false)?.checkpoint, second)
    }

    func testResaveOfSameStepReplacesIt() throws {
        try save(step: 5, tokens: 1)
        let again = try save(step: 5, tokens: 2)
        try again.verify()
        XCTAssertEqual(try again.loadState(TrainerState.self).tokensSeen, 2)
        XCTAssertEqual(try entries(), ["latest", "step-000005"])
    }

    func testResolveAcceptsNamesStepsPathsAndPointers() throws {
        let first = try save(step: 10, validationLoss: 1.0)
        let second = try save(step: 20, validationLoss: 2.0)
        XCTAssertEqual(try store.resolve("latest"), second)
        XCTAssertEqual(try store.resolve("best"), first)
        XCTAssertEqual(try store.resolve("10"), first)
        XCTAssertEqual(try store.resolve("step-000020"), second)
        XCTAssertEqual(try store.resolve(second.directory.path).step, 20)
        XCTAssertThrowsError(try store.resolve("30")) { error in
            guard case CheckpointError.checkpointNotFound = error else { return XCTFail("\(error)") }
        }
    }

    func testSaveRejectsReservedNamesAndSubdirectories() throws {
        XCTAssertThrowsError(try store.save(step: 1, state: TrainerState(step: 1, tokensSeen: 0)) { dir in
            try Data().write(to: dir.appendingPathComponent("manifest.json"))
        }) { error in
            guard case CheckpointError.reservedFileName("manifest.json") = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try store.save(step: 1, state: TrainerState(step: 1, tokensSeen: 0)) { dir in
            try FileManager.default.createDirectory(at: dir.appendingPathComponent("nested"), withIntermediateDirectories: false)
        }) { error in
            guard case CheckpointError.unexpectedSubdirectory(_, "nested") = error else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(try entries(), [])
    }

    // MARK: retention and best

    func testRetentionKeepsLastTwoPlusBest() throws {
        try save(step: 100, validationLoss: 3.0)
        try save(step: 200, validationLoss: 1.5)   // best
        try save(step: 300, validationLoss: 2.0)
        try save(step: 400, validationLoss: 2.5)
        try save(step: 500)
        XCTAssertEqual(try store.checkpoints().map(\.step), [200, 400, 500])
        XCTAssertEqual(try store.best()?.step, 200)
        XCTAssertEqual(try pointer("best"), "step-000200")

        try save(step: 600, validationLoss: 1.0)   // new best; 200 may now go
        XCTAssertEqual(try store.checkpoints().map(\.step), [500, 600])
        XCTAssertEqual(try store.best()?.step, 600)
        XCTAssertEqual(try entries(), ["best", "latest", "step-000500", "step-000600"])
    }

    func testWorseValidationLossDoesNotMoveBest() throws {
        try save(step: 1, validationLoss: 1.0)
        try save(step: 2, validationLoss: 1.0)
        try save(step: 3, validationLoss: 4.0)
        XCTAssertEqual(try store.best()?.step, 1, "ties keep the earlier checkpoint")
    }

    func testNonFiniteValidationLossNeverBecomesBest() throws {
        try save(step: 1, validationLoss: .nan)
        XCTAssertNil(try store.best())
        try save(step: 2, validationLoss: 2.0)
        try save(step: 3, validationLoss: .nan)
        XCTAssertEqual(try store.best()?.step, 2)
    }

    func testStateWithNaNRoundTrips() throws {
        let checkpoint = try store.save(step: 1, state: LossState(lastLoss: .nan)) { _ in }
        XCTAssertTrue(try checkpoint.loadState(LossState.self).lastLoss.isNaN)
    }

    func testStepsBeyondSixDigitsOrderNumerically() throws {
        try save(step: 999_999)
        try save(step: 1_000_000)
        XCTAssertEqual(try store.checkpoints().map(\.name), ["step-999999", "step-1000000"])
        XCTAssertEqual(try store.latest()?.step, 1_000_000)
    }

    // MARK: corruption

    func testFlippedByteIsReportedByFileName() throws {
        let checkpoint = try save(step: 7)
        let url = checkpoint.file("optimizer.safetensors")
        var bytes = try Data(contentsOf: url)
        bytes[bytes.count - 2] ^= 0x01
        try bytes.write(to: url)
        XCTAssertThrowsError(try checkpoint.verify()) { error in
            guard case CheckpointError.fileCorrupted(_, "optimizer.safetensors", _, _) = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("optimizer.safetensors"))
        }
    }

    func testTruncatedFileIsReportedByFileName() throws {
        let checkpoint = try save(step: 7)
        let url = checkpoint.file("model.safetensors")
        let bytes = try Data(contentsOf: url)
        try bytes.prefix(bytes.count - 4).write(to: url)
        XCTAssertThrowsError(try checkpoint.verify()) { error in
            guard case CheckpointError.fileSizeMismatch(_, "model.safetensors", bytes.count, bytes.count - 4) = error else { return XCTFail("\(error)") }
        }
    }

    func testDeletedFileIsReportedByFileName() throws {
        let checkpoint = try save(step: 7)
        try FileManager.default.removeItem(at: checkpoint.file("state.json"))
        XCTAssertThrowsError(try checkpoint.verify()) { error in
            guard case CheckpointError.fileMissing(_, "state.json") = error else { return XCTFail("\(error)") }
        }
    }

    func testMissingManifestMeansIncomplete() throws {
        let checkpoint = try save(step: 7)
        try FileManager.default.removeItem(at: checkpoint.file("manifest.json"))
        XCTAssertThrowsError(try checkpoint.verify()) { error in
            guard case CheckpointError.manifestMissing = error else { return XCTFail("\(error)") }
        }
    }

    func testFallbackToPreviousOnlyWhenAsked() throws {
        let good = try save(step: 1)
        let corrupt = try save(step: 2)
        try FileManager.default.removeItem(at: corrupt.file("model.safetensors"))

        XCTAssertThrowsError(try store.latestValid(allowFallback: false)) { error in
            guard case CheckpointError.latestCorrupt(corrupt.directory.path, _) = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("model.safetensors"), "\(error)")
        }
        let resumed = try XCTUnwrap(try store.latestValid(allowFallback: true))
        XCTAssertEqual(resumed.checkpoint, good)
        XCTAssertEqual(resumed.skipped.map(\.checkpoint), [corrupt])
        guard case CheckpointError.fileMissing(_, "model.safetensors") = resumed.skipped[0].reason else {
            return XCTFail("\(resumed.skipped[0].reason)")
        }
    }

    func testFallbackFailsWhenNothingVerifies() throws {
        let only = try save(step: 1)
        try FileManager.default.removeItem(at: only.file("state.json"))
        XCTAssertThrowsError(try store.latestValid(allowFallback: true)) { error in
            guard case CheckpointError.noValidCheckpoint = error else { return XCTFail("\(error)") }
        }
    }

    // MARK: crashes

    func testWriterThatThrowsLeavesLatestOnPreviousCheckpoint() throws {
        let previous = try save(step: 1)
        XCTAssertThrowsError(try store.save(step: 2, state: TrainerState(step: 2, tokensSeen: 0)) { dir in
            try Data("partial".utf8).write(to: dir.appendingPathComponent("model.safetensors"))
            throw WriterFailed()
        }) { error in
            XCTAssertTrue(error is WriterFailed, "\(error)")
        }
        XCTAssertEqual(try pointer("latest"), "step-000001")
        XCTAssertEqual(try store.latestValid(allowFallback: false)?.checkpoint, previous)
        XCTAssertEqual(try entries(), ["latest", "step-000001"], "the staging directory is removed")
    }

    func testLeftoverTemporaryDirectoryIsIgnoredAndCleanedUp() throws {
        let previous = try save(step: 1)
        // What a process killed mid-save leaves behind: a staging directory, even with a manifest.
        let leftover = temp.url.appendingPathComponent("checkpoints/step-000002.tmp-99999")
        try FileManager.default.copyItem(at: previous.directory, to: leftover)
        try Data("step-000002\n".utf8).write(to: temp.url.appendingPathComponent("checkpoints/latest.tmp-99999"))

        XCTAssertEqual(try store.checkpoints().map(\.step), [1])
        XCTAssertEqual(try store.latest(), previous)
        XCTAssertEqual(try store.latestValid(allowFallback: true)?.checkpoint, previous)
        XCTAssertThrowsError(try store.resolve("2"))

        try save(step: 3)
        XCTAssertEqual(try entries(), ["latest", "step-000001", "step-000003"])
    }

    func testMissingLatestPointerFallsBackToHighestStep() throws {
        try save(step: 1)
        let second = try save(step: 2)
        try FileManager.default.removeItem(at: temp.url.appendingPathComponent("checkpoints/latest"))
        XCTAssertEqual(try store.latest(), second)
    }

    // MARK: helpers

    private func parameters(for step: Int) -> [Float] {
        (0..<64).map { Float($0 + step) * 0.01 }
    }

    /// Saves a checkpoint shaped like the trainer's: model and optimizer safetensors plus state.
    @discardableResult
    private func save(step: Int, tokens: Int? = nil, validationLoss: Double? = nil) throws -> Checkpoint {
        let params = parameters(for: step)
        let moments = params.map { $0 * 2 }
        let state = TrainerState(step: step, tokensSeen: tokens ?? step * 1000)
        return try store.save(step: step, state: state, validationLoss: validationLoss) { dir in
            try params.withUnsafeBufferPointer { buffer in
                try SafeTensorsWriter.write([("params", [buffer.count], buffer)], metadata: ["step": "\(step)"],
                                            to: dir.appendingPathComponent("model.safetensors"))
            }
            try moments.withUnsafeBufferPointer { buffer in
                try SafeTensorsWriter.write([("adam.m", [buffer.count], buffer)],
                                            to: dir.appendingPathComponent("optimizer.safetensors"))
            }
        }
    }

    private func pointer(_ name: String) throws -> String {
        try String(contentsOf: temp.url.appendingPathComponent("checkpoints/\(name)"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func entries() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: temp.url.appendingPathComponent("checkpoints").path).sorted()
    }
}
