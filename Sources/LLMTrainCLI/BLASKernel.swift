#if canImport(Glibc)
import Glibc
#endif
import LLMModel

/// OpenBLAS 0.3.21 does not recognise some AVX-512 CPUs (Intel VMs reporting a generic model
/// name) and falls back to its SSE3 "Prescott" kernel, several times slower. The kernel is
/// chosen once, when the library loads, from `OPENBLAS_CORETYPE`; so when the fallback is
/// detected the binary sets that variable and re-executes itself before doing anything else
/// (before MPI starts, so it is safe under mpirun too). A variable the user set is respected.
enum BLASKernel {
    static func reexecIfMisdetected() {
        guard getenv("OPENBLAS_CORETYPE") == nil, let core = BLASThreads.recommendedCoreType else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // execv returns only on failure: carry on with the slower kernel.
        unsetenv("OPENBLAS_CORETYPE")
    }
}
