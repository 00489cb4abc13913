// CBLAS: OpenBLAS's CBLAS interface (row-major callers pass CblasRowMajor) and its
// thread-count control. Exists so Swift imports exactly these headers from libopenblas-dev.
#pragma once
#include <cblas.h>
