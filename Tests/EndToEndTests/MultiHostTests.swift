import Foundation
import XCTest

/// Training across hosts for real: two hosts made of network namespaces (Scripts/netns-cluster.sh),
/// Open MPI started on them through the namespace rsh agent, the ranks talking over TCP across
/// the hosts' link only (no shared memory, the bridge subnet only). Needs root; skips otherwise.
final class MultiHostTests: XCTestCase {
    private var cluster: NamespaceCluster!

    override func setUpWithError() throws {
        cluster = try NamespaceCluster(self, hosts: 2)
    }

    private func trainArguments(_ run: TrainingRun, _ extra: [String]) throws -> [String] {
        [try Launcher.binary("swift-llm-train").path, "train"] + quickRun + (try SharedDataset.arguments())
            + ["--run-dir", run.path] + extra
    }

    /// `mpirun -n 4` over both hosts, 2 ranks each, started from the first host.
    private func acrossHosts(_ run: TrainingRun, _ extra: [String], timeout: Double = 90,
                             started: ((Process) -> Void)? = nil) throws -> Launcher.Result {
        let mpirun = ["/usr/bin/mpirun", "--hostfile", cluster.hostfile, "-n", "4", "--display-map"]
            + (try cluster.mpirunArguments())
        return try cluster.exec(on: cluster.hosts[0], mpirun + (try trainArguments(run, extra)), timeout: timeout,
                                started: started)
    }

    /// The ring collectives add the same pieces in the same order whatever carries them, so 4
    /// ranks over TCP between two hosts must end bit-identical to 4 ranks on one host over shared
    /// memory; and the gradients must really have crossed the link.
    func testFourRanksOnTwoHostsEqualFourRanksOnOneHost() throws {
        let oneHost = try TrainingRun(self, "netns-one"), twoHosts = try TrainingRun(self, "netns-two")
        let steps = ["--steps", "12"]
        let single = try Launcher.mpirun(4, "swift-llm-train", ["train"] + quickRun + (try SharedDataset.arguments())
                                         + ["--run-dir", oneHost.path] + steps, directory: repositoryRoot)
        XCTAssertEqual(single.status, 0, single.output)
        let sentBefore = try cluster.bytesSent(by: cluster.hosts[1])
        let started = Date()
        let across = try acrossHosts(twoHosts, steps)
        let seconds = Date().timeIntervalSince(started)
        XCTAssertEqual(across.status, 0, across.output)
        let sent = try cluster.bytesSent(by: cluster.hosts[1]) - sentBefore

        let a = try oneHost.trainLosses(), b = try twoHosts.trainLosses()
        XCTAssertEqual(a.count, 12)
        XCTAssertEqual(a.map(\.step), b.map(\.step))
        XCTAssertEqual(a.map(\.loss), b.map(\.loss), "losses over TCP across hosts must equal one host's exactly")
        let final = (try oneHost.checksums(try oneHost.latestCheckpoint()),
                     try twoHosts.checksums(try twoHosts.latestCheckpoint()))
        XCTAssertEqual(final.0["model.safetensors"], final.1["model.safetensors"])
        XCTAssertEqual(final.0["optimizer.safetensors"], final.1["optimizer.safetensors"])
        XCTAssertEqual(try twoHosts.records(event: "start").first?["world_size"] as? Double, 4)

        // Rank 3 (second host) sends rank 0 (first host) (n-1)/n of the gradient in the
        // reduce-scatter and as much again in the all-gather, every step: at least that many
        // bytes left the second host over its link.
        let parameters = try XCTUnwrap(try twoHosts.records(event: "start").first?["parameters"] as? Double)
        let ringBytes = 12 * 2 * 3 / 4 * Int(parameters) * MemoryLayout<Float>.size
        XCTAssertGreaterThan(sent, ringBytes, "the second host sent \(sent) bytes over its link, the ring needs "
                             + "\(ringBytes)")
        print("netns: 12 steps across two hosts in \(String(format: "%.1f", seconds)) s, "
              + "\(sent) bytes sent by \(cluster.hosts[1]) (ring minimum \(ringBytes))")
    }

