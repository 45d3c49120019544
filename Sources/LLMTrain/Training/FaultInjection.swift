import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// TEST ONLY: a fault to inject into a run, from `SWIFT_LLM_TRAIN_FAULT=rank:R,step:S,kind:K`, so
/// the failure paths are exercised deterministically by the end-to-end tests. After optimiser step
/// S, rank R (every rank when `rank:` is omitted) does K:
///   drift  perturbs one weight, so the next drift check (train.drift_check_every) must abort;
///   kill9  sends itself SIGKILL, as a crashed node would;
///   abort  fails with an error, as a failing rank would;
///   hang   stops making progress (sleeps), as a stuck rank would.
///   kill9_in_save  the coordinator SIGKILLs itself from the background writer of the checkpoint
///          of step S (checkpoint.async), between its weights and optimizer files: a crash mid-save.
/// Unset in normal use; a malformed value is an error, never ignored.
struct FaultInjection: Equatable {
    enum Kind: String { case drift, kill9, abort, hang, kill9InSave = "kill9_in_save" }

    static let variable = "SWIFT_LLM_TRAIN_FAULT"

    var rank: Int?
    var step: Int
    var kind: Kind

    /// The fault the environment asks for, or nil.
    static func fromEnvironment() throws -> FaultInjection? {
        guard let text = ProcessInfo.processInfo.environment[variable], !text.isEmpty else { return nil }
        return try parse(text)
    }

    static func parse(_ text: String) throws -> FaultInjection {
        var fields: [String: String] = [:]
        for part in text.split(separator: ",") {
            let pair = part.split(separator: ":", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { throw TrainingError("\(variable)=\(text): expected "
                                                             + "rank:R,step:S,kind:drift|kill9|abort|hang|"
                                                             + "kill9_in_save") }
            fields[pair[0]] = pair[1]
        }
        guard let step = fields["step"].flatMap(Int.init), let kind = fields["kind"].flatMap(Kind.init(rawValue:)),
              Set(fields.keys).isSubset(of: ["rank", "step", "kind"]) else {
            throw TrainingError("\(variable)=\(text): expected "
                                + "rank:R,step:S,kind:drift|kill9|abort|hang|kill9_in_save")
        }
        let rank = try fields["rank"].map { value -> Int in
            guard let rank = Int(value) else { throw TrainingError("\(variable)=\(text): rank must be a number") }
            return rank
        }
        return FaultInjection(rank: rank, step: step, kind: kind)
    }

    /// Carries the fault out if it is due on this rank after `step`.
    func apply(afterStep step: Int, rank: Int, parameters: UnsafeMutableBufferPointer<Float>) throws {
        guard step == self.step, self.rank.map({ $0 == rank }) ?? true else { return }
        switch kind {
        case .drift: parameters[0] += 1e-3
        case .kill9: kill(getpid(), SIGKILL)
        case .abort: throw TrainingError("injected fault (\(Self.variable)): rank \(rank) fails after step \(step)")
        case .hang: while true { sleep(60) }
        case .kill9InSave: break  // see `applyWhileSaving`
        }
    }

    /// `kill9_in_save`: called by the writer of checkpoint `step` on the coordinator mid-save.
    func applyWhileSaving(step: Int, rank: Int) {
        guard kind == .kill9InSave, step == self.step, self.rank.map({ $0 == rank }) ?? true else { return }
        kill(getpid(), SIGKILL)
    }
}
