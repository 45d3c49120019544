// Why this shim exists: Open MPI defines its predefined handles (MPI_COMM_WORLD, MPI_FLOAT,
// MPI_SUM, MPI_IN_PLACE, ...) as macros that take the address of global structs, e.g.
//   #define MPI_COMM_WORLD OMPI_PREDEFINED_GLOBAL(MPI_Comm, ompi_mpi_comm_world)
// Swift's C importer cannot import such macros ("structure not supported"), so each one is
// re-exported here as a `static inline` function. Every symbol carries the `cmpi_` prefix so
// nothing collides with MPI's own names. Functions (MPI_Allreduce, ...) import directly.
#ifndef CMPI_SHIM_H
#define CMPI_SHIM_H

#include <mpi.h>

static inline MPI_Comm cmpi_comm_world(void) { return MPI_COMM_WORLD; }

static inline MPI_Datatype cmpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype cmpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype cmpi_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype cmpi_int64(void) { return MPI_INT64_T; }

static inline MPI_Op cmpi_op_sum(void) { return MPI_SUM; }
static inline MPI_Op cmpi_op_max(void) { return MPI_MAX; }
static inline MPI_Op cmpi_op_min(void) { return MPI_MIN; }

// MPI_IN_PLACE is a sentinel pointer, not a real buffer.
static inline void *cmpi_in_place(void) { return MPI_IN_PLACE; }

static inline MPI_Errhandler cmpi_errors_return(void) { return MPI_ERRORS_RETURN; }

// MPI_STATUS_IGNORE is a sentinel pointer too.
static inline MPI_Status *cmpi_status_ignore(void) { return MPI_STATUS_IGNORE; }

static inline MPI_Info cmpi_info_null(void) { return MPI_INFO_NULL; }
static inline int cmpi_comm_type_shared(void) { return MPI_COMM_TYPE_SHARED; }
static inline int cmpi_mode_nocheck(void) { return MPI_MODE_NOCHECK; }

#endif
