"""Block pruning (`--structure block:RxC`) checked on the files it writes, read with onnx: every
zero lies in a whole block of R output channels × C inputs, the removed blocks are those of
smallest mean |w| (numpy on the unpruned export's kernels), AGP and fine-tuning keep whole blocks in
the shipped kernel, onnxruntime runs the file, and the block-sparse byte count matches a BSR layout
built here."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from conftest import FIXTURES, run_modelpress
from ort_helpers import run_ort
from test_prune import TEST, TRAIN, digits_labels, digits_test, kernels, prune


def block_view(w: np.ndarray, r: int, c: int) -> np.ndarray:
    """`w` (Conv OIHW or Gemm K×M) as [positions, output blocks, input blocks, r·c] with edge
    blocks padded by NaN, so blocks can be scored with nanmean and counted with ~isnan."""
    if w.ndim == 4:
        o, i = w.shape[:2]
        m = w.reshape(o, i, -1).transpose(2, 0, 1)          # [positions, O, I]
    else:
        m = w.T[None]                                        # [1, M, K]
    p, o, i = m.shape
    ob, ib = -(-o // r), -(-i // c)
    padded = np.full((p, ob * r, ib * c), np.nan, dtype=np.float64)
    padded[:, :o, :i] = m
    return padded.reshape(p, ob, r, ib, c).transpose(0, 1, 3, 2, 4).reshape(p, ob, ib, r * c)


def block_masks(w: np.ndarray, r: int, c: int):
    """(mean |w| of each block, whether the block is all zero in `w`)."""
    v = block_view(w, r, c)
    real = ~np.isnan(v)
    return np.nanmean(np.abs(v), axis=3).ravel(), (np.where(real, v, 0) == 0).all(axis=3).ravel()


def assert_whole_blocks(w: np.ndarray, r: int, c: int, name: str):
    """Every zero of `w` lies in an all-zero block (the unpruned kernels have no exact zeros)."""
    v = block_view(w, r, c)
    zero_blocks = (np.where(np.isnan(v), 0, v) == 0).all(axis=3)
    zeros = (v == 0).any(axis=3)
    assert np.array_equal(zeros, zero_blocks), f"{name}: a zero outside a whole zero block"


@pytest.mark.parametrize("model", ["keras3/cnn", "keras2/functional", "keras3/mlp"])
@pytest.mark.parametrize("shape", ["4x1", "2x2"])
@pytest.mark.parametrize("scope", ["layer", "global"])
def test_smallest_blocks_are_removed(tmp_path, model, shape, scope):
    r, c = map(int, shape.split("x"))
    (tmp_path / "dense").mkdir()
    dense, _ = prune(tmp_path / "dense", model, "--sparsity", "0")
    out, report = prune(tmp_path, model, "--structure", f"block:{shape}", "--sparsity", "0.75", "--scope", scope)
    assert report["structure"] == f"block:{shape}"
    onnx.checker.check_model(onnx.load(str(out)), full_check=True)
    assert np.all(np.isfinite(run_ort(out, digits_test())))
    before, after = kernels(dense), kernels(out)
    pruned = [layer for layer in report["layers"] if layer["skipped"] is None]
    assert len(pruned) >= 2
    scores, removed = [], []
    for layer in pruned:
        w0, w = before[layer["node"]], after[layer["node"]]
        assert np.count_nonzero(w0 == 0) == 0
        assert_whole_blocks(w, r, c, layer["node"])
        assert np.array_equal(w[w != 0], w0[w != 0]), "kept weights keep their values"
        mean, _ = block_masks(w0, r, c)
        _, zero = block_masks(w, r, c)
        if scope == "layer":
            assert zero.sum() == int(np.floor(0.75 * zero.size + 0.5)), layer["node"]
            assert mean[zero].max() <= mean[~zero].min() + 1e-6, layer["node"]
        scores.append(mean)
        removed.append(zero)
        assert layer["nonzeros"] == np.count_nonzero(w)
    if scope == "global":
        mean, zero = np.concatenate(scores), np.concatenate(removed)
        assert zero.sum() == int(np.floor(0.75 * zero.size + 0.5))
        assert mean[zero].max() <= mean[~zero].min() + 1e-6


def bsr_bytes(w: np.ndarray, r: int, c: int) -> int:
    """BSR size: the weights of every block with a nonzero, an int32 column per such block, int32
    row pointers (output blocks + 1)."""
    v = block_view(w, r, c)
    real = ~np.isnan(v)
    kept = ~(np.where(real, v, 0) == 0).all(axis=3)          # [positions, output blocks, input blocks]
    values = int(real.sum(axis=3)[kept].sum())
    return 4 * values + 4 * int(kept.sum()) + 4 * (v.shape[1] + 1)


def test_block_sparse_bytes_and_smaller_than_unstructured(tmp_path):
    out, report = prune(tmp_path, "keras3/cnn", "--structure", "block:4x1", "--sparsity", "0.8")
    (tmp_path / "u").mkdir()
    _, unstructured = prune(tmp_path / "u", "keras3/cnn", "--sparsity", "0.8", "--sparse-storage")
    found = kernels(out)
    block_total = coo_total = 0
    for layer in report["layers"]:
        if layer["skipped"] is not None:
            assert "blockSparse" not in layer
            continue
        assert layer["blockSparse"]["format"] == "block-sparse"
        assert layer["blockSparse"]["bytes"] == bsr_bytes(found[layer["node"]], 4, 1), layer["node"]
        assert layer["blockSparse"]["denseBytes"] == 4 * layer["parameters"]
        block_total += layer["blockSparse"]["bytes"]
    for layer in unstructured["layers"]:
        if layer["skipped"] is None:
            coo_total += layer["storage"]["bytes"]
    # 80% of 4×1 blocks: 0.2·n·4 value bytes + 0.05·n·4 index bytes ≈ 1.0·n, against 12 bytes per
    # nonzero of COO (2.4·n) and 4·n dense.
    assert block_total < 0.5 * coo_total, (block_total, coo_total)


@pytest.mark.parametrize("model,shape", [("keras3/functional", "4x1"), ("keras2/cnn", "1x4"), ("keras2/cnn", "4x1")])
def test_agp_keeps_whole_blocks_in_the_shipped_kernel(tmp_path, model, shape):
    """keras3/functional has BatchNorm (4×1 blocks fine-tune the unfolded model; folding scales
    output channels); keras2/cnn's Dense rows are permuted by the Flatten fold, so 1×4 blocks
    (several inputs) fine-tune the folded graph. Either way the file holds whole blocks, exactly
    the final fraction of them, and fine-tuning beats one-shot pruning to the same sparsity."""
    r, c = map(int, shape.split("x"))
    out, report = prune(tmp_path, model, "--structure", f"block:{shape}", "--sparsity", "0.5", "--scope", "layer", "--schedule", "agp",
                        "--steps", "2", "--epochs-per-step", "1", "--fine-tune-data", TRAIN)
    assert [round(s["sparsity"], 12) for s in report["steps"]] == [0.4375, 0.5]
    found = kernels(out)
    for layer in report["layers"]:
        if layer["skipped"] is not None:
            continue
        w = found[layer["node"]]
        assert_whole_blocks(w, r, c, layer["node"])
        _, zero = block_masks(w, r, c)
        assert zero.sum() == int(np.floor(0.5 * zero.size + 0.5)), layer["node"]
    (tmp_path / "oneshot").mkdir()
    oneshot, _ = prune(tmp_path / "oneshot", model, "--structure", f"block:{shape}", "--sparsity", "0.5", "--scope", "layer")

    def accuracy(path):
        return float(np.mean(np.argmax(run_ort(path, digits_test()), axis=1) == digits_labels()))
    assert accuracy(out) >= accuracy(oneshot), (accuracy(out), accuracy(oneshot))


@pytest.mark.parametrize("structure", ["block:1x1", "block:0x4", "block:4", "block:4x1x1", "block:65x1"])
def test_bad_block_shape_exits_2(tmp_path, structure):
    out = tmp_path / "bad.onnx"
    proc = run_modelpress("prune", FIXTURES / "models" / "keras3" / "cnn.h5", "-o", out, "--structure", structure,
                          "--sparsity", "0.5", expect=2)
    assert "block:RxC" in proc.stderr, proc.stderr
    assert not out.exists()


def test_block_without_sparsity_exits_2(tmp_path):
    out = tmp_path / "bad.onnx"
    proc = run_modelpress("prune", FIXTURES / "models" / "keras3" / "cnn.h5", "-o", out, "--structure", "block:4x1", expect=2)
    assert "--sparsity" in proc.stderr and not out.exists()
