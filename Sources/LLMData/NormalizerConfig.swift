/// Which normalisation steps run, in JSON with snake_case keys. The defaults suit social-media
/// posts: NFKC folds full-width forms, privacy scrubbing replaces personal data with placeholder
/// tokens, case and punctuation are kept because they carry sentiment ("GREAT!!!").
public struct NormalizerConfig: Codable, Equatable, Sendable {
    public enum HashtagMode: String, Codable, Sendable {
        /// `#HappyDay` stays `#HappyDay`.
        case keep
        /// `#HappyDay` becomes `# happy day`, so the words share tokens with ordinary text.
        case split
    }

    public var unicodeNFKC = true
    public var lowercase = false
    public var removePunctuation = false
    public var collapseWhitespace = true
    public var scrubURLs = true
    public var scrubUsers = true
    public var scrubEmails = true
    public var scrubPhones = true
    public var hashtags = HashtagMode.keep

    public init(unicodeNFKC: Bool = true, lowercase: Bool = false, removePunctuation: Bool = false,
                collapseWhitespace: Bool = true, scrubURLs: Bool = true, scrubUsers: Bool = true,
                scrubEmails: Bool = true, scrubPhones: Bool = true, hashtags: HashtagMode = .keep) {
        self.unicodeNFKC = unicodeNFKC
        self.lowercase = lowercase
        self.removePunctuation = removePunctuation
        self.collapseWhitespace = collapseWhitespace
        self.scrubURLs = scrubURLs
        self.scrubUsers = scrubUsers
        self.scrubEmails = scrubEmails
        self.scrubPhones = scrubPhones
        self.hashtags = hashtags
    }

    enum CodingKeys: String, CodingKey {
        case unicodeNFKC = "unicode_nfkc", lowercase, removePunctuation = "remove_punctuation"
        case collapseWhitespace = "collapse_whitespace", scrubURLs = "scrub_urls", scrubUsers = "scrub_users"
        case scrubEmails = "scrub_emails", scrubPhones = "scrub_phones", hashtags
    }

    /// Missing keys take their defaults, so a config file only lists what it changes.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = NormalizerConfig()
        unicodeNFKC = try c.decodeIfPresent(Bool.self, forKey: .unicodeNFKC) ?? d.unicodeNFKC
        lowercase = try c.decodeIfPresent(Bool.self, forKey: .lowercase) ?? d.lowercase
        removePunctuation = try c.decodeIfPresent(Bool.self, forKey: .removePunctuation) ?? d.removePunctuation
        collapseWhitespace = try c.decodeIfPresent(Bool.self, forKey: .collapseWhitespace) ?? d.collapseWhitespace
        scrubURLs = try c.decodeIfPresent(Bool.self, forKey: .scrubURLs) ?? d.scrubURLs
        scrubUsers = try c.decodeIfPresent(Bool.self, forKey: .scrubUsers) ?? d.scrubUsers
        scrubEmails = try c.decodeIfPresent(Bool.self, forKey: .scrubEmails) ?? d.scrubEmails
        scrubPhones = try c.decodeIfPresent(Bool.self, forKey: .scrubPhones) ?? d.scrubPhones
        hashtags = try c.decodeIfPresent(HashtagMode.self, forKey: .hashtags) ?? d.hashtags
    }
}
