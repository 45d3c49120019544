import ArgumentParser
import Foundation
import LLMPrivacy

struct PrivacyEpsilonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "privacy-epsilon",
        abstract: "The DP-SGD accountant alone: epsilon of a setting, or the noise multiplier for a target epsilon.",
        discussion: """
        Rényi-DP of the Poisson-subsampled Gaussian mechanism composed over --steps (as Opacus' \
        RDPAccountant), converted to (epsilon, delta). With --noise prints `epsilon E order A`; \
        with --target-epsilon prints `noise_multiplier S epsilon E` (Opacus' get_noise_multiplier).

        Examples:
          swift-llm-train privacy-epsilon --sample-rate 0.004 --noise 1.1 --steps 14000 --delta 1e-5
          swift-llm-train privacy-epsilon --sample-rate 0.01 --target-epsilon 3 --steps 1000 --delta 1e-5
        """
    )

    @Option(help: ArgumentHelp("Poisson sampling rate q: expected batch / training examples.", valueName: "q"))
    var sampleRate: Double

    @Option(help: ArgumentHelp("Noise multiplier sigma (noise std / max_grad_norm).", valueName: "sigma"))
    var noise: Double?

    @Option(help: ArgumentHelp("Find the noise multiplier that reaches this epsilon instead.", valueName: "epsilon"))
    var targetEpsilon: Double?

    @Option(help: ArgumentHelp("DP-SGD steps (compositions).", valueName: "n"))
    var steps: Int

    @Option(help: ArgumentHelp("delta of the (epsilon, delta) guarantee.", valueName: "d"))
    var delta: Double

    func validate() throws {
        guard (noise == nil) != (targetEpsilon == nil) else { throw ValidationError("give one of --noise, --target-epsilon") }
        guard sampleRate > 0 && sampleRate <= 1 else { throw ValidationError("--sample-rate must be in (0, 1]") }
        guard delta > 0 && delta < 1 else { throw ValidationError("--delta must be in (0, 1)") }
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1") }
    }

    func run() throws {
        do {
            if let noise {
                let result = RDPAccountant.epsilon(sampleRate: sampleRate, noiseMultiplier: noise, steps: steps,
                                                   delta: delta)
                print("epsilon \(result.epsilon) order \(result.order)")
            } else if let targetEpsilon {
                let sigma = try RDPAccountant.noiseMultiplier(targetEpsilon: targetEpsilon, delta: delta,
                                                              sampleRate: sampleRate, steps: steps)
                let reached = RDPAccountant.epsilon(sampleRate: sampleRate, noiseMultiplier: sigma, steps: steps,
                                                    delta: delta)
                print("noise_multiplier \(sigma) epsilon \(reached.epsilon)")
            }
        } catch {
            FileHandle.standardError.write(Data("swift-llm-train: error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
