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
    out, report = prune(tmp_path, model, "--sparsity", str(sparsity), "--scope", "layer")
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


# --- gradual pruning, per-layer targets, sparse storage -------------------------------------

TRAIN = FIXTURES / "data" / "digits_train.h5"


def digits_labels() -> np.ndarray:
    with h5py.File(TEST, "r") as f:
        return f["y"][()]


def agp(tmp_path, model: str, *options: str):
    return prune(tmp_path, model, "--schedule", "agp", "--steps", "2", "--epochs-per-step", "1",
                 "--fine-tune-data", TRAIN, *options)


def test_agp_with_batchnorm_has_exact_sparsity_after_folding(tmp_path):
    """keras3/functional has BatchNorm after stem_conv and pw_conv: the unfolded model is pruned and
    fine-tuned (BN frozen), the export folds BN into the kernels; counted with onnx, zeros stay exact."""
    out, report = agp(tmp_path, "keras3/functional", "--sparsity", "0.5", "--scope", "layer")
    assert report["schedule"] == "agp" and [s["step"] for s in report["steps"]] == [1, 2]
    # AGP with K = 2: s_1 = 0.5·(1 − 0.5³) = 0.4375, s_2 = 0.5.
    assert [round(s["sparsity"], 12) for s in report["steps"]] == [0.4375, 0.5]
    m = onnx.load(str(out))
    assert not any(n.op_type == "BatchNormalization" for n in m.graph.node)
    found = kernels(out)
    pruned = [layer for layer in report["layers"] if layer["skipped"] is None]
    assert {layer["layer"] for layer in pruned} == {"stem_conv", "pw_conv", "logits"}
    for layer in pruned:
        w = found[layer["node"]]
        assert int(np.count_nonzero(w == 0)) == int(np.floor(0.5 * w.size + 0.5)), layer
    # Fine-tuning recovers what one-shot pruning to the same sparsity loses (826 weights: fragile).
    (tmp_path / "oneshot").mkdir()
    oneshot, _ = prune(tmp_path / "oneshot", "keras3/functional", "--sparsity", "0.5", "--scope", "layer")
    def accuracy(path):
        return float(np.mean(np.argmax(run_ort(path, digits_test()), axis=1) == digits_labels()))
    assert accuracy(out) > max(0.85, accuracy(oneshot) + 0.3), (accuracy(out), accuracy(oneshot))


def test_agp_distilled_from_original_is_deterministic_and_accurate(tmp_path):
    a, report = agp(tmp_path, "keras2/mlp", "--sparsity", "0.5", "--distill-from-original", "--seed", "3")
    b = tmp_path / "again.onnx"
    run_modelpress("prune", FIXTURES / "models" / "keras2" / "mlp.h5", "-o", b, "--sparsity", "0.5", "--schedule", "agp",
                   "--steps", "2", "--epochs-per-step", "1", "--fine-tune-data", TRAIN, "--distill-from-original", "--seed", "3", "-q")
    assert a.read_bytes() == b.read_bytes()
    meta = {p.key: p.value for p in onnx.load(str(a)).metadata_props}
    assert json.loads(meta["modelpress.compression"])["pruning"]["distilled"] is True
    accuracy = float(np.mean(np.argmax(run_ort(a, digits_test()), axis=1) == digits_labels()))
    assert accuracy > 0.9, accuracy


def test_sparsity_per_layer_is_exact(tmp_path):
    out, report = prune(tmp_path, "keras3/cnn", "--sparsity", "0.5", "--sparsity-per-layer", "conv_1=0.25,dense=0.95", "--scope", "layer")
    expected = {"conv_1": 0.25, "conv_2": 0.5, "dense": 0.95, "predictions": 0.5}
    found = kernels(out)
    for layer in report["layers"]:
        w = found[layer["node"]]
        assert layer["target"] == expected[layer["layer"]]
        assert int(np.count_nonzero(w == 0)) == int(np.floor(expected[layer["layer"]] * w.size + 0.5)), layer


