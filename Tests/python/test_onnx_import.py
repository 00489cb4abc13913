"""ONNX files from other producers (tf2onnx) and from ModelPress itself, read back by
`modelpress`; damaged files and unsupported operators fail with exit code 2."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from conftest import FIXTURES, fixture_cases, max_abs_diff, read_predictions, run_modelpress, write_dataset
from ort_helpers import run_ort, without_final_softmax

CASES = {c.id: c for c in fixture_cases()}


def test_tf2onnx_file_imports_and_matches(tmp_path):
    case = CASES["onnx/cnn_tf2onnx"]
    out = tmp_path / "pred.h5"
    run_modelpress("predict", case.model, "--data", case.data, "-o", out, "-q")
    ours = read_predictions(out)
    print(f"tf2onnx cnn: modelpress vs expected max |diff| = {max_abs_diff(ours, case.y_pred()):.3g}")
    np.testing.assert_allclose(ours, case.y_pred(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours, run_ort(case.model, case.inputs()), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("opset", [13, 21])
def test_mobilenetv2_logits_match_onnxruntime(tmp_path, opset):
    case = CASES["keras3/mobilenetv2_96"]
    full = tmp_path / "mobilenet.onnx"
    run_modelpress("export", case.model, "-o", full, "--opset", str(opset))
    logits_model = tmp_path / "logits.onnx"
    onnx.save(without_final_softmax(onnx.load(str(full))), str(logits_model))
    x = case.inputs()
    theirs = run_ort(logits_model, x)
    out = tmp_path / "logits.h5"
    run_modelpress("predict", logits_model, "--data", write_dataset(tmp_path / "x.h5", x), "-o", out, "-q")
    ours = read_predictions(out)
    scale = float(np.max(np.abs(theirs)))
    print(f"mobilenetv2_96 opset {opset}: logits max |diff| = {max_abs_diff(ours, theirs):.3g} (max |logit| {scale:.3g})")
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4 * scale)


def _single_node_model(op_type: str, name: str = "mystery", domain: str = "") -> onnx.ModelProto:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])
    node = helper.make_node(op_type, ["x"], ["y"], name=name, domain=domain)
    graph = helper.make_graph([node], "g", [x], [y])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=7)


def test_unsupported_operator_is_exit_2_naming_node_and_op(tmp_path):
    path = tmp_path / "erf.onnx"
    onnx.save(_single_node_model("Erf", name="my_erf_node"), str(path))
    proc = run_modelpress("inspect", path, expect=2)
    assert "my_erf_node" in proc.stderr and "Erf" in proc.stderr and str(path) in proc.stderr, proc.stderr


def test_truncated_onnx_is_exit_2(tmp_path):
    data = (FIXTURES / "onnx" / "cnn_tf2onnx.onnx").read_bytes()
    path = tmp_path / "truncated.onnx"
    path.write_bytes(data[: len(data) // 2])
    proc = run_modelpress("inspect", path, expect=2)
    assert str(path) in proc.stderr, proc.stderr
    out = tmp_path / "out.onnx"
    run_modelpress("export", path, "-o", out, expect=2)
    assert not out.exists(), "a failed export must not leave a file"


def test_onnx_written_by_onnx_helper_imports(tmp_path):
    """A PyTorch-style graph: NCHW input, Conv, BatchNormalization, Relu, GlobalAveragePool,
    Flatten, Gemm with transB=1, erf GELU — ModelPress imports it and agrees with onnxruntime."""
    rng = np.random.default_rng(0)
    w = rng.normal(size=(4, 3, 3, 3)).astype(np.float32)
    b = rng.normal(size=4).astype(np.float32)
    gamma, beta = rng.uniform(0.5, 1.5, 4).astype(np.float32), rng.normal(size=4).astype(np.float32)
    mean, var = rng.normal(size=4).astype(np.float32), rng.uniform(0.5, 2, 4).astype(np.float32)
    fc = rng.normal(size=(5, 4)).astype(np.float32)
    fcb = rng.normal(size=5).astype(np.float32)
    inits = [helper.make_tensor(n, TensorProto.FLOAT, a.shape, a.flatten().tolist()) for n, a in
             [("w", w), ("b", b), ("gamma", gamma), ("beta", beta), ("mean", mean), ("var", var), ("fc", fc), ("fcb", fcb)]]
    inits += [helper.make_tensor("sqrt2", TensorProto.FLOAT, [], [2 ** 0.5]),
              helper.make_tensor("one", TensorProto.FLOAT, [], [1.0]),
              helper.make_tensor("half", TensorProto.FLOAT, [], [0.5])]
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c", "gamma", "beta", "mean", "var"], ["bn"], name="bn", epsilon=1e-5),
        helper.make_node("Relu", ["bn"], ["r"], name="relu"),
        helper.make_node("GlobalAveragePool", ["r"], ["p"], name="gap"),
        helper.make_node("Flatten", ["p"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "fc", "fcb"], ["g"], name="fc", transB=1),
        helper.make_node("Div", ["g", "sqrt2"], ["d"], name="gelu_div"),
        helper.make_node("Erf", ["d"], ["e"], name="gelu_erf"),
        helper.make_node("Add", ["e", "one"], ["a"], name="gelu_add"),
        helper.make_node("Mul", ["g", "a"], ["m"], name="gelu_mul"),
        helper.make_node("Mul", ["m", "half"], ["y"], name="gelu"),
    ]
    graph = helper.make_graph(nodes, "torchlike", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, 6, 6])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 5])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=7)
    onnx.checker.check_model(model, full_check=True)
    path = tmp_path / "torchlike.onnx"
    onnx.save(model, str(path))
    x = rng.normal(size=(4, 3, 6, 6)).astype(np.float32)
    out = tmp_path / "pred.h5"
    run_modelpress("predict", path, "--data", write_dataset(tmp_path / "x.h5", x), "-o", out, "-q")
    np.testing.assert_allclose(read_predictions(out), run_ort(path, x), rtol=1e-5, atol=1e-5)
    exported = tmp_path / "exported.onnx"
    run_modelpress("export", path, "-o", exported)
    onnx.checker.check_model(onnx.load(str(exported)), full_check=True)
    np.testing.assert_allclose(run_ort(exported, x), run_ort(path, x), rtol=1e-5, atol=1e-5)
