#!/usr/bin/env python3
"""ModelPress `quantize` vs onnxruntime's `quantize_static`, on the same float ONNX files.

For every trained digits fixture: export the float ONNX with ModelPress, then quantize it
(int8 QDQ, per-channel weights, uint8 activations, the same calibration samples) with
  * ModelPress: `modelpress quantize FLOAT.onnx --method minmax|entropy`
  * onnxruntime: `quantize_static(..., QuantFormat.QDQ, per_channel=True,
                 calibrate_method=MinMax|Entropy)` in a fresh Python process
and report test accuracy, top-1 agreement with the float model, file size and whole-process
wall time (Python start and imports included for onnxruntime; best of 5 runs for ModelPress,
best of 3 for onnxruntime). Accuracy and agreement of every file are measured in onnxruntime. Prints a Markdown table.

Usage: quantize_vs_ort.py MODELPRESS_BINARY REPO_ROOT [WORKDIR]
"""
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np
import onnxruntime as ort

MODELS = ["keras3/mlp", "keras3/cnn", "keras3/functional", "keras2/mlp", "keras2/cnn", "keras2/functional"]

ORT_SCRIPT = r'''
import sys, h5py, numpy as np
from onnxruntime.quantization import quantize_static, QuantFormat, QuantType, CalibrationMethod, CalibrationDataReader
import onnxruntime as ort
src, dst, data, method = sys.argv[1:5]
x = h5py.File(data, "r")["x"][()].astype(np.float32)
name = ort.InferenceSession(src, providers=["CPUExecutionProvider"]).get_inputs()[0].name
class Reader(CalibrationDataReader):
    def __init__(self):
        # One sample per batch: its entropy calibrator cannot stack a ragged last batch.
        self.batches = iter([{name: x[i:i + 1]} for i in range(len(x))])
    def get_next(self):
        return next(self.batches, None)
quantize_static(src, dst, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                calibrate_method={"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy}[method])
'''


def timed(cmd):
    """(wall seconds, CPU seconds = user + system of the child process)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def predictions(path, x):
    s = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return s.run(None, {s.get_inputs()[0].name: x})[0]


def main():
    mp, root = sys.argv[1], Path(sys.argv[2])
    work = Path(sys.argv[3]) if len(sys.argv) > 3 else Path(tempfile.mkdtemp(prefix="mp-quant-"))
    work.mkdir(parents=True, exist_ok=True)
    train, test = root / "fixtures/data/digits_train.h5", root / "fixtures/data/digits_test.h5"
    with h5py.File(test, "r") as f:
        x, y = f["x"][()].astype(np.float32), f["y"][()]
    script = work / "ort_quantize.py"
    script.write_text(ORT_SCRIPT)
    load = os.getloadavg()[0]
    print(f"load average at start: {load:.2f}\n")
    print("| model | tool | method | accuracy | agreement with float | bytes | wall s | CPU s |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for model in MODELS:
        stem = model.replace("/", "_")
        fp = work / f"{stem}.onnx"
        subprocess.run([mp, "export", str(root / "fixtures/models" / f"{model}.h5"), "-o", str(fp), "--quiet"], check=True,
                       stdout=subprocess.DEVNULL)
        ref = predictions(fp, x).argmax(1)
        print(f"| {model} | float | – | {np.mean(ref == y):.4f} | 1.0000 | {fp.stat().st_size:,} | – | – |")
        for method in ("minmax", "entropy"):
            out = work / f"{stem}.mp.{method}.onnx"
            t_mp = min(timed([mp, "quantize", str(fp), "-o", str(out), "--calibration", str(train), "--method", method, "--quiet"])
                       for _ in range(5))
            ort_out = work / f"{stem}.ort.{method}.onnx"
            t_ort = min(timed([sys.executable, str(script), str(fp), str(ort_out), str(train), method]) for _ in range(3))
            for tool, path, t in (("ModelPress", out, t_mp), ("onnxruntime", ort_out, t_ort)):
                p = predictions(path, x).argmax(1)
                print(f"| {model} | {tool} | {method} | {np.mean(p == y):.4f} | {np.mean(p == ref):.4f} | "
                      f"{path.stat().st_size:,} | {t[0]:.3f} | {t[1]:.3f} |")
    print(f"\nload average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
