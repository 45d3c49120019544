import COpenBLAS
import Foundation

/// The compute thread count, for GEMMs and elementwise kernels alike. OpenBLAS itself is kept
/// at one thread: `sgemm` splits large products over our workers instead, so a single pool of
/// threads does all the work. (With OpenBLAS's own pool, its idle threads spin after each GEMM
/// and starve the elementwise workers on a 2-core machine: ~10% slower at 2 threads.)
/// The starting count is what OpenBLAS was configured with (OPENBLAS_NUM_THREADS, else the
/// cores); under mpirun use 1 per rank.
public enum BLASThreads {
    public static func set(_ count: Int) {
        threads = max(1, count)
    }

    public static var current: Int { threads }

    /// Set once per process before training (and by tests between runs), read by the kernels.
    nonisolated(unsafe) private static var threads: Int = {
        let configured = Int(openblas_get_num_threads())
        openblas_set_num_threads(1)
        return max(1, configured)
    }()

    /// The kernel family OpenBLAS picked at load time, e.g. "Cooperlake" or "SkylakeX". On a CPU
    /// that OpenBLAS 0.3.21 does not recognise it falls back to "Prescott" (SSE3, ~1/4 of the
    /// AVX-512 speed); `OPENBLAS_CORETYPE=Cooperlake` in the environment before start-up overrides it.
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// The `OPENBLAS_CORETYPE` to set when OpenBLAS fell back to the generic Prescott kernel on
    /// a CPU that has AVX-512 (seen on Intel VMs that report a generic model name; the fallback
    /// runs sgemm several times slower), else nil. OpenBLAS reads the variable only when
    /// the library loads, so a program acts on this by setting it and re-executing itself
    /// before any other work, e.g. `setenv("OPENBLAS_CORETYPE", name, 1); execv("/proc/self/exe", argv)`.
    public static var recommendedCoreType: String? {
        guard coreName.lowercased() == "prescott" else { return nil }
        return avx512CoreType(cpuFlags: cpuFlags)
    }

    /// A note for the logs when `OPENBLAS_CORETYPE` holds OpenBLAS to a kernel narrower than the
    /// CPU's AVX-512, else nil. Some machines preset the variable (to dodge OpenBLAS faults on
    /// CPUs its version does not know), which silently halves sgemm: on an AMD EPYC Zen 5 with
    /// OpenBLAS 0.3.21 the preset Haswell kernel ran the model's GEMMs at 0.55-0.6x the speed of
    /// the Cooperlake kernel OpenBLAS picks there by itself.
    public static var narrowKernelNote: String? {
        narrowKernelNoteFor(forced: ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"], coreName: coreName,
                         cpuFlags: cpuFlags)
    }

    static func narrowKernelNoteFor(forced: String?, coreName: String, cpuFlags: Set<String>) -> String? {
        guard let forced, !forced.isEmpty, let wide = avx512CoreType(cpuFlags: cpuFlags),
              !avx512Cores.contains(coreName.lowercased()) else { return nil }
        return "OPENBLAS_CORETYPE=\(forced) holds OpenBLAS to its \(coreName) kernel on a CPU with AVX-512, whose "
            + "\(wide) kernel ran sgemm ~1.8x faster on an AMD EPYC Zen 5; unset the variable to let OpenBLAS choose, "
            + "unless it was set to avoid an OpenBLAS fault on this CPU"
    }

    /// OpenBLAS's AVX-512 kernel families (lower-cased `coreName`s).
    static let avx512Cores: Set<String> = ["skylakex", "cooperlake", "sapphirerapids"]

    /// The AVX-512 kernel family for a CPU with these flags (/proc/cpuinfo), or nil without AVX-512.
    static func avx512CoreType(cpuFlags flags: Set<String>) -> String? {
        guard flags.contains("avx512f"), flags.contains("avx512bw"), flags.contains("avx512vl") else { return nil }
        return flags.contains("avx512_bf16") ? "Cooperlake" : "SkylakeX"
    }

    /// The first CPU's flags in /proc/cpuinfo (empty where it cannot be read).
    static var cpuFlags: Set<String> {
        guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return [] }
        return Set(line.split(separator: " ").map(String.init))
    }
}
