import CLLMKernels

/// The elementwise kernels' instruction-set variants (Sources/CLLMKernels): one C source compiled
/// three times with per-function target attributes. The best one the CPU has is chosen when the
/// program loads; `SWIFT_LLM_TRAIN_KERNELS=portable|avx2|avx512` overrides it.
/// The kernels perform the same IEEE operations in the same order in every variant (no fused
/// multiply-add), so the variant changes speed, not results.
public enum KernelVariant: Int32, CaseIterable, Sendable, CustomStringConvertible {
    case portable = 0, avx2 = 1, avx512 = 2

    /// Its name in SWIFT_LLM_TRAIN_KERNELS.
    public var description: String { String(cString: llmk_name(rawValue)) }

    public init?(name: String) {
        guard let variant = Self.allCases.first(where: { $0.description == name }) else { return nil }
        self = variant
    }

    /// Whether this CPU has the instructions (portable: always).
    public var isSupported: Bool { llmk_supported(rawValue) != 0 }
}

public enum Kernels {
    /// The variant every kernel call uses.
    public static var active: KernelVariant { KernelVariant(rawValue: llmk_active()) ?? .portable }

    /// Switches variant (tests and `bench kernels`); false, changing nothing, if the CPU lacks it.
    /// Not for use while kernels run on other threads.
    @discardableResult
    public static func select(_ variant: KernelVariant) -> Bool { llmk_select(variant.rawValue) != 0 }

    /// Why SWIFT_LLM_TRAIN_KERNELS could not be honoured at start-up, or nil (unset or honoured).
    /// The program should refuse to run with this message rather than silently use another variant.
    public static var environmentProblem: String? {
        let supported = KernelVariant.allCases.filter(\.isSupported).map(\.description).joined(separator: ", ")
        switch llmk_environment_status() {
        case 1:
            return "SWIFT_LLM_TRAIN_KERNELS must be one of portable, avx2, avx512 (this CPU runs: \(supported))"
        case 2:
            return "SWIFT_LLM_TRAIN_KERNELS names a variant this CPU lacks; it runs: \(supported)"
        default:
            return nil
        }
    }
}
