#!/usr/bin/env python3
"""ModelPress `quantize --precision fp16` vs onnxconverter-common's
`convert_float_to_float16(keep_io_types=True)`, on the same float ONNX files (issue 15).

For every trained fixture: export the float ONNX with ModelPress (opset 17), then convert it
  * ModelPress: `modelpress quantize SOURCE --precision fp16 --opset 17 --calibration TRAIN`
  * onnxconverter-common 1.16: `convert_float_to_float16(model, keep_io_types=True)`
and report test accuracy and max |Δ| vs float in onnxruntime's CPU provider, the share of
outputs that are not finite in ONNX's reference evaluator (float16 arithmetic as the standard
defines it; onnxruntime's CPU provider runs many float16 ops in float32), and file sizes.
Prints a Markdown table.

Usage: fp16_vs_onnxconverter.py MODELPRESS_BINARY REPO_ROOT [WORKDIR]   (in .test-venv)
"""
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import h5py
import numpy as np
import onnx
import onnxruntime as ort
from onnx.reference import ReferenceEvaluator
from onnxconverter_common import float16

MODELS = {
    "keras3/mlp": "digits_test", "keras3/cnn": "digits_test", "keras3/functional": "digits_test",
    "keras3/digits_lstm": "digits_rows_test", "keras3/digits_gru": "digits_rows_test",
    "keras3/digits_transformer": "digits_rows_test", "keras3/digits_wide_range": "digits_test",
}


def run(path, x):
    s = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return s.run(None, {s.get_inputs()[0].name: x})[0].astype(np.float32)


def main() -> int:
    binary, root = sys.argv[1], Path(sys.argv[2])
    work = Path(sys.argv[3]) if len(sys.argv) > 3 else Path(tempfile.mkdtemp())
    fixtures = root / "fixtures"
    print("| model | float top-1 | ours top-1 | onnxconverter top-1 | max abs diff ours / onnxconverter | "
          "non-finite (reference evaluator) ours / onnxconverter | bytes float / ours / onnxconverter |")
    print("|---|---:|---:|---:|---|---|---|")
    for model, data in MODELS.items():
        stem = model.replace("/", "-")
        source = fixtures / "models" / f"{model}.h5"
        flt, ours, theirs = work / f"{stem}.onnx", work / f"{stem}-fp16.onnx", work / f"{stem}-onnxconverter.onnx"
        subprocess.run([binary, "export", source, "-o", flt, "--opset", "17", "-q"], check=True)
        subprocess.run([binary, "quantize", source, "-o", ours, "--precision", "fp16", "--opset", "17", "-q",
                        "--calibration", fixtures / "data" / "digits_train.h5"], check=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            onnx.save(float16.convert_float_to_float16(onnx.load(flt), keep_io_types=True), theirs)
        with h5py.File(fixtures / "data" / f"{data}.h5", "r") as f:
            x, y = f["x"][()].astype(np.float32), f["y"][()]
        p = {k: run(v, x) for k, v in (("float", flt), ("ours", ours), ("theirs", theirs))}
        top1 = {k: 100 * float(np.mean(np.argmax(v, 1) == y)) for k, v in p.items()}
        name = onnx.load(flt).graph.input[0].name
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bad = {k: 100 * float(np.mean(~np.isfinite(ReferenceEvaluator(str(v)).run(None, {name: x})[0]))) for k, v in (("ours", ours), ("theirs", theirs))}
        size = [f.stat().st_size for f in (flt, ours, theirs)]
        print(f"| {model} | {top1['float']:.2f} % | {top1['ours']:.2f} % | {top1['theirs']:.2f} % | "
              f"{np.abs(p['ours'] - p['float']).max():.2e} / {np.abs(p['theirs'] - p['float']).max():.2e} | "
              f"{bad['ours']:.0f} % / {bad['theirs']:.0f} % | {size[0]:,} / {size[1]:,} ({size[1] / size[0]:.3f}×) / {size[2]:,} ({size[2] / size[0]:.3f}×) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
