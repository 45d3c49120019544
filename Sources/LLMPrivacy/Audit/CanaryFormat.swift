import LLMSupport

/// The shape of a canary post: a fixed sentence around a secret of random digits, e.g.
/// `my pin is 4 8 1 5 9 2` (digits apart, so each is its own word and token and the normaliser
/// sees no phone number or long digit run). The space R of secrets has 10^digits members.
public struct CanaryFormat: Codable, Equatable, Sendable {
    /// The text before the secret (a space separates them).
    public var prefix: String
    public var digits: Int

    public init(prefix: String = "my pin is", digits: Int = 6) {
        self.prefix = prefix
        self.digits = digits
    }

    /// |R| = 10^digits.
    public var spaceSize: Int {
        (0..<digits).reduce(1) { r, _ in r * 10 }
    }

    /// The secret with index `index` in 0..<spaceSize, most significant digit first, e.g. "0 4 2".
    public func secret(_ index: Int) -> String {
        var digitsOut: [Character] = []
        var rest = index
        for _ in 0..<digits {
            digitsOut.append(Character(String(rest % 10)))
            rest /= 10
        }
        return digitsOut.reversed().map(String.init).joined(separator: " ")
    }

    public func text(secretIndex index: Int) -> String {
        prefix + " " + secret(index)
    }

    /// `count` distinct secret indices, uniform over R, from the generator.
    public func distinctIndices(_ count: Int, rng: inout SplitMix64) -> [Int] {
        precondition(count <= spaceSize, "more canaries than secrets")
        var seen = Set<Int>(), out: [Int] = []
        while out.count < count {
            let index = Int(rng.next() % UInt64(spaceSize))
            if seen.insert(index).inserted { out.append(index) }
        }
        return out
    }
}
