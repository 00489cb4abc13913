"""Constant folding at ONNX import: shape sub-graphs and constant chains, as exporters write
them, evaluated at import time and checked against onnxruntime on the same file; shapes that
depend on data values are refused naming the node."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import run_modelpress
from ort_helpers import check_against_onnxruntime

RNG = np.random.default_rng(7)


def _model(nodes, inputs, outputs, initializers=(), opset=17) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "folding", inputs, outputs, initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)
    onnx.checker.check_model(model, full_check=True)
    return model


def _const(name: str, value) -> onnx.NodeProto:
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(np.asarray(value), name))


def _compare(tmp_path, model: onnx.ModelProto, x: np.ndarray) -> float:
    return check_against_onnxruntime(tmp_path, model, x, atol=1e-6, reexport=False)


@pytest.mark.parametrize("opset", [11, 13, 17])
def test_pytorch_flatten_by_shape_gather_unsqueeze_concat(tmp_path, opset):
    """`x.view(x.size(0), -1)` then a Gemm: Shape → Gather → Unsqueeze → Concat → Reshape."""
    w = RNG.standard_normal((5, 48)).astype(np.float32)
    unsqueeze = (helper.make_node("Unsqueeze", ["n"], ["n1"], axes=[0]) if opset < 13
                 else helper.make_node("Unsqueeze", ["n", "zero1"], ["n1"]))
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        _const("zero", np.int64(0)),
        _const("zero1", np.array([0], np.int64)),
        helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
        unsqueeze,
        _const("minus1", np.array([-1], np.int64)),
        helper.make_node("Concat", ["n1", "minus1"], ["target"], axis=0),
        helper.make_node("Reshape", ["x", "target"], ["flat"]),
        helper.make_node("Gemm", ["flat", "w"], ["y"], transB=1),
    ]
    model = _model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 4, 4])],
                   [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 5])],
                   [numpy_helper.from_array(w, "w")], opset=opset)
    _compare(tmp_path, model, RNG.standard_normal((6, 3, 4, 4)).astype(np.float32))


def test_tf2onnx_shape_slice_cast_concat_chain(tmp_path):
    """tf2onnx's Flatten: Shape → Cast → Slice → Concat(-1) → Cast → Reshape."""
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Cast", ["s"], ["s32"], to=TensorProto.INT32),
        _const("starts", np.array([0], np.int64)),
        _const("ends", np.array([1], np.int64)),
        helper.make_node("Slice", ["s32", "starts", "ends", "starts"], ["batch"]),
        _const("rest", np.array([-1], np.int32)),
        helper.make_node("Concat", ["batch", "rest"], ["target32"], axis=0),
        helper.make_node("Cast", ["target32"], ["target"], to=TensorProto.INT64),
        helper.make_node("Reshape", ["x", "target"], ["y"]),
    ]
    model = _model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2, 3, 4])],
                   [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 24])])
    _compare(tmp_path, model, RNG.standard_normal((3, 2, 3, 4)).astype(np.float32))


def test_constant_chains_fold_into_weights(tmp_path):
    """ConstantOfShape, Range, Expand, Transpose, Mul, Sqrt and ReduceProd on constants give an
    addend and a weight; only the data-path ops remain."""
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        _const("one", np.array([1], np.int64)),
        _const("two", np.array([2], np.int64)),
        helper.make_node("Slice", ["s", "one", "two"], ["features"]),          # [6]
        helper.make_node("ConstantOfShape", ["features"], ["ones"],
                         value=numpy_helper.from_array(np.array([1.5], np.float32))),
        _const("start", np.float32(0)), _const("delta", np.float32(0.25)),
        helper.make_node("Cast", ["features"], ["features_f"], to=TensorProto.FLOAT),
        helper.make_node("ReduceProd", ["features_f"], ["limit"], keepdims=0),
        helper.make_node("Range", ["start", "limit", "delta"], ["ramp"]),       # 24 values
        _const("shape46", np.array([4, 6], np.int64)),
        helper.make_node("Reshape", ["ramp", "shape46"], ["ramp46"]),
        helper.make_node("Transpose", ["ramp46"], ["w"], perm=[1, 0]),          # 6 x 4
        helper.make_node("Sqrt", ["w"], ["w_sqrt"]),
        helper.make_node("Mul", ["ones", "ones"], ["bias"]),                    # 2.25 x 6
        helper.make_node("Add", ["x", "bias"], ["shifted"]),
        helper.make_node("MatMul", ["shifted", "w_sqrt"], ["y"]),
    ]
    model = _model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 6])],
                   [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])])
    _compare(tmp_path, model, RNG.standard_normal((5, 6)).astype(np.float32))
    proc = run_modelpress("inspect", tmp_path / "m.onnx", "--json")
    assert '"ConstantOfShape"' not in proc.stdout and '"Range"' not in proc.stdout


def test_shape_that_depends_on_data_values_is_refused_naming_the_node(tmp_path):
    """ConstantOfShape of a value computed from the data cannot be folded: exit 2 naming the
    first node that needs run-time values."""
    nodes = [
        helper.make_node("ReduceMax", ["x"], ["m"], keepdims=0, axes=[0, 1], name="data_max"),
        helper.make_node("Cast", ["m"], ["mi"], to=TensorProto.INT64),
        helper.make_node("Reshape", ["mi", "one"], ["dims"]),
        helper.make_node("ConstantOfShape", ["dims"], ["z"], name="data_dependent_zeros"),
        helper.make_node("Add", ["x", "z"], ["y"]),
    ]
    model = _model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
                   [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])],
                   [numpy_helper.from_array(np.array([1], np.int64), "one")], opset=13)
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    proc = run_modelpress("inspect", path, expect=2)
    assert "data_max" in proc.stderr and "run-time values" in proc.stderr and str(path) in proc.stderr, proc.stderr


def test_batch_dependent_shape_in_a_weight_is_refused_naming_the_node(tmp_path):
    """A Reshape target that puts the batch size on a non-batch axis: exit 2 naming the node."""
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        _const("idx", np.array([0], np.int64)),
        helper.make_node("Gather", ["s", "idx"], ["n"], axis=0),
        _const("minus1", np.array([-1], np.int64)),
        helper.make_node("Concat", ["minus1", "n"], ["target"], axis=0),
        helper.make_node("Reshape", ["x", "target"], ["y"], name="batch_last"),
    ]
    model = _model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
                   [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, "N"])])
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    proc = run_modelpress("inspect", path, expect=2)
    assert "batch_last" in proc.stderr and str(path) in proc.stderr, proc.stderr


def test_folding_refuses_absurd_sizes(tmp_path):
    """A ConstantOfShape declaring 2^40 elements is refused in bounded time, naming the node."""
    nodes = [
        _const("huge", np.array([1 << 20, 1 << 20], np.int64)),
        helper.make_node("ConstantOfShape", ["huge"], ["z"], name="bomb"),
        helper.make_node("ReduceSum", ["z"], ["total"], keepdims=0),
        helper.make_node("Add", ["x", "total"], ["y"]),
    ]
    model = _model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
                   [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])], opset=13)
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    proc = run_modelpress("inspect", path, expect=2)
    assert "bomb" in proc.stderr and "elements" in proc.stderr, proc.stderr
