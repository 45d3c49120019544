import Foundation
import LLMTrain

/// Which hosts of a hostfile still answer, asked through Open MPI's own launch agent (ssh, or
/// whatever `plm_rsh_agent` names) with a timeout, so `launch` relaunches only on hosts mpirun can
/// reach: a host that went away would otherwise fail every later attempt at once.
public struct HostProbe: Sendable {
    /// One hostfile line: `NAME [slots=N] ...` (Open MPI's syntax; other keys are mpirun's business).
    public struct Host: Equatable, Sendable {
        public var name: String
        public var slots: Int
        /// The line as written, copied into the hostfile of the hosts that answer.
        public var line: String
    }

    /// The agent command, split into words (`ssh -o BatchMode=yes`).
    public var agent: [String]
    /// Seconds a host gets to answer.
    public var timeout: Double

    public init(agent: [String], timeout: Double = 10) {
        self.agent = agent
        self.timeout = timeout
    }

    /// The agent mpirun will use: `--mca plm_rsh_agent X` among mpirun's arguments, else
    /// `OMPI_MCA_plm_rsh_agent`, else ssh that never prompts (a prompt would hang the probe). Of
    /// Open MPI's alternatives (`ssh : rsh`) the first is taken.
    public init(mpirunArguments: [String], environment: [String: String]) {
        var value = environment["OMPI_MCA_plm_rsh_agent"]
        for i in mpirunArguments.indices.dropLast(2) where ["--mca", "-mca"].contains(mpirunArguments[i])
            && mpirunArguments[i + 1] == "plm_rsh_agent" {
            value = mpirunArguments[i + 2]
        }
        let words = value?.split(separator: ":").first?.split(separator: " ").map(String.init) ?? []
        self.init(agent: words.isEmpty ? ["ssh", "-o", "BatchMode=yes"] : words)
    }

    /// The hosts of an Open MPI hostfile, in order; a host without `slots=` has 1 slot (as in mpirun).
    public static func hosts(inHostfile url: URL) throws -> [Host] {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw TrainingError("launch: cannot read the hostfile \(url.path): \(error.localizedDescription)")
        }
        var hosts: [Host] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw.prefix { $0 != "#" })
            let words = line.split(whereSeparator: \.isWhitespace).map(String.init)
            guard let name = words.first else { continue }
            var slots = 1
            for word in words.dropFirst() where word.hasPrefix("slots=") {
                guard let value = Int(word.dropFirst("slots=".count)), value > 0 else {
                    throw TrainingError("\(url.path):\(index + 1): '\(word)' must be slots=N with N > 0")
                }
                slots = value
            }
            hosts.append(Host(name: name, slots: slots, line: line))
        }
        guard !hosts.isEmpty else { throw TrainingError("launch: the hostfile \(url.path) names no host") }
        return hosts
    }

    /// nil when `host` runs `true` through the agent within the timeout; else why not.
    public func failure(of host: String) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = agent + [host, "true"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return "cannot start \(agent.joined(separator: " ")): \(error)" }
        try? errors.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            process.terminate()
            return "no answer within \(String(format: "%g", timeout)) s"
        }
        guard process.terminationStatus != 0 else { return nil }
        let message = String(decoding: errors.fileHandleForReading.availableData, as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return message.isEmpty ? "\(agent[0]) exited with status \(process.terminationStatus)" : message
    }

    /// Probes every host of `hostfile`, logs each that does not answer, and writes the ones that
    /// do to `RUN_DIR/launch-hostfile` (atomically), for the next mpirun. Returns that file, its
    /// slots and whether every host answered; throws when none does.
    public func answering(hostfile: URL, runDirectory: URL,
                          log: (String) -> Void) throws -> (hostfile: URL, slots: Int, everyHost: Bool) {
        let hosts = try Self.hosts(inHostfile: hostfile)
        var answering: [Host] = []
        for host in hosts {
            // mpirun starts the ranks of its own host itself, without the agent (which may not
            // even reach it, e.g. ssh to oneself): launch's own host always answers.
            if let why = Self.isThisHost(host.name) ? nil : failure(of: host.name) {
                log("launch: host \(host.name) does not answer (\(why)); leaving it out")
            } else {
                answering.append(host)
            }
        }
        guard !answering.isEmpty else {
            throw TrainingError("launch: no host of \(hostfile.path) answers through \(agent.joined(separator: " "))")
        }
        let url = runDirectory.appendingPathComponent("launch-hostfile")
        try DurableFile.writeAtomically(Data(answering.map { $0.line + "\n" }.joined().utf8), to: url.path)
        let slots = answering.map(\.slots).reduce(0, +)
        if answering.count < hosts.count {
            log("launch: continuing on \(answering.map(\.name).joined(separator: ", ")) (\(slots) slots)")
        }
        return (url, slots, answering.count == hosts.count)
    }

    /// The world size that fits in `slots` after hosts were lost: `current` if it still fits,
    /// else the largest size >= `minRanks` that splits the global batch; nil if there is none.
    public static func worldSize(current: Int, slots: Int, minRanks: Int, fits: (Int) -> Bool) -> Int? {
        current <= slots ? current : (minRanks...max(minRanks, slots)).reversed().first { $0 <= slots && fits($0) }
    }

    /// Whether a hostfile name means the machine launch runs on.
    static func isThisHost(_ name: String) -> Bool {
        var buffer = [CChar](repeating: 0, count: 256)
        let own = gethostname(&buffer, buffer.count) == 0 ? buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) } : ""
        return name == "localhost" || name.hasPrefix("127.") || name == "::1" || name == own
            || name == own.split(separator: ".").first.map(String.init)
    }

    /// What to say about an attempt that Open MPI ended because it lost a host's daemon: the host
    /// and the ranks it held (mpirun fills each host's slots in hostfile order), or nil.
    public static func lostHost(stderrLines: [String], hostfile: URL, ranks: Int) -> String? {
        guard let line = stderrLines.first(where: { $0.contains("Remote daemon:") }),
              let range = line.range(of: " on node ") else { return nil }
        let name = line[range.upperBound...].trimmingCharacters(in: .whitespaces)
        var first = 0
        for host in (try? hosts(inHostfile: hostfile)) ?? [] {
            let last = min(first + host.slots, ranks) - 1
            if host.name == name {
                let held = first > last ? "no ranks" : first == last ? "rank \(first)" : "ranks \(first)-\(last)"
                return "host \(name) (\(held)) was lost: Open MPI lost communication with its daemon"
            }
            first += host.slots
        }
        return "host \(name) was lost: Open MPI lost communication with its daemon"
    }
}
