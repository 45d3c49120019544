import COpenBLAS

/// OpenBLAS thread control: the BLAS threads do all the matrix products. Under mpirun use 1 per rank.
public enum BLASThreads {
    public static func set(_ count: Int) {
        openblas_set_num_threads(Int32(max(1, count)))
    }

    public static var current: Int { Int(openblas_get_num_threads()) }
}
