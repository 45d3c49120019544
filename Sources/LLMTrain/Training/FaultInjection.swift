import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// TEST ONLY: one fault to inject into a run, from `SWIFT_LLM_TRAIN_FAULT=rank:R,step:S,kind:K`
/// (see `FaultPlan` for a list), so the failure paths are exercised deterministically by the
/// end-to-end tests. After optimiser step S, rank R (every rank when `rank:` is omitted) does K:
///   drift  perturbs one weight, so the next drift check (train.drift_check_every) must abort;
///   kill9  sends itself SIGKILL, as a crashed node would;
///   abort  fails with an error, as a failing rank would;
///   hang   stops making progress (sleeps), as a stuck rank would.
///   stall  sleeps 2 seconds once, then goes on, as a rank slowed by a busy core would.
///   kill9_in_save  the coordinator SIGKILLs itself from the background writer of the checkpoint
///          of step S (checkpoint.async), between its weights and optimizer files: a crash mid-save.
/// Unset in normal use; a malformed value is an error, never ignored.
struct FaultInjection: Equatable {
    enum Kind: String { case drift, kill9, abort, hang, stall, kill9InSave = "kill9_in_save" }

    static let variable = "SWIFT_LLM_TRAIN_FAULT"
    static let usage = "rank:R,step:S,kind:drift|kill9|abort|hang|stall|kill9_in_save[;rank:R,step:S,kind:K ...]"

    var rank: Int?
    var step: Int
    var kind: Kind

    static func parse(_ text: String) throws -> FaultInjection {
        var fields: [String: String] = [:]
        for part in text.split(separator: ",") {
            let pair = part.split(separator: ":", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { throw TrainingError("\(variable)=\(text): expected \(usage)") }
            fields[pair[0]] = pair[1]
        }
        guard let step = fields["step"].flatMap(Int.init), let kind = fields["kind"].flatMap(Kind.init(rawValue:)),
              Set(fields.keys).isSubset(of: ["rank", "step", "kind"]) else {
            throw TrainingError("\(variable)=\(text): expected \(usage)")
        }
        let rank = try fields["rank"].map { value -> Int in
            guard let rank = Int(value) else { throw TrainingError("\(variable)=\(text): rank must be a number") }
            return rank
        }
        return FaultInjection(rank: rank, step: step, kind: kind)
    }

    /// Due after optimiser step `step` on `rank`; `whileSaving` selects kill9_in_save, which
    /// fires from the checkpoint writer instead of the training loop.
    func isDue(afterStep step: Int, rank: Int, whileSaving: Bool = false) -> Bool {
        (kind == .kill9InSave) == whileSaving && step == self.step && self.rank.map { $0 == rank } ?? true
    }

    /// Carries the fault out.
    func fire(afterStep step: Int, rank: Int, parameters: UnsafeMutableBufferPointer<Float>) throws {
        switch kind {
        case .drift: parameters[0] += 1e-3
        case .kill9, .kill9InSave: kill(getpid(), SIGKILL)
        case .abort: throw TrainingError("injected fault (\(Self.variable)): rank \(rank) fails after step \(step)")
        case .hang: while true { sleep(60) }
        case .stall: sleep(2)
        }
    }
}

/// TEST ONLY: the faults `SWIFT_LLM_TRAIN_FAULT` lists, separated by `;`. Each fires at most once
/// per run directory and rank: before firing, the rank appends "INDEX RANK" to the run's
/// `faults-fired` file and fsyncs it. A run resumed from a checkpoint before step S (as `launch`
/// does after the fault killed it) therefore passes S the second time, which makes "rank 1
/// killed at step 37 and again at step 81" deterministic:
/// `rank:1,step:37,kind:kill9;rank:1,step:81,kind:kill9`. The same fault listed twice fires on
/// two attempts.
struct FaultPlan {
    static let firedFileName = "faults-fired"

    let faults: [FaultInjection]
    let firedFile: URL

    /// The faults the environment asks for (none when unset).
    static func fromEnvironment(runDirectory: URL) throws -> FaultPlan {
        let text = ProcessInfo.processInfo.environment[FaultInjection.variable] ?? ""
        let faults = try text.split(separator: ";").map { try FaultInjection.parse(String($0)) }
        return FaultPlan(faults: faults, firedFile: runDirectory.appendingPathComponent(firedFileName))
    }

    /// Fires the first fault due on this rank after `step` that has not fired in this run directory.
    func apply(afterStep step: Int, rank: Int, parameters: UnsafeMutableBufferPointer<Float>) throws {
        try fireOnce(afterStep: step, rank: rank, whileSaving: false, parameters: parameters)
    }

    /// kill9_in_save: called by the background writer of checkpoint `step`, between its files.
    func applyWhileSaving(step: Int, rank: Int) throws {
        try fireOnce(afterStep: step, rank: rank, whileSaving: true, parameters: UnsafeMutableBufferPointer(start: nil, count: 0))
    }

    private func fireOnce(afterStep step: Int, rank: Int, whileSaving: Bool,
                          parameters: UnsafeMutableBufferPointer<Float>) throws {
        guard faults.contains(where: { $0.isDue(afterStep: step, rank: rank, whileSaving: whileSaving) }) else { return }
        let record = (try? String(contentsOf: firedFile, encoding: .utf8)) ?? ""
        let fired = Set(record.split(separator: "\n").map(String.init))
        guard let index = faults.indices.first(where: {
            faults[$0].isDue(afterStep: step, rank: rank, whileSaving: whileSaving) && !fired.contains("\($0) \(rank)")
        }) else { return }
        let fd = try DurableFile.openFile(firedFile.path, flags: O_WRONLY | O_CREAT | O_APPEND)
        defer { close(fd) }
        try Array("\(index) \(rank)\n".utf8).withUnsafeBytes { try DurableFile.writeAll(fd, $0, path: firedFile.path) }
        try DurableFile.sync(fd, path: firedFile.path)
        try faults[index].fire(afterStep: step, rank: rank, parameters: parameters)
    }
}
