"""Large fixtures (gitignored, made on demand; each test is skipped when its files are not
there): ResNet50 (random weights, 224×224; `fixtures/make_fixtures.sh --large`, ~100 MB) and
the 3.4 GB wide MLP with external data (`fixtures/.venv/bin/python fixtures/make_large_mlp.py`)."""

from __future__ import annotations

import os
import resource
import subprocess

import h5py
import numpy as np
import onnx
import pytest

from conftest import BINARY, FIXTURES, max_abs_diff, read_predictions, run_modelpress
from ort_helpers import run_ort, without_final_softmax

LARGE = FIXTURES / "large"
RESNET = pytest.mark.skipif(not (LARGE / "resnet50.h5").exists(),
                            reason="fixtures/large/ not generated (fixtures/make_fixtures.sh --large)")


@RESNET
def test_resnet50_export_matches_keras_and_modelpress(tmp_path):
    path = tmp_path / "resnet50.onnx"
    run_modelpress("export", LARGE / "resnet50.h5", "-o", path, "-q")
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    with h5py.File(LARGE / "expected_resnet50.h5", "r") as f:
        ref = f["y_pred"][()]
    with h5py.File(LARGE / "imagenet_like_224.h5", "r") as f:
        x = f["x"][()].astype(np.float32)
    theirs = run_ort(path, x, threads=2)
    print(f"resnet50: onnxruntime vs Keras max |diff| = {max_abs_diff(theirs, ref):.3g}")
    np.testing.assert_allclose(theirs, ref, rtol=1e-5, atol=1e-5)
    logits_path = tmp_path / "logits.onnx"
    onnx.save(without_final_softmax(model), str(logits_path))
    logits = run_ort(logits_path, x, threads=2)
    out = tmp_path / "pred.h5"
    run_modelpress("predict", logits_path, "--data", LARGE / "imagenet_like_224.h5", "-o", out, "-q")
    ours = read_predictions(out)
    scale = float(np.max(np.abs(logits)))
    print(f"resnet50: modelpress vs onnxruntime logits max |diff| = {max_abs_diff(ours, logits):.3g} (max |logit| {scale:.3g})")
    np.testing.assert_allclose(ours, logits, rtol=1e-4, atol=1e-4 * scale)
    again = tmp_path / "again.onnx"
    run_modelpress("export", path, "-o", again, "-q")
    assert again.read_bytes() == path.read_bytes()


WIDE = LARGE / "wide_mlp"


WIDE_MLP = pytest.mark.skipif(not (WIDE / "wide_mlp.onnx").exists(), reason="fixtures/large/wide_mlp/ not made (fixtures/make_large_mlp.py)")


@WIDE_MLP
def test_3gb_model_reads_and_writes_external_data(tmp_path):
    out = tmp_path / "wide.onnx"
    run_modelpress("export", WIDE / "wide_mlp.onnx", "-o", out, "-q")
    assert (tmp_path / "wide.onnx.data").stat().st_size >= 3_356_000_000 and out.stat().st_size < 10_000
    pred = tmp_path / "pred.h5"
    run_modelpress("predict", out, "--data", WIDE / "inputs.h5", "-o", pred, "-q")
    with h5py.File(WIDE / "inputs.h5", "r") as f:
        expected = f["y_pred"][()]
    assert max_abs_diff(read_predictions(pred), expected) < 1e-5


@WIDE_MLP
def test_wide_mlp_under_a_4_gib_address_space_is_refused_up_front(tmp_path):
    # 3.1 GiB of weights, read 1 GiB tensor at a time: 4.1 GiB at the peak does not fit in
    # 4 GiB, so the command stops before reading (a naive read aborts at 3.3 GB).
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

    proc = subprocess.run([BINARY, "export", WIDE / "wide_mlp.onnx", "-o", tmp_path / "m.onnx"], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ), preexec_fn=limit)
    assert proc.returncode == 2, proc.stderr
    assert "reading its 3.1 GiB of weights needs about 4.1 GiB" in proc.stderr and "ulimit -v" in proc.stderr, proc.stderr
    assert not (tmp_path / "m.onnx").exists()
