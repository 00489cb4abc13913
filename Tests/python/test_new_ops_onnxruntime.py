"""Split (three outputs) and LayerNormalization in ONNX files written by another producer
(onnx.helper, in PyTorch's forms): ModelPress imports them, predicts what onnxruntime
computes, and re-exports files that onnxruntime runs to the same numbers — LayerNormalization
as the opset-17 op and decomposed at opset 13."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from conftest import read_predictions, run_modelpress, write_dataset
from ort_helpers import run_ort


def _save(tmp_path, name, nodes, inits, opset, in_shape, out_shape):
    graph = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", *in_shape])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", *out_shape])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)
    onnx.checker.check_model(model, full_check=True)
    path = tmp_path / f"{name}.onnx"
    onnx.save(model, str(path))
    return path


def _check_import_and_export(tmp_path, path, x, opsets):
    reference = run_ort(path, x)
    out = tmp_path / "pred.h5"
    run_modelpress("predict", path, "--data", write_dataset(tmp_path / "x.h5", x), "-o", out, "-q")
    np.testing.assert_allclose(read_predictions(out), reference, rtol=1e-5, atol=1e-5)
    for opset in opsets:
        exported = tmp_path / f"exported-{opset}.onnx"
        run_modelpress("export", path, "-o", exported, "--opset", str(opset), "-q")
        model = onnx.load(str(exported))
        onnx.checker.check_model(model, full_check=True)
        np.testing.assert_allclose(run_ort(exported, x), reference, rtol=1e-5, atol=1e-5)
        yield opset, [n.op_type for n in model.graph.node]


@pytest.mark.parametrize("opset", [13, 18])
def test_pytorch_layer_norm_imports_and_exports(tmp_path, opset):
    rng = np.random.default_rng(1)
    gamma = rng.uniform(0.5, 1.5, (3, 4)).astype(np.float32)
    beta = rng.normal(size=(3, 4)).astype(np.float32)
    inits = [helper.make_tensor("gamma", TensorProto.FLOAT, gamma.shape, gamma.flatten().tolist()),
             helper.make_tensor("beta", TensorProto.FLOAT, beta.shape, beta.flatten().tolist()),
             helper.make_tensor("two", TensorProto.FLOAT, [], [2.0]), helper.make_tensor("eps", TensorProto.FLOAT, [], [1e-5])]
    if opset >= 18:
        inits.append(helper.make_tensor("axes", TensorProto.INT64, [2], [-2, -1]))
        mean = lambda i, o: helper.make_node("ReduceMean", [i, "axes"], [o], name=o)
    else:
        mean = lambda i, o: helper.make_node("ReduceMean", [i], [o], name=o, axes=[-2, -1])
    nodes = [mean("x", "mu"), helper.make_node("Sub", ["x", "mu"], ["d"], name="d"),
             helper.make_node("Pow", ["d", "two"], ["d2"], name="d2"), mean("d2", "var"),
             helper.make_node("Add", ["var", "eps"], ["shifted"], name="shifted"),
             helper.make_node("Sqrt", ["shifted"], ["std"], name="std"), helper.make_node("Div", ["d", "std"], ["n"], name="n"),
             helper.make_node("Mul", ["n", "gamma"], ["s"], name="s"), helper.make_node("Add", ["s", "beta"], ["y"], name="ln")]
    path = _save(tmp_path, "torch_ln", nodes, inits, opset, [2, 3, 4], [2, 3, 4])
    x = rng.normal(size=(5, 2, 3, 4)).astype(np.float32) * 3 + 1
    ops = dict(_check_import_and_export(tmp_path, path, x, [13, 17]))
    assert ops[17] == ["LayerNormalization"]
    assert "LayerNormalization" not in ops[13] and "ReduceMean" in ops[13]


def test_split_three_outputs_imports_and_exports(tmp_path):
    rng = np.random.default_rng(2)
    inits = [helper.make_tensor("sizes", TensorProto.INT64, [3], [1, 2, 3])]
    nodes = [helper.make_node("Split", ["x", "sizes"], ["a", "b", "c"], name="split", axis=1),
             helper.make_node("Relu", ["b"], ["rb"], name="relu"),
             helper.make_node("Concat", ["c", "a", "rb"], ["y"], name="join", axis=1)]
    path = _save(tmp_path, "split", nodes, inits, 13, [6, 4], [6, 4])
    x = rng.normal(size=(3, 6, 4)).astype(np.float32)
    ops = dict(_check_import_and_export(tmp_path, path, x, [13]))
    assert ops[13].count("Split") == 1


@pytest.mark.parametrize("form", ["qdq", "qoperator"])
def test_layer_norm_model_quantized_runs_in_onnxruntime(tmp_path, form):
    """The Keras LayerNormalization fixture quantized to int8: LayerNormalization stays float
    (between DequantizeLinear and QuantizeLinear in QOperator files), onnxruntime runs the
    file, and computes what ModelPress's engine computes for it."""
    from conftest import FIXTURES
    model, data = FIXTURES / "models/keras3/zoo_norm.h5", FIXTURES / "data/zoo_inputs.h5"
    q = tmp_path / f"q-{form}.onnx"
    run_modelpress("quantize", model, "-o", q, "--calibration", data, "--format", form, "-q")
    onnx.checker.check_model(onnx.load(str(q)), full_check=True)
    import h5py
    with h5py.File(data, "r") as f:
        x = f["x"][()]
    out = tmp_path / "pred.h5"
    run_modelpress("predict", q, "--data", data, "-o", out, "-q")
    ours, theirs = read_predictions(out), run_ort(q, x)
    print(f"{form}: max |ModelPress − onnxruntime| = {np.abs(ours - theirs).max():.3g}")
    assert np.abs(ours - theirs).max() < 1e-4, np.abs(ours - theirs).max()
    assert (ours.argmax(1) == theirs.argmax(1)).all()
