import LLMSupport

/// The split a post belongs to, decided by a hash of its text alone so regenerating or extending a
/// corpus never moves a post between splits (Scripts/make_corpora.py uses the same function).
public enum CorpusSplit: String, Codable, CaseIterable, Sendable {
    case train, validation, test

    /// FNV-1a 64 of the UTF-8 text mod 100: 0-89 train, 90-94 validation, 95-99 test.
    public static func of(text: String) -> CorpusSplit {
        let bucket = fnv1a64(text.utf8) % 100
        return bucket < 90 ? .train : (bucket < 95 ? .validation : .test)
    }
}
