import Foundation
import LLMLaunch
import XCTest

/// HostProbe with fake agents (shell one-liners), so no host or ssh is needed.
final class HostProbeTests: XCTestCase {
    private func hostfile(_ text: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("hostfile-\(UUID().uuidString)")
        try text.write(to: url, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func testHostfileLinesCommentsAndSlots() throws {
        let text = "# cluster\nnode1 slots=4 max_slots=8\n\nnode2\t# one slot\n"
        let hosts = try HostProbe.hosts(inHostfile: try hostfile(text))
        XCTAssertEqual(hosts.map(\.name), ["node1", "node2"])
        XCTAssertEqual(hosts.map(\.slots), [4, 1])
        XCTAssertEqual(hosts[0].line, "node1 slots=4 max_slots=8")
        XCTAssertThrowsError(try HostProbe.hosts(inHostfile: try hostfile("node1 slots=0\n"))) {
            XCTAssertTrue("\($0)".contains(":1: 'slots=0'"), "\($0)")
        }
        XCTAssertThrowsError(try HostProbe.hosts(inHostfile: try hostfile("# nothing\n")))
    }

    func testAgentComesFromMpirunArgumentsThenEnvironmentThenSsh() {
        let arguments = ["--mca", "btl", "tcp,self", "--mca", "plm_rsh_agent", "/opt/rsh -q", "--display-map"]
        XCTAssertEqual(HostProbe(mpirunArguments: arguments, environment: ["OMPI_MCA_plm_rsh_agent": "x"]).agent,
                       ["/opt/rsh", "-q"])
        XCTAssertEqual(HostProbe(mpirunArguments: [], environment: ["OMPI_MCA_plm_rsh_agent": "ssh : rsh"]).agent,
                       ["ssh"])
        XCTAssertEqual(HostProbe(mpirunArguments: [], environment: [:]).agent, ["ssh", "-o", "BatchMode=yes"])
    }

    /// A fake agent: `sh -c SCRIPT agent HOST true`, where SCRIPT sees the host as $1.
    private func probe(_ script: String, timeout: Double = 5) -> HostProbe {
        HostProbe(agent: ["sh", "-c", script, "agent"], timeout: timeout)
    }

    func testFailureSaysWhyAndTimesOut() {
        let agent = probe(#"[ "$1" = up ] || { echo "connect to host $1: No route to host" >&2; exit 255; }"#)
        XCTAssertNil(agent.failure(of: "up"))
        XCTAssertEqual(agent.failure(of: "down"), "connect to host down: No route to host")
        XCTAssertEqual(probe("exit 3").failure(of: "x"), "sh exited with status 3")
        let started = Date()
        XCTAssertEqual(probe("sleep 5", timeout: 0.3).failure(of: "x"), "no answer within 0.3 s")
        XCTAssertLessThan(Date().timeIntervalSince(started), 3)
    }

    func testAnsweringHostsGoToTheRunDirectoryHostfile() throws {
        let run = FileManager.default.temporaryDirectory.appendingPathComponent("probe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: run) }
        var notes: [String] = []
        let hosts = try hostfile("a slots=2\nb slots=2\nc slots=3\n")
        let result = try probe(#"[ "$1" != b ] || exit 255"#).answering(hostfile: hosts, runDirectory: run) {
            notes.append($0)
        }
        XCTAssertEqual(result.slots, 5)
        XCTAssertEqual(try String(contentsOf: result.hostfile, encoding: .utf8), "a slots=2\nc slots=3\n")
        XCTAssertTrue(notes.contains { $0.contains("host b does not answer (sh exited with status 255)") }, "\(notes)")
        XCTAssertThrowsError(try probe("exit 1").answering(hostfile: try hostfile("a\n"), runDirectory: run) { _ in })
        // This machine is never asked through the agent: mpirun starts its ranks itself.
        let local = try probe("exit 255").answering(hostfile: try hostfile("localhost slots=2\nb\n"),
                                                    runDirectory: run) { _ in }
        XCTAssertEqual(try String(contentsOf: local.hostfile, encoding: .utf8), "localhost slots=2\n")
    }

    func testLostHostNamesItsRanks() throws {
        let hosts = try hostfile("n1 slots=2\nn2 slots=2\nn3 slots=2\n")
        let stderr = ["ORTE has lost communication with a remote daemon.", "",
                      "  HNP daemon   : [[1,0],0] on node n1", "  Remote daemon: [[1,0],2] on node n3"]
        XCTAssertEqual(HostProbe.lostHost(stderrLines: stderr, hostfile: hosts, ranks: 5),
                       "host n3 (rank 4) was lost: Open MPI lost communication with its daemon")
        XCTAssertEqual(HostProbe.lostHost(stderrLines: stderr, hostfile: hosts, ranks: 6)?.contains("ranks 4-5"), true)
        XCTAssertNil(HostProbe.lostHost(stderrLines: ["rank 1 exited on signal 9"], hostfile: hosts, ranks: 6))
    }
}
