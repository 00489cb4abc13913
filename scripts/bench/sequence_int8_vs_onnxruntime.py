#!/usr/bin/env python3
"""Int8 of the trained sequence fixtures, ModelPress against onnxruntime's `quantize_dynamic`
(issue 14): test top-1, file bytes, quantization wall time and onnxruntime inference time.

For keras3/digits_lstm, digits_gru and digits_transformer (digits as 8 steps of 8 pixels): the
float export, `quantize --calibration digits_train.h5 --samples 256` (static QDQ),
`quantize --dynamic --reduce-range`, and onnxruntime 1.32's `quantize_dynamic(reduce_range=True)`
on the same float export (7-bit weights on both sides, which no x86 kernel saturates). Inference:
onnxruntime, one thread, the 360 test rows in batches of 32, median of 7 passes, graph
optimizations on, except for static int8 files on CPUs where the test suite turns them off
(`ORT_FUSES_EXACTLY` in `Tests/python/ort_helpers.py`: no VNNI, its fused kernels saturate).

Usage: sequence_int8_vs_onnxruntime.py MODELPRESS_BINARY REPO_ROOT   (in .test-venv)
"""
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import QuantType, quantize_dynamic

MODELS = ["digits_lstm", "digits_gru", "digits_transformer"]


def session(path: Path, optimized: bool) -> ort.InferenceSession:
    options = ort.SessionOptions()
    if not optimized:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def main() -> None:
    logging.getLogger().setLevel(logging.ERROR)
    binary, root = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    sys.path.insert(0, str(root / "Tests" / "python"))
    from ort_helpers import ORT_FUSES_EXACTLY

    with h5py.File(root / "fixtures/data/digits_test.h5", "r") as f:
        x, y = f["x"][()].reshape(-1, 8, 8).astype(np.float32), f["y"][()]
    work = Path(tempfile.mkdtemp())
    print("| model | file | top-1 | bytes | quantize s | inference ms (360 rows) |")
    print("|---|---|---:|---:|---:|---:|")
    for name in MODELS:
        model = root / "fixtures/models/keras3" / f"{name}.keras"
        files, seconds = {}, {}

        def timed(label, action):
            started = time.perf_counter()
            action()
            seconds[label] = time.perf_counter() - started

        files["float"] = work / f"{name}-float.onnx"
        subprocess.run([binary, "export", model, "-o", files["float"], "-q"], check=True)
        files["static int8 (ModelPress)"] = work / f"{name}-static.onnx"
        timed("static int8 (ModelPress)", lambda: subprocess.run(
            [binary, "quantize", model, "-o", files["static int8 (ModelPress)"], "--calibration", root / "fixtures/data/digits_train.h5",
             "--samples", "256", "-q"], check=True))
        files["dynamic int8 (ModelPress)"] = work / f"{name}-dynamic.onnx"
        timed("dynamic int8 (ModelPress)", lambda: subprocess.run(
            [binary, "quantize", model, "-o", files["dynamic int8 (ModelPress)"], "--dynamic", "--reduce-range", "-q"], check=True))
        files["dynamic int8 (onnxruntime)"] = work / f"{name}-ort.onnx"
        timed("dynamic int8 (onnxruntime)", lambda: quantize_dynamic(
            str(files["float"]), str(files["dynamic int8 (onnxruntime)"]), weight_type=QuantType.QInt8, reduce_range=True))
        for label, path in files.items():
            s = session(path, optimized=ORT_FUSES_EXACTLY or label.startswith("dynamic") or label == "float")
            feed = s.get_inputs()[0].name
            top1 = float(np.mean(np.argmax(s.run(None, {feed: x})[0], axis=-1) == y))
            passes = []
            for _ in range(7):
                started = time.perf_counter()
                for i in range(0, len(x), 32):
                    s.run(None, {feed: x[i:i + 32]})
                passes.append(time.perf_counter() - started)
            quantize = f"{seconds[label]:.2f}" if label in seconds else "—"
            print(f"| {name} | {label} | {100 * top1:.2f} % | {path.stat().st_size:,} | {quantize} | {1000 * float(np.median(passes)):.2f} |", flush=True)


if __name__ == "__main__":
    main()
