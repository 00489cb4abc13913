"""`distill --match`: feature distillation runs end to end (learned projections where the widths
differ), changes what is learned against logit-only distillation with the same seed, writes a
student onnxruntime runs with ModelPress's outputs, and bad matches exit 2 without writing."""

from __future__ import annotations

import h5py
import numpy as np
import onnx
import pytest

from conftest import FIXTURES, run_modelpress
from ort_helpers import run_ort

TEACHER = FIXTURES / "models" / "keras3" / "cnn.h5"
TRAIN = FIXTURES / "data" / "digits_train.h5"
TEST = FIXTURES / "data" / "digits_test.h5"


def distill(out, *extra, expect=0):
    return run_modelpress("distill", "--teacher", TEACHER, "--student", "conv:8,16", "--data", TRAIN, "-o", out,
                          "--epochs", "2", "--seed", "3", *extra, expect=expect)


def test_feature_distillation_runs_and_changes_the_student(tmp_path):
    plain, features = tmp_path / "plain.onnx", tmp_path / "features.onnx"
    distill(plain)
    proc = distill(features, "--match", "pool_1:pool_1,pool_2:pool_2")
    assert "learned projection 8 → 16" in proc.stdout + proc.stderr and "learned projection 16 → 32" in proc.stdout + proc.stderr
    onnx.checker.check_model(onnx.load(str(features)), full_check=True)
    with h5py.File(TEST, "r") as f:
        x = f["x"][()].astype(np.float32)
    y_plain, y_features = run_ort(plain, x), run_ort(features, x)
    assert np.abs(y_plain - y_features).max() > 1e-3, "the feature loss must change the training"
    pred = tmp_path / "pred.h5"
    run_modelpress("predict", features, "--data", TEST, "-o", pred)
    with h5py.File(pred, "r") as f:
        assert np.abs(f["y_pred"][()] - y_features).max() < 1e-4


@pytest.mark.parametrize("match,message", [
    ("nosuch:pool_2", "the teacher has no layer 'nosuch'"),
    ("pool_2:nosuch", "the student has no layer 'nosuch'"),
    ("pool_2", "TEACHER_LAYER:STUDENT_LAYER"),
    ("pool_1:pool_2", "differ in positions"),
])
def test_bad_match_exits_2(tmp_path, match, message):
    out = tmp_path / "bad.onnx"
    proc = distill(out, "--match", match, expect=2)
    assert message in proc.stderr, proc.stderr
    assert not out.exists()