def test_sparsity_per_layer_alone_leaves_other_layers_dense(tmp_path):
    out, report = prune(tmp_path, "keras3/mlp", "--sparsity-per-layer", "dense_2=0.9")
    found = kernels(out)
    for layer in report["layers"]:
        zeros = int(np.count_nonzero(found[layer["node"]] == 0))
        if layer["layer"] == "dense_2":
            assert zeros == int(np.floor(0.9 * layer["parameters"] + 0.5))
        else:
            assert layer["skipped"] == "not listed in --sparsity-per-layer" and zeros == 0


@pytest.mark.parametrize("model", ["keras3/cnn", "keras3/mlp"])
def test_sparse_storage_is_smaller_and_identical_in_onnxruntime(tmp_path, model):
    dense, _ = prune(tmp_path, model, "--sparsity", "0.9", "--scope", "layer")
    sparse = tmp_path / "sparse.onnx"
    proc = run_modelpress("prune", FIXTURES / "models" / f"{model}.h5", "-o", sparse, "--sparsity", "0.9", "--scope", "layer", "--sparse-storage", "--json")
    report = json.loads(proc.stdout)
    m = onnx.load(str(sparse))
    assert len(m.graph.sparse_initializer) >= 3
    for s in m.graph.sparse_initializer:
        # COO with int64 linearized indices, ascending (ONNX SparseTensorProto form (b)).
        idx = numpy_helper.to_array(s.indices)
        assert s.indices.data_type == onnx.TensorProto.INT64 and idx.ndim == 1 and np.all(np.diff(idx) > 0)
    assert sparse.stat().st_size < dense.stat().st_size * 0.5
    assert report["output"]["bytes"] == sparse.stat().st_size
    assert any(layer["storage"]["format"] == "sparse" for layer in report["layers"])
    x = digits_test()
    assert np.array_equal(run_ort(sparse, x), run_ort(dense, x))
    # onnx's plain check accepts the file; its full check (strict shape inference) rejects
    # sparse initializers feeding Conv/Gemm (docs/pruning.md). If onnx learns them, update the docs.
    onnx.checker.check_model(m)
    with pytest.raises(onnx.shape_inference.InferenceError, match="sparse_tensor"):
        onnx.checker.check_model(m, full_check=True)
    # ModelPress's importer densifies them: re-exporting dense gives the dense file's weights.
    again = tmp_path / "redense.onnx"
    run_modelpress("export", sparse, "-o", again)
    for name, w in kernels(dense).items():
        assert np.array_equal(kernels(again)[name], w), name


def test_storage_report_bytes(tmp_path):
    import gzip
    out, report = prune(tmp_path, "keras3/cnn", "--sparsity", "0.8")
    found = kernels(out)
    for layer in report["layers"]:
        w = found[layer["node"]].astype("<f4")
        st = layer["storage"]
        assert st["format"] == "dense" and st["bytes"] == w.nbytes == st["denseBytes"]
        # zlib level 9 vs Python's gzip level 9: same deflate stream, same 18-byte wrapper.
        assert st["gzipBytes"] == len(gzip.compress(w.tobytes(), compresslevel=9, mtime=0))


@pytest.mark.parametrize("options,message", [
    (["--sparsity=-0.1"], "outside [0, 1)"),
    (["--sparsity", "0.5", "--sparsity-per-layer", "dense=1.0"], "outside [0, 1)"),
    (["--sparsity", "0.5", "--sparsity-per-layer", "dense=0.5,nosuch=0.2,other=0.1"], "'nosuch', 'other'"),
    (["--sparsity", "0.5", "--sparsity-per-layer", "dense"], "is not NAME=S"),
    (["--sparsity", "0.5", "--schedule", "agp"], "--fine-tune-data"),
    (["--structure", "2:4", "--schedule", "agp", "--fine-tune-data", str(TRAIN)], "--schedule agp"),
])
def test_bad_pruning_input_exits_2(tmp_path, options, message):
    out = tmp_path / "bad.onnx"
    proc = run_modelpress("prune", FIXTURES / "models" / "keras3" / "cnn.h5", "-o", out, *options, expect=2)
    assert message in proc.stderr, proc.stderr
    assert not out.exists()


