import Foundation
import XCTest

/// The hosts of Scripts/netns-cluster.sh, for one test: built in setUp, removed in teardown (or,
/// when a killed test process could not, by the next test process). Each test process has its own
/// prefix, so concurrent ones never share a namespace.
struct NamespaceCluster {
    let prefix: String
    let directory: URL
    let hosts: [String]
    private static let script = repositoryRoot.appendingPathComponent("Scripts/netns-cluster.sh")

    /// Skips (saying why) where namespaces cannot be made: not root, no `ip`, or a sandbox that
    /// refuses them.
    init(_ testCase: XCTestCase, hosts count: Int) throws {
        guard getuid() == 0 else {
            throw XCTSkip("network namespaces need root (CAP_NET_ADMIN); running as uid \(getuid())")
        }
        guard ["/usr/sbin/ip", "/usr/bin/ip", "/sbin/ip"].contains(where: FileManager.default.isExecutableFile) else {
            throw XCTSkip("iproute2's `ip` is not installed (apt-get install iproute2)")
        }
        self.init(prefix: "llmt\(getpid())", hosts: count)
        try Self.removeLeftovers()
        let up = try run(["up", "\(count)"])
        let cluster = self
        testCase.addTeardownBlock { _ = try? cluster.run(["down"]) }
        guard up.status == 0 else { throw XCTSkip("network namespaces refused here: \(up.output)") }
    }

    private init(prefix: String, hosts count: Int) {
        self.prefix = prefix
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-netns-cluster")
        hosts = (1...count).map { "\(prefix)-node\($0)" }
    }

    /// Clusters of test processes that no longer exist (killed before their teardown ran).
    private static func removeLeftovers() throws {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? []
        let pids = Set(names.compactMap { name -> Int32? in
            guard name.hasPrefix("llmt"), let dash = name.firstIndex(of: "-") else { return nil }
            return Int32(name[name.index(name.startIndex, offsetBy: 4)..<dash])
        })
        for pid in pids where kill(pid, 0) != 0 && errno == ESRCH {
            _ = try NamespaceCluster(prefix: "llmt\(pid)", hosts: 1).run(["down"])
        }
    }

    var hostfile: String { directory.appendingPathComponent("hostfile").path }

    /// The Open MPI arguments `up` wrote: rsh agent, TCP only, the bridge subnet only, timeouts.
    func mpirunArguments() throws -> [String] {
        try String(contentsOf: directory.appendingPathComponent("mpirun-args"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
    }

    /// Runs `command` on `host`, as on a cluster's head node.
    func exec(on host: String, _ command: [String], timeout: Double,
              started: ((Process) -> Void)? = nil) throws -> Launcher.Result {
        try Launcher.run(Self.script, ["exec", host] + command, environment: environment, timeout: timeout,
                         directory: repositoryRoot, started: started)
    }

    /// The host disappears: its link goes down, then everything running in it is killed.
    func fail(_ host: String) throws {
        let result = try run(["fail", host])
        XCTAssertEqual(result.status, 0, result.output)
    }

    /// Bytes `host` has sent over its one link (not loopback): traffic to the other hosts.
    func bytesSent(by host: String) throws -> Int {
        let result = try Launcher.run(URL(fileURLWithPath: "/usr/bin/env"),
                                      ["ip", "netns", "exec", host, "cat", "/sys/class/net/eth0/statistics/tx_bytes"],
                                      environment: [:], timeout: 10)
        guard result.status == 0, let bytes = Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw LauncherError("cannot read \(host)'s tx_bytes: \(result.output)")
        }
        return bytes
    }

    private var environment: [String: String] {
        Launcher.mpiEnvironment.merging(["NETNS_CLUSTER_PREFIX": prefix, "NETNS_CLUSTER_DIR": directory.path]) { $1 }
    }

    private func run(_ arguments: [String]) throws -> Launcher.Result {
        try Launcher.run(Self.script, arguments, environment: environment, timeout: 60)
    }
}
