# Sourced by the other scripts: what Open MPI needs on these machines (see README, "mpirun").
# - As root, mpirun refuses to start unless both of these are set (or --allow-run-as-root).
export OMPI_ALLOW_RUN_AS_ROOT=1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# - More ranks than cores (-n 8 on 2 cores) needs oversubscription; Open MPI then yields when
#   idle instead of busy-polling (which made every all-reduce ~100 ms here).
export OMPI_MCA_rmaps_base_oversubscribe=1
# - One BLAS thread per rank: unbound ranks otherwise each start one thread per core.
export OPENBLAS_NUM_THREADS=1