    /// Waits (at most a minute) until the run has a checkpoint and `steps` logged steps.
    private func waitForTraining(_ run: TrainingRun, steps: Int) {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if FileManager.default.fileExists(atPath: run.checkpoints.appendingPathComponent("latest").path),
               ((try? run.trainLosses().count) ?? 0) >= steps { return }
            usleep(100_000)
        }
    }

    /// The second host disappears mid-run (link down, then every process in it killed: no FIN
    /// reaches the first host). Open MPI's daemon keepalive (2 s idle, 3 probes 1 s apart, in
    /// mpirun-args) notices within seconds and ends the job naming the lost host; the job map
    /// printed at start (--display-map) names its ranks.
    func testLostHostEndsTheJobNamingHostAndRanks() throws {
        let run = try TrainingRun(self, "netns-lost")
        var failedAt: Date?
        let result = try acrossHosts(run, ["--steps", "100000", "--set", "checkpoint.every=3"], timeout: 120) { _ in
            self.waitForTraining(run, steps: 4)
            failedAt = Date()
            try? self.cluster.fail(self.cluster.hosts[1])
        }
        let ended = Date()
        let failed = try XCTUnwrap(failedAt)
        XCTAssertNotEqual(result.status, 0, "losing a host must fail the job: \(result.output)")
        let lost = cluster.hosts[1]
        XCTAssertTrue(result.stderr.contains("lost communication with a remote daemon"), result.output)
        XCTAssertTrue(result.stderr.contains("Remote daemon: ") && result.stderr.contains("on node \(lost)"),
                      result.output)
        XCTAssertEqual(ranks(on: lost, inJobMap: result.output), [2, 3], result.output)
        let seconds = ended.timeIntervalSince(failed)
        XCTAssertLessThan(seconds, 30, "the job took \(seconds) s to end after the host was lost")
        print("netns: job ended \(String(format: "%.1f", seconds)) s after \(lost) was lost")
    }

    /// `launch --hostfile` over both hosts, the second lost after a checkpoint: launch names the
    /// host and its ranks, finds through the rsh agent that it no longer answers, and continues on
    /// the first host's 2 slots from the last checkpoint to the end of the step budget.
    func testLaunchContinuesOnTheRemainingHostFromTheLastCheckpoint() throws {
        let run = try TrainingRun(self, "netns-launch")
        let lost = cluster.hosts[1]
        let launch = [try Launcher.binary("swift-llm-train").path, "launch", "-n", "4", "--hostfile", cluster.hostfile,
                      "--max-restarts", "2", "--min-ranks", "2", "--backoff", "0.5"]
            + (try cluster.mpirunArguments()).map { "--mpirun-arg=\($0)" }
            + ["--", "train"] + quickRun + (try SharedDataset.arguments())
            + ["--run-dir", run.path, "--steps", "40", "--set", "checkpoint.every=3"]
        var failedAt: Date?
        let result = try cluster.exec(on: cluster.hosts[0], launch, timeout: 120) { _ in
            self.waitForTraining(run, steps: 7)
            failedAt = Date()
            try? self.cluster.fail(lost)
        }
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("host \(lost) (ranks 2-3) was lost"), result.output)
        XCTAssertTrue(result.output.contains("host \(lost) does not answer (netns-rsh: connect to host \(lost)"),
                      result.output)
        let starts = try run.records(event: "start")
        XCTAssertEqual(starts.map { $0["world_size"] as? Double }, [4, 2], result.output)
        if let failed = failedAt, let again = starts.last?["time"] as? Double {
            print("netns: launch trained again \(String(format: "%.1f", again - failed.timeIntervalSince1970)) s after "
                  + "\(lost) was lost")
        }
        let resumedAt = try XCTUnwrap(starts.last?["step"] as? Double)
        XCTAssertGreaterThanOrEqual(resumedAt, 6, "resumed from the last checkpoint before the loss")
        let restart = try XCTUnwrap(try run.records(event: "restart").first)
        XCTAssertEqual(restart["world_size"] as? Double, 2)
        XCTAssertEqual(restart["previous_world_size"] as? Double, 4)
        XCTAssertTrue((restart["cause"] as? String ?? "").contains("host \(lost) (ranks 2-3) was lost"), "\(restart)")
        XCTAssertEqual(try run.trainLosses().last?.step, 40)
        XCTAssertEqual(try String(contentsOf: run.directory.appendingPathComponent("launch-hostfile"), encoding: .utf8),
                       "\(cluster.hosts[0]) slots=2\n")
    }

    /// The ranks mpirun's --display-map placed on `host`.
    private func ranks(on host: String, inJobMap output: String) -> [Int] {
        var current: String?, ranks: [Int] = []
        for line in output.split(separator: "\n") {
            if let range = line.range(of: "Data for node: ") {
                current = line[range.upperBound...].split(separator: "\t").first.map(String.init)
            } else if current == host, let range = line.range(of: "Process rank: ") {
                ranks += line[range.upperBound...].split(separator: " ").first.flatMap { Int($0) }.map { [$0] } ?? []
            }
        }
        return ranks
    }
}
