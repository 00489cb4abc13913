#!/usr/bin/env python3
"""Raw float32 GEMM throughput: the "best you can get from sgemm" reference.

    OPENBLAS_NUM_THREADS=T sgemm.py SECONDS

Prints one JSON object. Two libraries are measured in this process:
  * "system": the Debian libopenblas.so.0 that modelpress links, called through
    ctypes (cblas_sgemm, row-major, no transposes);
  * "numpy": numpy's float32 matmul, which uses numpy's own bundled OpenBLAS build
    (scipy-openblas wheel), not the system library.
Shapes (M×K @ K×N): 1024³ and a ResNet-like im2col conv GEMM (256 output channels,
56×56 = 3136 pixels, K = 3·3·256 = 2304). GFLOP/s = 2·M·N·K / seconds per call; the best
of 3 timing windows is reported (each window: calls until ≥ SECONDS/3 s).
"""
import ctypes
import glob
import json
import os
import sys
import time

import numpy as np

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
SHAPES = {"1024x1024x1024": (1024, 1024, 1024), "resnet_conv_256x3136x2304": (256, 3136, 2304)}


def rate(fn, flops, seconds):
    fn()  # warm-up (thread start, page faults)
    best = 0.0
    for _ in range(3):
        n, t0 = 0, time.perf_counter()
        while True:
            fn()
            n += 1
            el = time.perf_counter() - t0
            if el >= seconds / 3:
                break
        best = max(best, flops * n / el / 1e9)
    return best


def system_blas():
    lib = ctypes.CDLL("libopenblas.so.0")
    lib.openblas_get_corename.restype = ctypes.c_char_p
    lib.openblas_get_config.restype = ctypes.c_char_p
    lib.openblas_get_num_threads.restype = ctypes.c_int
    p = ctypes.POINTER(ctypes.c_float)
    lib.cblas_sgemm.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                ctypes.c_int, ctypes.c_float, p, ctypes.c_int, p, ctypes.c_int,
                                ctypes.c_float, p, ctypes.c_int]
    lib.cblas_sgemm.restype = None
    return lib


def loaded_path(stem):
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            if stem in os.path.basename(path) and "scipy" not in path:
                return path
    return None


def numpy_blas_info():
    libs = glob.glob(os.path.join(os.path.dirname(np.__file__), "..", "numpy.libs", "*openblas*"))
    out = {"library": os.path.basename(libs[0]) if libs else None}
    try:
        cfg = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        out["name"], out["version"] = cfg.get("name"), cfg.get("version")
    except Exception:
        pass
    if libs:
        l = ctypes.CDLL(libs[0])
        for sym in ("scipy_openblas_get_corename64_", "openblas_get_corename64_", "openblas_get_corename"):
            f = getattr(l, sym, None)
            if f is not None:
                f.restype = ctypes.c_char_p
                out["corename"] = f().decode()
                break
    return out


def main():
    lib = system_blas()
    res = {"threads_env": os.environ.get("OPENBLAS_NUM_THREADS"),
           "coretype_env": os.environ.get("OPENBLAS_CORETYPE"),
           "system": {"library": loaded_path("libopenblas"),
                      "corename": lib.openblas_get_corename().decode(),
                      "config": lib.openblas_get_config().decode(),
                      "threads": lib.openblas_get_num_threads(), "gflops": {}},
           "numpy": dict(numpy_blas_info(), gflops={})}
    rng = np.random.default_rng(0)
    pf = ctypes.POINTER(ctypes.c_float)
    for name, (m, n, k) in SHAPES.items():
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        c = np.empty((m, n), dtype=np.float32)
        flops = 2.0 * m * n * k
        pa, pb, pc = (x.ctypes.data_as(pf) for x in (a, b, c))
        res["system"]["gflops"][name] = rate(
            lambda: lib.cblas_sgemm(101, 111, 111, m, n, k, 1.0, pa, k, pb, n, 0.0, pc, n), flops, SECONDS)
        res["numpy"]["gflops"][name] = rate(lambda: np.matmul(a, b, out=c), flops, SECONDS)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
