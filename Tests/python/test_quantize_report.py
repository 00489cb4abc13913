"""`modelpress quantize` per-layer error report: bits, scheme, bytes, SQNR/MSE of each layer's
output vs the float model on the calibration data, in --json and --report-md (Markdown)."""

from __future__ import annotations

import json

from conftest import FIXTURES, run_modelpress

TRAIN = FIXTURES / "data" / "digits_train.h5"
CNN = FIXTURES / "models" / "keras3" / "cnn.h5"


def quantize(tmp_path, *options):
    out = tmp_path / "q.onnx"
    md = tmp_path / "q.md"
    proc = run_modelpress("quantize", CNN, "-o", out, "--calibration", TRAIN, "--json", "--report-md", md, *options)
    return json.loads(proc.stdout), md.read_text()


def test_report_fields_and_markdown(tmp_path):
    r, md = quantize(tmp_path)
    assert [layer["node"] for layer in r["layers"]] == ["conv_1/conv", "conv_2/conv", "dense/linear", "predictions/linear"]
    for layer in r["layers"]:
        assert layer["bits"] == 8 and layer["scheme"] == "affine"
        assert layer["sqnr_db"] > 30 and 0 < layer["mse"] < 0.01
    # conv_1: 16×1×3×3 int8 weights + 16 int32 biases + 16 × (scale + zero point).
    assert r["layers"][0]["bytes"] == 144 + 64 + 80
    assert "| conv_1/conv | 8 | affine |" in md and "SQNR (dB)" in md
    assert not list(tmp_path.glob("*.tmp*"))


def test_clipping_lowers_sqnr(tmp_path):
    minmax, _ = quantize(tmp_path)
    clipped, _ = quantize(tmp_path, "--method", "percentile", "--percentile", "50")
    for a, b in zip(minmax["layers"], clipped["layers"]):
        assert b["sqnr_db"] < a["sqnr_db"] - 20, (a["node"], a["sqnr_db"], b["sqnr_db"])
        assert b["mse"] > a["mse"]


def test_samples_bound_the_error_pass(tmp_path):
    r, _ = quantize(tmp_path, "--samples", "64")
    assert r["calibration_samples"] == 64 and all(layer["sqnr_db"] > 30 for layer in r["layers"])


def test_budget_section_in_markdown(tmp_path):
    r, md = quantize(tmp_path, "--method", "percentile", "--percentile", "90", "--max-drop", "0.02",
                     "--data", FIXTURES / "data" / "digits_test.h5")
    assert "## Accuracy budget" in md and "| conv_2/conv |" in md and "float (accuracy after:" in md
    assert r["float_layers"] == ["conv_2/conv"]


def test_report_md_bad_directory_exits_2(tmp_path):
    proc = run_modelpress("quantize", CNN, "-o", tmp_path / "q.onnx", "--calibration", TRAIN,
                          "--report-md", tmp_path / "missing" / "r.md", expect=2)
    assert "--report-md" in proc.stderr and not (tmp_path / "q.onnx").exists()
