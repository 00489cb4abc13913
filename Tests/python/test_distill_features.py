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


def prune(out, *extra, expect=0):
    return run_modelpress("prune", TEACHER, "-o", out, "--sparsity", "0.8", "--schedule", "agp", "--steps", "2", "--epochs-per-step", "1",
                          "--fine-tune-data", TRAIN, "--seed", "2", "--distill-from-original", *extra, expect=expect)


def test_pruning_fine_tuning_distills_the_unpruned_models_features(tmp_path):
    """`prune --distill-from-original --match LAYER,…`: the unpruned model's intermediate values
    are distilled into the same layers of the pruned one. At weight 0 the file is byte for byte
    the logit-only one (the feature term adds nothing else); at weight 1 the fine-tuning
    changes, the sparsity is the same, and onnxruntime runs the file as ModelPress does."""
    plain, zero, features = tmp_path / "plain.onnx", tmp_path / "zero.onnx", tmp_path / "features.onnx"
    prune(plain)
    prune(zero, "--match", "conv_1,conv_2", "--feature-weight", "0")
    assert zero.read_bytes() == plain.read_bytes()
    proc = prune(features, "--match", "conv_1,conv_2")
    assert "feature distillation from the unpruned model" in proc.stderr
    with h5py.File(TEST, "r") as f:
        x = f["x"][()].astype(np.float32)
    assert np.abs(run_ort(plain, x) - run_ort(features, x)).max() > 1e-3
    def zeros(path):
        return sum(int(np.sum(onnx.numpy_helper.to_array(t) == 0)) for t in onnx.load(str(path)).graph.initializer)
    assert zeros(features) == zeros(plain)
    pred = tmp_path / "pred.h5"
    run_modelpress("predict", features, "--data", TEST, "-o", pred)
    with h5py.File(pred, "r") as f:
        assert np.abs(f["y_pred"][()] - run_ort(features, x)).max() < 1e-4


@pytest.mark.parametrize("extra, message", [
    (("--match", "conv_9"), "--match conv_9:conv_9: the teacher has no layer 'conv_9'"),
])
def test_pruning_feature_match_refusals(tmp_path, extra, message):
    r = prune(tmp_path / "x.onnx", *extra, expect=2)
    assert message in r.stderr and not (tmp_path / "x.onnx").exists()
    r = run_modelpress("prune", TEACHER, "-o", tmp_path / "x.onnx", "--sparsity", "0.5", "--fine-tune-data", TRAIN, "--match", "conv_1", expect=2)
    assert "--match needs --distill-from-original" in r.stderr
