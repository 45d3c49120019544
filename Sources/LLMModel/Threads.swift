import COpenBLAS

/// OpenBLAS thread control: the BLAS threads do all the matrix products. Under mpirun use 1 per rank.
public enum BLASThreads {
    public static func set(_ count: Int) {
        openblas_set_num_threads(Int32(max(1, count)))
    }

    public static var current: Int { Int(openblas_get_num_threads()) }

    /// The kernel family OpenBLAS picked at load time, e.g. "Cooperlake" or "SkylakeX". On a CPU
    /// that OpenBLAS 0.3.21 does not recognise it falls back to "Prescott" (SSE3, ~1/4 of the
    /// AVX-512 speed); `OPENBLAS_CORETYPE=Cooperlake` in the environment before start-up overrides it.
    public static var coreName: String { String(cString: openblas_get_corename()) }
}
