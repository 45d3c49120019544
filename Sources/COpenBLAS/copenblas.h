// Why this shim exists: SwiftPM needs a module map to import a system C library. This one
// exposes OpenBLAS's cblas.h (cblas_sgemm, openblas_set_num_threads, ...) and nothing else;
// pkg-config (`openblas`) supplies the include and link paths, so no unsafeFlags are needed.
#ifndef COPENBLAS_SHIM_H
#define COPENBLAS_SHIM_H

#include <cblas.h>

#endif
