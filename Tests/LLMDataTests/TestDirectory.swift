import Foundation

/// A fresh temporary directory per test, removed by the test's `defer`.
func makeTestDirectory() throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("llmdata-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}
