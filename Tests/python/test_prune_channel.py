"""`modelpress prune --structure channel` checked with onnx and onnxruntime: the thinned file
passes the full check and runs, its weights have the analytically expected shapes, the file
shrinks by the removed parameters, and onnxruntime computes on it exactly what it computes on
the unpruned export with the removed channels' consumer weights zeroed (the masked model)."""

from __future__ import annotations

import json

import h5py
import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from conftest import FIXTURES, run_modelpress
from ort_helpers import run_ort

TEST = FIXTURES / "data" / "digits_test.h5"


def digits_test() -> np.ndarray:
    with h5py.File(TEST, "r") as f:
        return f["x"][()].astype(np.float32)


def channel_prune(tmp_path, model: str, *options: str):
    out = tmp_path / f"{model.replace('/', '-')}-channel.onnx"
    proc = run_modelpress("prune", FIXTURES / "models" / f"{model}.h5", "-o", out, "--json", "--structure", "channel", *options)
    return out, json.loads(proc.stdout)


def export(tmp_path, model: str):
    out = tmp_path / f"{model.replace('/', '-')}.onnx"
    run_modelpress("export", FIXTURES / "models" / f"{model}.h5", "-o", out)
    return out


def weights(model: onnx.ModelProto) -> dict[str, np.ndarray]:
    """Weight initializers by the name of the Conv/Gemm node reading them."""
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    return {n.name: inits[n.input[1]] for n in model.graph.node if n.op_type in ("Conv", "Gemm") and n.input[1] in inits}


