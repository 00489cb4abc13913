"""Mixed precision (issue 15): `quantize --precision-per-layer` and `--precision mixed` with
`--max-drop` / `--max-bytes`, checked in onnxruntime. The fixture digits_weight_outliers has
±100 weights on pixels that are 0 in every image: float32 is unaffected, int8 per-channel
weights of its first layer are not, so an all-int8 file misses a 0.5-point budget."""

from __future__ import annotations

import json

import h5py
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto

from conftest import FIXTURES, read_predictions, run_modelpress

OUTLIERS = FIXTURES / "models" / "keras3" / "digits_weight_outliers.h5"
CNN = FIXTURES / "models" / "keras3" / "cnn.h5"
TRAIN = FIXTURES / "data" / "digits_train.h5"
TEST = FIXTURES / "data" / "digits_test.h5"


def digits_test():
    with h5py.File(TEST, "r") as f:
        return f["x"][()].astype(np.float32), f["y"][()]


def run(path, x):
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def accuracy(path):
    x, y = digits_test()
    return float(np.mean(np.argmax(run(path, x), 1) == y))


def kernel_types(path):
    """The stored type of each 2-D / 4-D weight: int8 codes behind a DequantizeLinear, float16, or float."""
    graph = onnx.load(path).graph
    return {t.name.removesuffix("/q"): t.data_type for t in graph.initializer if len(t.dims) >= 2}


def weight_bytes(path):
    return sum(t.ByteSize() - len(t.name) for t in onnx.load(path).graph.initializer)


def test_budget_search_meets_what_all_int8_misses_with_fewer_bytes_than_fp16(tmp_path):
    x, _ = digits_test()
    float_path, int8, half, mixed = (tmp_path / f"{n}.onnx" for n in ("float", "int8", "fp16", "mixed"))
    run_modelpress("export", OUTLIERS, "-o", float_path)
    run_modelpress("quantize", OUTLIERS, "-o", int8, "--calibration", TRAIN)
    run_modelpress("quantize", OUTLIERS, "-o", half, "--precision", "fp16")
    reference = accuracy(float_path)
    assert accuracy(int8) < reference - 0.005  # all int8 misses the budget (by far)
    r = run_modelpress("quantize", OUTLIERS, "-o", mixed, "--calibration", TRAIN, "--precision", "mixed", "--max-drop", "0.005",
                       "--data", TEST, "--json", "--svg", tmp_path / "plans.svg", "--report-md", tmp_path / "plans.md")
    summary = json.loads(r.stdout)
    onnx.checker.check_model(onnx.load(mixed), full_check=True)
    assert summary["met"] and accuracy(mixed) >= reference - 0.005
    assert weight_bytes(mixed) < weight_bytes(half)
    plan = {layer["node"]: layer["precision"] for layer in summary["layers"]}
    assert plan["dense_in"] == "fp16" and sorted(plan.values()).count("int8") == 3
    types = kernel_types(mixed)
    assert types["dense_in/kernel"] == TensorProto.FLOAT16 and types["dense_2/kernel"] == TensorProto.INT8
    assert summary["trials"][0]["step"] == "all int8" and summary["trials"][0]["accuracy"] < reference - 0.005
    assert "<svg" in (tmp_path / "plans.svg").read_text() and "all int8" in (tmp_path / "plans.md").read_text()
    # The engine judges the mixed file as onnxruntime does.
    run_modelpress("predict", mixed, "--data", TEST, "-o", tmp_path / "p.h5")
    agree = np.mean(np.argmax(read_predictions(tmp_path / "p.h5"), 1) == np.argmax(run(mixed, x), 1))
    assert agree >= 0.99


def test_size_search_keeps_the_most_accurate_plan_within_the_bytes(tmp_path):
    out = tmp_path / "sized.onnx"
    r = run_modelpress("quantize", OUTLIERS, "-o", out, "--calibration", TRAIN, "--precision", "mixed", "--max-bytes", "100000",
                       "--data", TEST, "--json")
    summary = json.loads(r.stdout)
    fitting = [t for t in summary["trials"] if t["bytes"] <= 100000]
    assert summary["met"] and summary["weight_bytes"] <= 100000
    assert summary["accuracy"] == max(t["accuracy"] for t in fitting)
    assert abs(accuracy(out) - summary["accuracy"]) <= 1 / 360 + 1e-9


def test_size_nothing_fits_exits_1_with_the_smallest_plan_written(tmp_path):
    out = tmp_path / "tiny.onnx"
    r = run_modelpress("quantize", OUTLIERS, "-o", out, "--calibration", TRAIN, "--precision", "mixed", "--max-bytes", "1000",
                       "--data", TEST, expect=1)
    assert "not met" in r.stderr and out.exists()
    assert all(t == TensorProto.INT8 for name, t in kernel_types(out).items() if "kernel" in name)


