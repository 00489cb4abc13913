// CHDF5: libhdf5 (serial, 1.10+) for Swift.
//
// Why this shim exists: many HDF5 names are C macros that Swift cannot import — the
// native type ids (`H5T_NATIVE_FLOAT` expands to `(H5open(), H5T_NATIVE_FLOAT_g)`), the
// file access flags, the property-list class ids, `H5P_DEFAULT`, `H5S_ALL`,
// `H5T_VARIABLE`. Each is wrapped here in a `chdf5_`-prefixed static inline function.
// Versioned API names (`H5Dopen2`, `H5Gopen2`, `H5Eset_auto2`, ...) are called directly
// from Swift because the unversioned aliases are macros too.
#pragma once
#include <hdf5.h>

_Static_assert(sizeof(hid_t) == 8, "ModelPress expects 64-bit hid_t (HDF5 >= 1.10)");

static inline hid_t chdf5_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t chdf5_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t chdf5_native_int8(void) { return H5T_NATIVE_INT8; }
static inline hid_t chdf5_native_uint8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t chdf5_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t chdf5_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t chdf5_c_s1(void) { return H5T_C_S1; }

static inline unsigned chdf5_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned chdf5_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline unsigned chdf5_acc_excl(void) { return H5F_ACC_EXCL; }

static inline hid_t chdf5_p_default(void) { return H5P_DEFAULT; }
static inline hid_t chdf5_p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t chdf5_p_file_create(void) { return H5P_FILE_CREATE; }
static inline hid_t chdf5_p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t chdf5_s_all(void) { return H5S_ALL; }
static inline hid_t chdf5_e_default(void) { return H5E_DEFAULT; }
static inline size_t chdf5_variable_length(void) { return H5T_VARIABLE; }

/// Turns off HDF5's automatic printing of its error stack to stderr.
static inline herr_t chdf5_silence_errors(void) { return H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
