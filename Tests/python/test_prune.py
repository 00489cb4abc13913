"""`modelpress prune` checked in the real onnx checker and onnxruntime: the pruned file passes
the full check and runs, its weight counts are exact when read with onnx itself, 2:4 groups
hold exactly 2 nonzeros, and sparsity 0 reproduces the plain export's outputs."""

from __future__ import annotations

import json

import h5py
import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from conftest import FIXTURES, max_abs_diff, run_modelpress
from ort_helpers import run_ort

MODELS = [f"{k}/{m}" for k in ("keras3", "keras2") for m in ("mlp", "cnn", "functional")]
TEST = FIXTURES / "data" / "digits_test.h5"


def digits_test() -> np.ndarray:
    with h5py.File(TEST, "r") as f:
        return f["x"][()].astype(np.float32)


def prune(tmp_path, model: str, *options: str):
    out = tmp_path / f"{model.replace('/', '-')}-pruned.onnx"
    proc = run_modelpress("prune", FIXTURES / "models" / f"{model}.h5", "-o", out, "--json", *options)
    return out, json.loads(proc.stdout)


def kernels(path) -> dict[str, np.ndarray]:
    """Weight initializers of Conv and Gemm/MatMul nodes by node name (Gemm is written with transB = 0: K×M)."""
    m = onnx.load(str(path))
    inits = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    return {n.name: inits[n.input[1]] for n in m.graph.node
            if n.op_type in ("Conv", "Gemm", "MatMul") and len(n.input) > 1 and n.input[1] in inits}


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("sparsity", [0.5, 0.9])
def test_pruned_file_checks_runs_and_counts_are_exact(tmp_path, model, sparsity):
    out, report = prune(tmp_path, model, "--sparsity", str(sparsity))
    onnx.checker.check_model(onnx.load(str(out)), full_check=True)
    y = run_ort(out, digits_test())
    assert y.shape[0] == digits_test().shape[0] and np.all(np.isfinite(y))
    found = kernels(out)
    pruned = [layer for layer in report["layers"] if layer["skipped"] is None]
    assert pruned, report
    for layer in pruned:
        w = found[layer["node"]]
        assert w.size == layer["parameters"]
        expected_zeros = int(np.floor(sparsity * w.size + 0.5))
        assert int(np.count_nonzero(w == 0)) == expected_zeros, layer
        assert int(np.count_nonzero(w)) == layer["nonzeros"]


@pytest.mark.parametrize("model", ["keras3/cnn", "keras3/mlp"])
def test_two_of_four_groups(tmp_path, model):
    out, report = prune(tmp_path, model, "--structure", "2:4")
    onnx.checker.check_model(onnx.load(str(out)), full_check=True)
    run_ort(out, digits_test())
    for name, w in kernels(out).items():
        # Conv OIHW → groups along I; Gemm K×M → groups along K.
        groups = w.reshape(w.shape[0], w.shape[1], -1) if w.ndim == 4 else w.reshape(1, w.shape[0], w.shape[1])
        if groups.shape[1] % 4:
            assert np.count_nonzero(w == 0) == 0, f"{name}: indivisible input dimension is left dense"
            continue
        o, k, inner = groups.shape
        nonzeros = np.count_nonzero(groups.reshape(o, k // 4, 4, inner), axis=2)
        assert np.all(nonzeros == 2), name


def test_sparsity_zero_matches_plain_export(tmp_path):
    source = FIXTURES / "models" / "keras3" / "cnn.h5"
    plain = tmp_path / "plain.onnx"
    run_modelpress("export", source, "-o", plain)
    out, _ = prune(tmp_path, "keras3/cnn", "--sparsity", "0")
    x = digits_test()
    assert max_abs_diff(run_ort(out, x), run_ort(plain, x)) == 0.0


def test_bad_sparsity_exits_2(tmp_path):
    out = tmp_path / "bad.onnx"
    proc = run_modelpress("prune", FIXTURES / "models" / "keras3" / "cnn.h5", "-o", out, "--sparsity", "1.0", expect=2)
    assert "outside [0, 1)" in proc.stderr
    assert not out.exists()
