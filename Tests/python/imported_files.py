"""Checks shared by the corpora of ONNX files other producers wrote (tf2onnx, torch.onnx.export):
each file imports and predicts what onnxruntime computes on it, re-exports to ONNX onnxruntime
runs with the same outputs, and quantizes to int8 with an output SQNR at least onnxruntime's own
quantize_static's on the same file − 0.5 dB (theirs the lowest its file gives when its scales
move by one float32 ulp, `ort_sqnr_floor`), at the file's opset."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import onnx

from conftest import FIXTURES, max_abs_diff, read_predictions, run_modelpress
from ort_helpers import ort_quantize_static, ort_sqnr_floor, run_ort, sqnr


def written(corpus: str) -> tuple[list[dict], list[str]]:
    """The entries of `fixtures/onnx/<corpus>/manifest.json` whose file was written, and test ids."""
    manifest = json.loads((FIXTURES / "onnx" / corpus / "manifest.json").read_text())
    entries = [e for e in manifest["entries"] if e["status"] == "written"]
    return entries, [f"{e['model']}-opset{e['opset']}" for e in entries]


def case(entry: dict) -> tuple:
    """(model file, data file, x key, inputs, onnxruntime's outputs) of a manifest entry."""
    with h5py.File(FIXTURES / entry["expected"], "r") as f:
        y = f["y_pred"][()]
        data, key = FIXTURES / str(f.attrs["input"]), str(f.attrs["x_key"])
    with h5py.File(data, "r") as f:
        x = f[key][()].astype(np.float32)
    return FIXTURES / entry["file"], data, key, x, y


def check_predicts_like_onnxruntime(tmp_path: Path, entry: dict) -> None:
    model, data, key, x, y = case(entry)
    out = tmp_path / "pred.h5"
    run_modelpress("predict", model, "--data", data, "--x-key", key, "-o", out, "-q")
    ours = read_predictions(out)
    scale = max(1.0, float(np.max(np.abs(y))))
    print(f"{entry['model']} opset {entry['opset']}: max |diff| vs onnxruntime {max_abs_diff(ours, y):.3g} (scale {scale:.3g})")
    np.testing.assert_allclose(ours, y, rtol=0, atol=1e-5 * scale)


def open_axes(model: Path, x) -> list[str]:
    """`--dim NAME=SIZE` for each symbolic non-batch input axis of the ONNX `model`, sized as the
    data `x` (one array, or one per input by name) — what export needs without --data."""
    args = []
    for value in onnx.load(str(model)).graph.input:
        data = x[value.name] if isinstance(x, dict) else x
        for axis, dim in list(enumerate(value.type.tensor_type.shape.dim))[1:]:
            if dim.dim_param:
                args += ["--dim", f"{dim.dim_param}={data.shape[axis]}"]
    return args


def check_reexports_and_quantizes(tmp_path: Path, entry: dict) -> None:
    model, data, key, x, y = case(entry)
    exported = tmp_path / "re.onnx"
    run_modelpress("export", model, "-o", exported, "-q", *open_axes(model, x))
    onnx.checker.check_model(onnx.load(str(exported)), full_check=True)
    theirs = run_ort(exported, x)
    scale = max(1.0, float(np.max(np.abs(y))))
    np.testing.assert_allclose(theirs, y, rtol=0, atol=1e-5 * scale)
    quantized = tmp_path / "int8.onnx"
    run_modelpress("quantize", model, "-o", quantized, "--calibration", data, "--x-key", key, "--opset", str(entry["opset"]), "-q")
    ours = sqnr(y, run_ort(quantized, x))
    theirs_file = tmp_path / "ort-int8.onnx"
    ort_quantize_static(model, theirs_file, x)
    floor = ort_sqnr_floor(y, theirs_file, x)
    print(f"{entry['model']} opset {entry['opset']}: int8 SQNR ours {ours:.1f} dB, onnxruntime {sqnr(y, run_ort(theirs_file, x)):.1f} (one-ulp floor {floor:.1f})")
    assert ours >= floor - 0.5, f"int8 SQNR {ours:.1f} dB < onnxruntime's floor {floor:.1f} - 0.5"
