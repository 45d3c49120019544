/// The tokenizer's special tokens. The placeholders are what the normaliser's privacy scrubbing
/// writes, so they become single ids instead of being spelled out byte by byte.
public enum SpecialTokens {
    public static let endOfText = "<|endoftext|>"
    public static let pad = "<pad>"
    public static let url = "<url>"
    public static let user = "<user>"
    public static let email = "<email>"
    public static let phone = "<phone>"
    public static let cls = "<cls>"

    /// In id order: a trained tokenizer gives these ids 0..<all.count.
    public static let all = [endOfText, pad, url, user, email, phone, cls]
}
