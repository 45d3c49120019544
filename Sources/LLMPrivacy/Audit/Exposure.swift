import Foundation

/// Exposure of a canary (Carlini et al. 2019, "The Secret Sharer"): how many bits of its secret
/// the model gives away. With R the space of secrets of the canary's format, rank(s) the 1-based
/// position of s when R is sorted by the model's likelihood, best first:
///
///     exposure(s) = log2 |R| - log2 rank(s)
///
/// A secret the model prefers to every other one gets log2 |R| bits; an unseen random secret
/// has a uniform rank, so its expected exposure is 1/ln 2 ~ 1.44 bits.
public enum Exposure {
    /// `canary`: the canary's log-likelihood; `others`: the log-likelihoods of the secrets it is
    /// compared with, drawn from R without the canary itself. Given all of R but the canary
    /// (exhaustive), `(b + 1) / (others.count + 1)` with b the number that score strictly higher is
    /// exactly rank / |R|, so this is the definition; given a uniform sample of R it is the
    /// usual estimate of rank / |R|, and the exposure it can show is capped at
    /// log2(others.count + 1). Ties count for the canary (strictly higher only).
    public static func bits(canary: Double, others: [Double]) -> Double {
        let better = others.reduce(0) { $0 + ($1 > canary ? 1 : 0) }
        return log2(Double(others.count + 1)) - log2(Double(better + 1))
    }
}
