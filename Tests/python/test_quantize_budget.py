"""`modelpress quantize --max-drop X --data TEST.h5` (accuracy budget): layers go back to float,
most sensitive first, until the drop holds; the file with float layers passes the full onnx
checker and runs in onnxruntime with the accuracy the report claims; an impossible budget
exits 1 and still writes the best file and the report.

Fallback is forced deterministically with hard-clipping calibration (`--method percentile
--percentile 90`), which costs the fixture CNN 4.2 points and the functional model 51 points."""

from __future__ import annotations

import json

import h5py
import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from conftest import FIXTURES, run_modelpress
from ort_helpers import run_ort

TRAIN = FIXTURES / "data" / "digits_train.h5"
TEST = FIXTURES / "data" / "digits_test.h5"
CLIP = ("--method", "percentile", "--percentile", "90")


def digits_test():
    with h5py.File(TEST, "r") as f:
        return f["x"][()].astype(np.float32), f["y"][()]


def quantize(tmp_path, model, max_drop, expect=0):
    out = tmp_path / f"{model.replace('/', '-')}-{max_drop}.onnx"
    proc = run_modelpress("quantize", FIXTURES / "models" / f"{model}.h5", "-o", out, "--calibration", TRAIN, *CLIP,
                          "--max-drop", max_drop, "--data", TEST, "--json", expect=expect)
    return out, json.loads(proc.stdout), proc


def float_weights(path):
    """Names of float (not int8) weight initializers feeding Conv/Gemm/MatMul nodes."""
    m = onnx.load(path)
    inits = {t.name: t for t in m.graph.initializer}
    names = set()
    for n in m.graph.node:
        if n.op_type in ("Conv", "Gemm", "MatMul") and n.input[1] in inits:
            names.add(n.input[1])
    return names


def ort_accuracy(path):
    x, y = digits_test()
    return float((run_ort(path, x).argmax(1) == y).mean())


def test_budget_returns_most_sensitive_layer_first(tmp_path):
    out, r, _ = quantize(tmp_path, "keras3/cnn", "0.02")
    b = r["budget"]
    assert b["fully_quantized_accuracy"] < b["float_accuracy"] - 0.02  # fallback really happened
    # conv_2 is the most sensitive layer (0.925 → 0.95 with it float); returning it suffices.
    assert [s["node"] for s in b["sensitivities"]][0] == "conv_2/conv"
    assert [s["node"] for s in b["returned_to_float"]] == ["conv_2/conv"]
    assert r["float_layers"] == ["conv_2/conv"]
    assert b["met"] and b["drop"] <= 0.02 + 1e-9
    assert abs(b["drop"] - (b["float_accuracy"] - b["accuracy"])) < 1e-12
    assert "conv_2/conv" not in [layer["node"] for layer in r["layers"]]
    sens = sorted((s["sensitivity"] for s in b["sensitivities"]), reverse=True)
    assert sens == [s["sensitivity"] for s in b["sensitivities"]]
    m = onnx.load(out)
    onnx.checker.check_model(m, full_check=True)
    # The float conv keeps a float weight; ORT reproduces the reported accuracy (≤ 1 sample of 360).
    assert any(onnx.TensorProto.FLOAT == t.data_type and t.name in float_weights(out) for t in m.graph.initializer)
    assert abs(ort_accuracy(out) - b["accuracy"]) <= 1 / 360 + 1e-9
    meta = {p.key: p.value for p in m.metadata_props}
    assert json.loads(meta["modelpress.compression"])["quantization"]["float_layers"] == ["conv_2/conv"]


def test_zero_budget_returns_layers_until_float_accuracy(tmp_path):
    out, r, _ = quantize(tmp_path, "keras3/cnn", "0")
    b = r["budget"]
    assert [s["node"] for s in b["returned_to_float"]] == ["conv_2/conv", "conv_1/conv", "dense/linear"]
    assert b["met"] and b["drop"] <= 1e-9
    assert [layer["node"] for layer in r["layers"]] == ["predictions/linear"]
    onnx.checker.check_model(onnx.load(out), full_check=True)
    assert abs(ort_accuracy(out) - b["accuracy"]) <= 1 / 360 + 1e-9


def test_budget_already_met_changes_nothing(tmp_path):
    out, r, _ = quantize(tmp_path, "keras3/mlp", "0.005")
    b = r["budget"]
    assert b["met"] and b["sensitivities"] == [] and b["returned_to_float"] == [] and r["float_layers"] == []


def test_impossible_budget_exits_1_and_writes_best(tmp_path):
    out, r, proc = quantize(tmp_path, "keras3/functional", "0.01", expect=1)
    b = r["budget"]
    assert not b["met"] and b["drop"] > 0.01
    assert "accuracy budget not met" in proc.stderr and str(out) in proc.stderr
    # Every Conv/Dense went back to float, and the GlobalAveragePool output as an activation
    # (0.7694 → 0.7722); the clipped Add inputs (Conv outputs) keep it from recovering.
    kinds = {s["node"]: s["kind"] for s in b["returned_to_float"]}
    assert kinds == {"stem_conv": "layer", "dw_conv": "layer", "pw_conv": "layer", "logits": "layer", "gap/pool": "activation"}, kinds
    assert {s["node"]: s["kind"] for s in b["sensitivities"]}["add_relu"] == "activation"
    assert r["float_activations"] == ["gap/pool"]
    assert b["accuracy"] == max([b["fully_quantized_accuracy"]] + [s["accuracy_after"] for s in b["returned_to_float"]])
    assert out.exists()
    onnx.checker.check_model(onnx.load(out), full_check=True)
    assert abs(ort_accuracy(out) - b["accuracy"]) <= 1 / 360 + 1e-9


def test_impossible_budget_text_report(tmp_path):
    out = tmp_path / "f.onnx"
    proc = run_modelpress("quantize", FIXTURES / "models" / "keras3/functional.h5", "-o", out, "--calibration", TRAIN, *CLIP,
                          "--max-drop", "0.01", "--data", TEST, expect=1)
    assert "kept float: stem_conv (sensitivity" in proc.stdout and "sensitivity" in proc.stdout
    assert out.exists()


@pytest.mark.parametrize("args", [("--max-drop", "0.01"), ("--data", str(TEST)), ("--max-drop", "-1", "--data", str(TEST))])
def test_budget_bad_options_exit_2(tmp_path, args):
    proc = run_modelpress("quantize", FIXTURES / "models" / "keras3/mlp.h5", "-o", tmp_path / "x.onnx",
                          "--calibration", TRAIN, *args, expect=2)
    assert "--max-drop" in proc.stderr
    assert not (tmp_path / "x.onnx").exists()


def test_budget_needs_labels(tmp_path):
    proc = run_modelpress("quantize", FIXTURES / "models" / "keras3/mlp.h5", "-o", tmp_path / "x.onnx",
                          "--calibration", TRAIN, "--max-drop", "0.01", "--data", TEST, "--y-key", "nope", expect=2)
    assert "nope" in proc.stderr