def test_one_shot_fine_tuning_keeps_the_one_shot_mask(tmp_path):
    """The zero positions after fine-tuning are exactly those of one-shot pruning (no BN, so
    both rank the same weights): pruned weights stay zero, no other weight becomes zero, and the
    surviving weights changed. The validation accuracy ModelPress reports is onnxruntime's."""
    (tmp_path / "plain").mkdir()
    plain, _ = prune(tmp_path / "plain", "keras2/mlp", "--sparsity", "0.7")
    tuned, report = prune(tmp_path, "keras2/mlp", "--sparsity", "0.7", "--fine-tune-data", TRAIN,
                          "--epochs-per-step", "2", "--validation", TEST)
    assert report["schedule"] == "oneshot" and len(report["steps"]) == 1
    before, after = kernels(plain), kernels(tuned)
    for name, w in before.items():
        assert np.array_equal(after[name] == 0, w == 0), name
        assert not np.array_equal(after[name], w), name
    reported = report["steps"][0]["epochs"][-1]["val_accuracy"]
    measured = float(np.mean(np.argmax(run_ort(tuned, digits_test()), axis=1) == digits_labels()))
    assert abs(reported - measured) <= 1 / 360 + 1e-12, (reported, measured)


def test_two_of_four_with_fine_tuning_keeps_groups_in_the_shipped_kernel(tmp_path):
    """The Dense after the CNN's channels-last Flatten has its rows permuted at export: the 2:4
    groups must be formed on the shipped kernel, and fine-tuning must keep them."""
    out, report = prune(tmp_path, "keras2/cnn", "--structure", "2:4", "--fine-tune-data", TRAIN, "--epochs-per-step", "1")
    assert len(report["steps"]) == 1
    checked = 0
    for name, w in kernels(out).items():
        groups = w.reshape(w.shape[0], w.shape[1], -1) if w.ndim == 4 else w.reshape(1, w.shape[0], w.shape[1])
        o, k, inner = groups.shape
        if k % 4:
            continue
        assert np.all(np.count_nonzero(groups.reshape(o, k // 4, 4, inner), axis=2) == 2), name
        checked += 1
    assert checked == 3


def _with_sparse_kernels(src, dst, two_d: bool, shuffle: bool = False):
    """Rewrites every Conv/Gemm kernel of `src` as a sparse initializer with onnx's own helpers:
    indices [NNZ, rank] (form a) or [NNZ] linearized (form b)."""
    m = onnx.load(str(src))
    names = {n.input[1] for n in m.graph.node if n.op_type in ("Conv", "Gemm", "MatMul")}
    keep = []
    for t in m.graph.initializer:
        if t.name not in names:
            keep.append(t)
            continue
        w = numpy_helper.to_array(t)
        flat = np.flatnonzero(w)
        if shuffle:
            flat = flat[::-1]
        idx = np.stack(np.unravel_index(flat, w.shape), axis=1) if two_d else flat
        values = numpy_helper.from_array(w.reshape(-1)[flat].astype(np.float32), t.name)
        indices = numpy_helper.from_array(idx.astype(np.int64), t.name + "_idx")
        m.graph.sparse_initializer.append(onnx.helper.make_sparse_tensor(values, indices, list(w.shape)))
    del m.graph.initializer[:]
    m.graph.initializer.extend(keep)
    onnx.save(m, str(dst))


@pytest.mark.parametrize("two_d", [True, False])
def test_importer_reads_both_sparse_index_forms(tmp_path, two_d):
    dense, _ = prune(tmp_path, "keras3/cnn", "--sparsity", "0.8")
    sparse = tmp_path / "onnx-made-sparse.onnx"
    _with_sparse_kernels(dense, sparse, two_d)
    x = digits_test()
    assert np.array_equal(run_ort(sparse, x), run_ort(dense, x))   # onnxruntime agrees it is the same model
    again = tmp_path / "again.onnx"
    run_modelpress("export", sparse, "-o", again)
    for name, w in kernels(dense).items():
        assert np.array_equal(kernels(again)[name], w), name


def test_importer_rejects_unsorted_sparse_indices(tmp_path):
    dense, _ = prune(tmp_path, "keras3/cnn", "--sparsity", "0.8")
    bad = tmp_path / "unsorted.onnx"
    _with_sparse_kernels(dense, bad, two_d=False, shuffle=True)
    proc = run_modelpress("export", bad, "-o", tmp_path / "out.onnx", expect=2)
    assert "not ascending" in proc.stderr and "sparse initializer" in proc.stderr, proc.stderr


def test_recurrent_kernels_are_pruned_by_magnitude(tmp_path):
    """An LSTM's input and recurrent kernels are candidates like Dense kernels: at 50 % each
    loses exactly half its weights, the smallest |w| of the unpruned export's, and the file runs
    in onnxruntime as ModelPress runs it."""
    model = FIXTURES / "models" / "keras3" / "digits_lstm.keras"
    original, pruned = tmp_path / "float.onnx", tmp_path / "pruned.onnx"
    run_modelpress("export", model, "-o", original, "-q")
    report = json.loads(run_modelpress("prune", model, "--sparsity", "0.5", "--scope", "layer", "-o", pruned, "--json").stdout)
    recurrent = [layer for layer in report["layers"] if layer["op"] in ("LSTM", "LSTM R")]
    assert [layer["op"] for layer in recurrent] == ["LSTM", "LSTM R"] and all(layer["skipped"] is None for layer in recurrent), recurrent
    before = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(original)).graph.initializer}
    after = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(pruned)).graph.initializer}
    for name in ("lstm/sequence/W", "lstm/sequence/R"):
        w, p = before[name].ravel(), after[name].ravel()
        assert np.count_nonzero(p == 0) == w.size // 2, name
        kept = np.abs(w[p != 0])
        assert kept.min() >= np.sort(np.abs(w))[w.size // 2 - 1], f"{name}: a kept weight is smaller than a pruned one"
        assert np.array_equal(p[p != 0], w[p != 0]), f"{name}: kept weights changed"
    with h5py.File(FIXTURES / "data" / "digits_rows_test.h5", "r") as f:
        x = f["x"][()]
    out = tmp_path / "pred.h5"
    run_modelpress("predict", pruned, "--data", FIXTURES / "data" / "digits_rows_test.h5", "-o", out, "-q")
    with h5py.File(out, "r") as f:
        np.testing.assert_allclose(f["y_pred"][()], run_ort(pruned, x), rtol=0, atol=1e-5)


def lamp_scores(w: np.ndarray) -> np.ndarray:
    """LAMP (Lee et al., 2021): w_u² / Σ of the squares of the weights ranked at or above u."""
    flat = np.abs(w.astype(np.float64)).ravel()
    order = np.lexsort((np.arange(flat.size), flat))          # |w| ascending, then index
    tail = np.cumsum((flat[order] ** 2)[::-1])[::-1]
    scores = np.empty_like(flat)
    scores[order] = flat[order] ** 2 / tail
    return scores


@pytest.mark.parametrize("model", ["keras3/cnn", "keras3/functional"])
def test_default_scope_is_lamp_for_unstructured_and_layer_for_two_of_four(tmp_path, model):
    """docs/defaults.md: without --scope, unstructured pruning removes round(S·N) of all N
    prunable weights, those of smallest LAMP score over all kernels (numpy on the unpruned
    export), no kernel is emptied, and 2:4 stays per group."""
    (tmp_path / "dense").mkdir()
    dense, _ = prune(tmp_path / "dense", model, "--sparsity", "0")
    out, report = prune(tmp_path, model, "--sparsity", "0.8")
    assert report["scope"] == "lamp" and not report["warnings"]
    before, after = kernels(dense), kernels(out)
    pruned = [layer["node"] for layer in report["layers"] if layer["skipped"] is None]
    scores = np.concatenate([lamp_scores(before[n]) for n in pruned])
    zeros = np.concatenate([(after[n] == 0).ravel() for n in pruned])
    assert zeros.sum() == int(np.floor(0.8 * scores.size + 0.5))
    assert scores[zeros].max() <= scores[~zeros].min() + 1e-6
    assert all(np.count_nonzero(after[n]) > 0 for n in pruned)
    _, report = prune(tmp_path, "keras3/cnn", "--structure", "2:4")
    assert report["scope"] == "layer"