def test_explicit_plan_per_layer(tmp_path):
    out = tmp_path / "plan.onnx"
    r = run_modelpress("quantize", CNN, "-o", out, "--calibration", TRAIN, "--precision-per-layer", "conv_1=fp16,dense=fp32",
                       "--data", TEST, "--json")
    summary = json.loads(r.stdout)
    onnx.checker.check_model(onnx.load(out), full_check=True)
    types = kernel_types(out)
    assert types["conv_1/kernel"] == TensorProto.FLOAT16 and types["conv_2/kernel"] == TensorProto.INT8
    assert types["dense/kernel"] == TensorProto.FLOAT and types["predictions/kernel"] == TensorProto.INT8
    float_path = tmp_path / "float.onnx"
    run_modelpress("export", CNN, "-o", float_path)
    assert accuracy(out) >= accuracy(float_path) - 1 / 360
    assert abs(accuracy(out) - summary["accuracy"]) <= 1 / 360 + 1e-9
    meta = {p.key: p.value for p in onnx.load(out).metadata_props}
    assert json.loads(meta["modelpress.compression"])["precision_plan"]["conv_1/conv"] == "fp16"


@pytest.mark.parametrize("options, message", [
    (("--precision-per-layer", "conv_9=fp16"), "no Conv or Dense layer 'conv_9'"),
    (("--precision-per-layer", "conv_1=int4"), "expected LAYER=PRECISION"),
    (("--precision", "mixed", "--max-drop", "0.01"), "--precision mixed measures plans on a labelled test set: give --data"),
    (("--precision", "mixed", "--data", "TEST"), "needs one of --max-drop or --max-bytes"),
    (("--max-bytes", "1000"), "--max-bytes and --svg are for --precision mixed"),
    (("--precision", "fp16-weights", "--precision-per-layer", "conv_1=fp16"), "must be int8 or fp16 here"),
])
def test_bad_options_exit_2(tmp_path, options, message):
    options = tuple(str(TEST) if o == "TEST" else o for o in options)
    r = run_modelpress("quantize", CNN, "-o", tmp_path / "x.onnx", "--calibration", TRAIN, *options, expect=2)
    assert message in r.stderr
    assert not (tmp_path / "x.onnx").exists()


def test_a_given_fp16_layer_that_cannot_be_fp16_exits_2_naming_it(tmp_path):
    """A Dense kernel with a weight beyond float16's ±65504: asked for fp16, it is refused by name."""
    from onnx import helper, numpy_helper

    rng = np.random.default_rng(3)
    w = rng.normal(size=(64, 10)).astype(np.float32)
    w[0, 0] = 1e5
    graph = helper.make_graph(
        [helper.make_node("Flatten", ["x"], ["flat"], name="flatten"), helper.make_node("Gemm", ["flat", "w", "b"], ["y"], name="dense")],
        "wide", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 8, 8, 1])], [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 10])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(np.zeros(10, np.float32), "b")])
    source = tmp_path / "wide.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), source)
    r = run_modelpress("quantize", source, "-o", tmp_path / "x.onnx", "--calibration", TRAIN, "--precision-per-layer", "dense=fp16", expect=2)
    assert "layer 'dense' (Linear 'dense') cannot be fp16: weight 'w' reaches 100000.0, beyond float16's ±65504" in r.stderr
    assert not (tmp_path / "x.onnx").exists()
    run_modelpress("quantize", source, "-o", tmp_path / "x.onnx", "--calibration", TRAIN, "--precision-per-layer", "dense=fp32")


def test_int16_layers_in_a_given_plan(tmp_path):
    """int16 weights and 16-bit activations around that layer, int8 elsewhere, fp16 where asked:
    one QDQ file at opset 21 (the default when a layer is int16)."""
    out = tmp_path / "int16.onnx"
    run_modelpress("quantize", CNN, "-o", out, "--calibration", TRAIN, "--precision-per-layer", "conv_1=int16,dense=fp16")
    model = onnx.load(out)
    onnx.checker.check_model(model, full_check=True)
    assert [o.version for o in model.opset_import if o.domain == ""] == [21]
    types = kernel_types(out)
    assert types["conv_1/kernel"] == TensorProto.INT16 and types["conv_2/kernel"] == TensorProto.INT8
    assert types["dense/kernel"] == TensorProto.FLOAT16
    # conv_1's input and output are 16-bit for every reader.
    zero_points = {t.name: t.data_type for t in model.graph.initializer if t.name.startswith("zp_")}
    quantize = {n.input[0]: zero_points.get(n.input[2]) for n in model.graph.node if n.op_type == "QuantizeLinear"}
    assert quantize["conv_1"] == TensorProto.UINT16 and quantize["conv_2"] == TensorProto.UINT8
    float_path = tmp_path / "float.onnx"
    run_modelpress("export", CNN, "-o", float_path)
    assert accuracy(out) >= accuracy(float_path) - 1 / 360