def with_weights(model: onnx.ModelProto, new: dict[str, np.ndarray]) -> bytes:
    """`model` with the weights of the named Conv/Gemm nodes replaced."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    by_input = {n.input[1]: n.name for n in m.graph.node if n.op_type in ("Conv", "Gemm")}
    for t in m.graph.initializer:
        if by_input.get(t.name) in new:
            t.CopyFrom(numpy_helper.from_array(new[by_input[t.name]].astype(np.float32), t.name))
    return m.SerializeToString()


def removed(report, node: str) -> list[int]:
    return next(g["removed"] for g in report["groups"] if g["nodes"] == [node] or node in g["nodes"])


@pytest.mark.parametrize("criterion", ["l1", "l2"])
def test_digits_cnn_half_the_filters(tmp_path, criterion):
    out, report = channel_prune(tmp_path, "keras3/cnn", "--sparsity", "0.5", "--criterion", criterion)
    model = onnx.load(str(out))
    onnx.checker.check_model(model, full_check=True)
    w = weights(model)
    # Expected shapes: every hidden layer keeps half of its outputs; the classifier keeps 10.
    assert w["conv_1/conv"].shape == (8, 1, 3, 3)
    assert w["conv_2/conv"].shape == (16, 8, 3, 3)
    assert w["dense/linear"].shape == (16 * 2 * 2, 32)
    assert w["predictions/linear"].shape == (32, 10)
    params = sum(numpy_helper.to_array(t).size for t in model.graph.initializer)
    expected_params = (8 * 9 + 8) + (16 * 8 * 9 + 16) + (64 * 32 + 32) + (32 * 10 + 10)
    assert params == expected_params == report["parametersAfter"]
    # MACs per sample: conv_1 8 filters × 9 taps × 8×8, conv_2 16 × 8·9 × 4×4, dense 64·32, predictions 32·10.
    assert report["macsBefore"] == 16 * 9 * 64 + 32 * 16 * 9 * 16 + 128 * 64 + 64 * 10
    assert report["macsAfter"] == 8 * 9 * 64 + 16 * 8 * 9 * 16 + 64 * 32 + 32 * 10
    # The file shrinks by the removed float32s (up to a few hundred bytes of names and metadata).
    original = export(tmp_path, "keras3/cnn")
    shrink = original.stat().st_size - out.stat().st_size
    assert abs(shrink - 4 * (report["parametersBefore"] - params)) < 512, shrink

    # The masked model: the unpruned export with the consumers' weights for removed channels zeroed.
    orig = onnx.load(str(original))
    ow = weights(orig)
    r1, r2, r3 = removed(report, "conv_1/conv"), removed(report, "conv_2/conv"), removed(report, "dense/linear")
    assert len(r1) == 8 and len(r2) == 16 and len(r3) == 32
    norms = np.abs(ow["conv_1/conv"]).sum(axis=(1, 2, 3)) if criterion == "l1" else np.sqrt((ow["conv_1/conv"] ** 2).sum(axis=(1, 2, 3)))
    assert sorted(np.argsort(norms, kind="stable")[:8].tolist()) == r1
    conv2, dense, pred = ow["conv_2/conv"].copy(), ow["dense/linear"].copy(), ow["predictions/linear"].copy()
    conv2[:, r1] = 0
    for c in r2:  # the flatten after the fold is NCHW: rows c·4 … c·4+3 belong to channel c
        dense[c * 4:(c + 1) * 4] = 0
    pred[r3] = 0
    masked = with_weights(orig, {"conv_2/conv": conv2, "dense/linear": dense, "predictions/linear": pred})
    x = digits_test()
    y_thin, y_masked = run_ort(out, x), run_ort(masked, x)
    assert np.max(np.abs(y_thin - y_masked)) < 1e-5
    assert np.max(np.abs(y_thin - run_ort(original, x))) > 1e-3  # pruning changed something


def test_functional_residual_group(tmp_path):
    out, report = channel_prune(tmp_path, "keras3/functional", "--sparsity", "0.5")
    model = onnx.load(str(out))
    onnx.checker.check_model(model, full_check=True)
    group = next(g for g in report["groups"] if g["nodes"] == ["stem_conv", "pw_conv"])
    r = group["removed"]
    assert len(r) == 8 and group["channelsAfter"] == 8
    orig = onnx.load(str(export(tmp_path, "keras3/functional")))
    ow = weights(orig)
    pw, logits = ow["pw_conv"].copy(), ow["logits"].copy()
    pw[:, r] = 0
    logits[r] = 0
    masked = with_weights(orig, {"pw_conv": pw, "logits": logits})
    x = digits_test()
    assert np.max(np.abs(run_ort(out, x) - run_ort(masked, x))) < 1e-5
    dw = next(n for n in model.graph.node if n.name == "dw_conv")
    assert next(a.i for a in dw.attribute if a.name == "group") == 8


@pytest.mark.parametrize("model", ["keras3/zoo_conv", "keras3/zoo_misc", "keras2/cnn", "keras2/functional", "keras3/mobilenetv2_96"])
def test_other_graphs_check_and_run(tmp_path, model):
    out, report = channel_prune(tmp_path, model, "--sparsity", "0.3")
    m = onnx.load(str(out))
    onnx.checker.check_model(m, full_check=True)
    shape = [d.dim_value or 2 for d in m.graph.input[0].type.tensor_type.shape.dim]
    y = run_ort(out, np.random.default_rng(0).random(shape, dtype=np.float32))
    assert np.all(np.isfinite(y))
    assert report["parametersAfter"] < report["parametersBefore"]
    assert report["macsAfter"] < report["macsBefore"]


@pytest.mark.parametrize("options", [["--sparsity", "1.0"], ["--sparsity", "0.5", "--criterion", "l3"],
                                     ["--sparsity", "0.5", "--exclude", "nope"], [],
                                     ["--sparsity-per-layer", "predictions=0.5"], ["--sparsity-per-layer", "conv_2=1.5"],
                                     ["--sparsity", "0.5", "--sparse-storage"], ["--sparsity", "0.5", "--channel-multiple", "0"]])
def test_bad_input_exit_2(tmp_path, options):
    out = tmp_path / "x.onnx"
    proc = run_modelpress("prune", FIXTURES / "models" / "keras3" / "cnn.h5", "-o", out, "--structure", "channel", *options, expect=2)
    assert proc.stderr.strip()
    assert not out.exists()


PASSTHROUGH = {"Relu", "Clip", "BatchNormalization", "Pad", "GlobalAveragePool", "Flatten", "Add", "MaxPool", "AveragePool", "Identity"}


def group_of(node: onnx.NodeProto) -> int:
    return next((a.i for a in node.attribute if a.name == "group"), 1)


def test_mobilenetv2_residual_groups_equal_zeroed_original(tmp_path):
    """MobileNetV2 (residual Adds between the projections, depthwise convs, ReLU6): the thinned
    file against the unpruned export in which every removed channel is zeroed — the source's
    filter and bias (so ReLU6 outputs 0 and the Add carries 0) and the consuming convs' input
    slices — found by walking the ONNX graph back from each consumer to its source conv."""
    out, report = channel_prune(tmp_path, "keras3/mobilenetv2_96", "--sparsity", "0.3")
    tied = [g for g in report["groups"] if len(g["nodes"]) > 1 and g["skipped"] is None]
    assert len(tied) == 5
    removed = {n: g["removed"] for g in report["groups"] if g["skipped"] is None and g["removed"] for n in g["nodes"]}
    orig = onnx.load(str(export(tmp_path, "keras3/mobilenetv2_96")))
    producer = {o: n for n in orig.graph.node for o in n.output}

    def source(tensor: str) -> str | None:
        n = producer.get(tensor)
        while n is not None:
            if n.op_type in ("Conv", "Gemm") and group_of(n) == 1:
                return n.name
            if n.op_type not in PASSTHROUGH and not (n.op_type == "Conv" and group_of(n) > 1):
                return None
            n = producer.get(n.input[0])
        return None

    inits = {t.name: numpy_helper.to_array(t).copy() for t in orig.graph.initializer}
    for n in orig.graph.node:
        if n.op_type not in ("Conv", "Gemm"):
            continue
        w = inits[n.input[1]]
        if n.name in removed:
            r = removed[n.name]
            if n.op_type == "Conv":
                w[r] = 0
            else:
                w[:, r] = 0
            if len(n.input) > 2:
                inits[n.input[2]][r] = 0
        src = source(n.input[0])
        if src in removed and group_of(n) == 1:
            if n.op_type == "Conv":
                w[:, removed[src]] = 0
            else:
                w[removed[src]] = 0  # after GlobalAveragePool + Flatten the rows are the channels
    m = onnx.ModelProto()
    m.CopyFrom(orig)
    for t in m.graph.initializer:
        t.CopyFrom(numpy_helper.from_array(inits[t.name], t.name))
    with h5py.File(FIXTURES / "data" / "imagenet_like_96.h5", "r") as f:
        x = f["x"][:4].astype(np.float32)
    y_thin, y_zeroed = run_ort(out, x), run_ort(m.SerializeToString(), x)
    assert np.max(np.abs(y_thin - y_zeroed)) <= 1e-4 * max(1.0, float(np.max(np.abs(y_zeroed))))
    assert np.max(np.abs(y_thin - run_ort(orig.SerializeToString(), x))) > 1e-3


def test_channel_multiple_keeps_simd_friendly_counts(tmp_path):
    out, report = channel_prune(tmp_path, "keras3/mobilenetv2_96", "--sparsity", "0.3", "--channel-multiple", "8")
    m = onnx.load(str(out))
    onnx.checker.check_model(m, full_check=True)
    for layer in report["layers"]:
        if layer["channelsAfter"] != layer["channelsBefore"]:
            assert layer["channelsAfter"] % 8 == 0, layer
            # kept = round up to 8 of (C − round(0.3·C))
            c = layer["channelsBefore"]
            assert layer["channelsAfter"] == min(c, -(-(c - int(np.floor(0.3 * c + 0.5))) // 8) * 8), layer
    with h5py.File(FIXTURES / "data" / "imagenet_like_96.h5", "r") as f:
        assert np.all(np.isfinite(run_ort(out, f["x"][:2].astype(np.float32))))


def test_per_layer_targets(tmp_path):
    out, report = channel_prune(tmp_path, "keras3/cnn", "--sparsity-per-layer", "conv_2=0.75,dense=0.25")
    w = weights(onnx.load(str(out)))
    assert w["conv_1/conv"].shape == (16, 1, 3, 3)          # no target: kept
    assert w["conv_2/conv"].shape == (8, 16, 3, 3)          # 32 − 24
    assert w["dense/linear"].shape == (8 * 4, 48)           # 64 − 16 outputs; 8 channels × 2×2 rows
    assert w["predictions/linear"].shape == (48, 10)
