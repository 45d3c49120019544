import Foundation
import XCTest

/// Runs the project's real binaries, alone or under `mpirun`, and captures what they print.
///
/// Binaries come from `LLM_TRAIN_BIN_DIR` (Scripts/test.sh points it at the release build) or
/// else from the directory holding this test bundle (the debug build of `swift build`).
enum Launcher {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
        var output: String { stdout + stderr }
    }

    static func binary(_ name: String) throws -> URL {
        let directory = ProcessInfo.processInfo.environment["LLM_TRAIN_BIN_DIR"].map { URL(fileURLWithPath: $0) }
            ?? Bundle.main.bundleURL
        let url = directory.appendingPathComponent(name)
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            // Scripts/test.sh sets LLM_TRAIN_BIN_DIR: there a missing binary is a failure, never a
            // green skip (a wrong directory would otherwise pass every end-to-end test).
            if ProcessInfo.processInfo.environment["LLM_TRAIN_BIN_DIR"] != nil {
                throw LauncherError("\(url.path) does not exist or is not executable: LLM_TRAIN_BIN_DIR must name the "
                                    + "build's bin directory")
            }
            throw XCTSkip("\(url.path) is not built (run `swift build` first, or set LLM_TRAIN_BIN_DIR)")
        }
        return url
    }

    /// This process's environment without Open MPI's own variables: MPIBridgeTests initialise MPI
    /// in the test process (as a singleton), which sets OMPI_/PMIX_ variables that would make a
    /// child mpirun believe it runs inside that job, and fail at once.
    static var inheritedEnvironment: [String: String] {
        ProcessInfo.processInfo.environment.filter { key, _ in
            !["OMPI_", "PMIX_", "OPAL_", "ORTE_"].contains { key.hasPrefix($0) }
        }
    }

    /// Environment Open MPI needs here: root, oversubscription, one BLAS thread per rank.
    static let mpiEnvironment = [
        "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
        "OMPI_MCA_rmaps_base_oversubscribe": "1", "OPENBLAS_NUM_THREADS": "1",
    ]

    /// `mpirun -n ranks BINARY ARGS...`
    static func mpirun(_ ranks: Int, _ name: String, _ arguments: [String], timeout: Double = 300,
                       directory: URL? = nil) throws -> Result {
        try run(URL(fileURLWithPath: "/usr/bin/mpirun"), ["-n", "\(ranks)", try binary(name).path] + arguments,
                environment: mpiEnvironment, timeout: timeout, directory: directory)
    }

    static func run(_ name: String, _ arguments: [String], timeout: Double = 300, stdin: String? = nil,
                    environment: [String: String] = [:], directory: URL? = nil) throws -> Result {
        try run(try binary(name), arguments, environment: mpiEnvironment.merging(environment) { $1 },
                timeout: timeout, stdin: stdin, directory: directory)
    }

    static func run(_ executable: URL, _ arguments: [String], environment: [String: String],
                    timeout: Double, stdin: String? = nil, directory: URL? = nil,
                    started: ((Process) -> Void)? = nil) throws -> Result {
        let process = Process()
        if let directory { process.currentDirectoryURL = directory }
        process.executableURL = executable
        process.arguments = arguments
        process.environment = inheritedEnvironment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        // Drain both pipes concurrently so a chatty child never blocks on a full pipe.
        let captured = [Captured(), Captured()]
        let group = DispatchGroup()
        for (pipe, capture) in zip([out, err], captured) {
            DispatchQueue.global().async(group: group) {
                capture.data = pipe.fileHandleForReading.readDataToEndOfFile()
            }
        }
        try process.run()
        started?(process)
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? input.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            process.terminate()
            XCTFail("\(executable.lastPathComponent) \(arguments.joined(separator: " ")) timed out after \(timeout) s")
        }
        process.waitUntilExit()
        group.wait()
        return Result(status: process.terminationStatus,
                      stdout: String(decoding: captured[0].data, as: UTF8.self),
                      stderr: String(decoding: captured[1].data, as: UTF8.self))
    }

    /// Written by one reader thread, read after `group.wait()`: no concurrent access.
    private final class Captured: @unchecked Sendable {
        var data = Data()
    }
}

/// A test-harness failure (not a product error): the message says what to fix.
struct LauncherError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
