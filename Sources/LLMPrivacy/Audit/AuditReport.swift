import Foundation
import LLMTrain

/// What `privacy-audit` measured, as `RUN_DIR/privacy-audit.json` (snake_case keys) and a table.
public struct AuditReport: Codable, Equatable, Sendable {
    public struct Canary: Codable, Equatable, Sendable {
        public var secret: String
        /// Copies planted in the train split; 0 for a control (never planted).
        public var insertions: Int
        /// Natural log of p(post) after `<|endoftext|>`, and the post's token count.
        public var logLikelihood: Double
        public var tokens: Int
        /// exp(-logLikelihood / tokens).
        public var perplexity: Double
        /// Candidates whose likelihood is strictly higher than the canary's.
        public var higherCandidates: Int
        public var exposureBits: Double

        enum CodingKeys: String, CodingKey {
            case secret, insertions, logLikelihood = "log_likelihood", tokens, perplexity
            case higherCandidates = "higher_candidates", exposureBits = "exposure_bits"
        }
    }

    public struct Training: Codable, Equatable, Sendable {
        public var steps: Int
        public var tokensSeen: Int
        public var trainTokens: Int
        /// tokensSeen / trainTokens: a canary planted k times was seen about k x epochs times.
        public var epochs: Double
        public var finalTrainLoss: Double?
        /// The last evaluation's validation loss: what DP costs in utility.
        public var validationLoss: Double?
        public var checkpoint: String
        /// DP-SGD's epsilon (at delta), noise multiplier and clipping; nil when trained without it.
        public var privacy: PrivacySpent?

        enum CodingKeys: String, CodingKey {
            case steps, tokensSeen = "tokens_seen", trainTokens = "train_tokens", epochs
            case finalTrainLoss = "final_train_loss", validationLoss = "validation_loss", checkpoint, privacy
        }
    }

    public var format: CanaryFormat
    public var spaceSize: Int
    /// Secrets each canary is ranked against: all of R but itself when `exhaustive`, else a uniform sample.
    public var candidates: Int
    public var exhaustive: Bool
    /// log2(candidates + 1): the most exposure this candidate set can show (log2 |R| when exhaustive).
    public var maxExposureBits: Double
    public var candidateMedianPerplexity: Double
    public var canaries: [Canary]
    public var training: Training?

    enum CodingKeys: String, CodingKey {
        case format, spaceSize = "space_size", candidates, exhaustive, maxExposureBits = "max_exposure_bits"
        case candidateMedianPerplexity = "candidate_median_perplexity", canaries, training
    }

    /// Mean exposure per insertion count (0: the controls), ascending.
    public var meanExposureByInsertions: [(insertions: Int, bits: Double)] {
        Dictionary(grouping: canaries, by: \.insertions).sorted { $0.key < $1.key }.map { group in
            (group.key, group.value.map(\.exposureBits).reduce(0, +) / Double(group.value.count))
        }
    }

    /// One line per canary, then the means.
    public var table: String {
        var lines = ["canary exposure: \"\(format.prefix) <\(format.digits) digits>\", |R| = \(spaceSize), "
                     + (exhaustive ? "exact (every secret ranked)"
                        : "\(candidates) sampled candidates (exposure capped at "
                          + String(format: "%.1f", maxExposureBits) + " bits)")]
        func padded(_ s: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }
        let secretWidth = max(6, format.digits * 2 - 1)
        lines.append(padded("insertions", 10) + "  " + padded("secret", secretWidth)
                     + "     log p      ppl   higher   exposure")
        for c in canaries.sorted(by: { ($0.insertions, $0.exposureBits) > ($1.insertions, $1.exposureBits) }) {
            lines.append(padded(c.insertions == 0 ? "control" : "\(c.insertions)", 10) + "  "
                         + padded(c.secret, secretWidth)
                         + String(format: "  %8.2f  %7.2f  %7d  %5.2f bits", c.logLikelihood, c.perplexity,
                                  c.higherCandidates, c.exposureBits))
        }
        for (k, bits) in meanExposureByInsertions {
            lines.append((k == 0 ? "mean exposure, controls (not planted): " : "mean exposure, planted \(k)x: ")
                         + String(format: "%.2f bits", bits))
        }
        lines.append(String(format: "median candidate perplexity %.2f", candidateMedianPerplexity))
        if let t = training {
            lines.append(String(format: "training: %d steps, %d tokens = %.2f epochs of %d train tokens, "
                                + "final train loss %.3f", t.steps, t.tokensSeen, t.epochs, t.trainTokens,
                                t.finalTrainLoss ?? .nan))
            lines.append(String(format: "validation loss %.4f", t.validationLoss ?? .nan))
            if let p = t.privacy {
                lines.append("DP-SGD: epsilon " + (p.epsilon.map { String(format: "%.3f", $0) } ?? "∞")
                             + String(format: " at delta %.1e, noise multiplier %.4f, max_grad_norm %g, q %.4g",
                                      p.delta, p.noiseMultiplier, p.maxGradNorm, p.sampleRate))
            } else {
                lines.append("DP-SGD: off (no privacy guarantee)")
            }
        }
        return lines.joined(separator: "\n")
    }
}
