"""Operator coverage of the ONNX importer on hand-built graphs (the forms other producers
write: auto_pad, count_include_pad, Gemm with transB/alpha/beta, Resize by sizes, Slice with
negative indices, Squeeze/Unsqueeze, Pad with axes, Constant nodes …): `modelpress predict`
on each file must agree with onnxruntime."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import max_abs_diff, read_predictions, run_modelpress, write_dataset
from ort_helpers import run_ort

RNG = np.random.default_rng(7)


def const(name: str, array) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(array), name)


def random(name: str, *shape: int, low: float = -1, high: float = 1) -> onnx.TensorProto:
    return const(name, RNG.uniform(low, high, shape).astype(np.float32))


def check(tmp_path, nodes, inits, x_shape, y_shape, opset: int, name: str):
    graph = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", *x_shape])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", *y_shape])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)
    onnx.checker.check_model(model, full_check=True)
    path = tmp_path / f"{name}.onnx"
    onnx.save(model, str(path))
    x = RNG.uniform(-3, 3, (5, *x_shape)).astype(np.float32)
    out = tmp_path / "pred.h5"
    run_modelpress("predict", path, "--data", write_dataset(tmp_path / "x.h5", x), "-o", out, "-q")
    ours, theirs = read_predictions(out), run_ort(path, x)
    print(f"{name}: modelpress vs onnxruntime max |diff| = {max_abs_diff(ours, theirs):.3g}")
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)
    # What ModelPress imported, it exports as a valid file that computes the same.
    exported = tmp_path / f"{name}.mp.onnx"
    run_modelpress("export", path, "-o", exported, "-q")
    onnx.checker.check_model(onnx.load(str(exported)), full_check=True)
    np.testing.assert_allclose(run_ort(exported, x), theirs, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("opset", [13, 18])
def test_convolution_and_pooling_forms(tmp_path, opset):
    pad_inputs = ["x", "pads"] + (["", "axes"] if opset >= 18 else [])
    pads = [1, 2, 0, 1] if opset >= 18 else [0, 0, 1, 2, 0, 0, 0, 1]
    # Resize by sizes names the whole output shape: its 5 is the batch fed in check().
    inits = [const("pads", np.array(pads, np.int64)), random("w", 6, 3, 3, 3), random("b", 6),
             random("dw", 6, 1, 3, 3), const("sizes", np.array([5, 6, 10, 12], np.int64)),
             const("starts", np.array([-9, 1], np.int64)), const("ends", np.array([2**62, -1], np.int64)),
             const("axes2", np.array([2, 3], np.int64))]
    if opset >= 18:
        inits.append(const("axes", np.array([2, 3], np.int64)))
    nodes = [
        helper.make_node("Pad", pad_inputs, ["p"], name="pad"),                                   # 3×9×11
        helper.make_node("Conv", ["p", "w", "b"], ["c"], name="conv_same", auto_pad="SAME_UPPER", strides=[2, 2]),  # 6×5×6
        helper.make_node("Conv", ["c", "dw"], ["d"], name="dwconv", group=6, auto_pad="SAME_LOWER"),             # 6×5×6
        helper.make_node("AveragePool", ["d"], ["a"], name="avg_incl", kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                         count_include_pad=1),                                                      # 6×5×6
        helper.make_node("MaxPool", ["a"], ["m"], name="max_same", kernel_shape=[2, 2], strides=[1, 1], auto_pad="SAME_UPPER"),
        helper.make_node("Resize", ["m", "", "", "sizes"], ["r"], name="resize", mode="nearest"),  # 6×10×12
        helper.make_node("Slice", ["r", "starts", "ends", "axes2"], ["y"], name="slice"),          # 6×9×10
    ]
    check(tmp_path, nodes, inits, (3, 8, 8), (6, 9, 10), opset, f"conv_forms_{opset}")


def test_dense_activation_and_shape_forms(tmp_path):
    inits = [random("fc", 7, 12), random("fcb", 7), const("two", np.float32(2.0)),
             const("ax1", np.array([1], np.int64)), const("ax2", np.array([2], np.int64)),
             random("slope", 1, 7, 1, low=0, high=0.5), const("shape", np.array([0, -1], np.int64))]
    nodes = [
        helper.make_node("Transpose", ["x"], ["t"], name="perm", perm=[0, 2, 1]),                   # 4×3
        helper.make_node("Constant", [], ["k"], name="k", value=numpy_helper.from_array(np.full((4, 3), 0.25, np.float32))),
        helper.make_node("Sum", ["t", "k", "t"], ["s"], name="sum3"),
        helper.make_node("Reshape", ["s", "shape"], ["f"], name="flatten_by_reshape"),              # 12
        helper.make_node("Gemm", ["f", "fc", "fcb"], ["g"], name="gemm", transB=1, alpha=0.5, beta=2.0),
        helper.make_node("Unsqueeze", ["g", "ax2"], ["u"], name="unsqueeze"),                       # 7×1
        helper.make_node("PRelu", ["u", "slope"], ["pr"], name="prelu"),
        helper.make_node("Squeeze", ["pr", "ax2"], ["q"], name="squeeze"),                          # 7
        helper.make_node("Clip", ["q", "", "two"], ["cl"], name="clip_max_only"),
        helper.make_node("HardSwish", ["cl"], ["hs"], name="hard_swish"),
        helper.make_node("Elu", ["q"], ["el"], name="elu", alpha=0.7),
        helper.make_node("Selu", ["q"], ["se"], name="selu"),
        helper.make_node("Softsign", ["q"], ["ss"], name="softsign"),
        helper.make_node("Max", ["hs", "el"], ["mx"], name="max"),
        helper.make_node("Min", ["se", "ss", "mx"], ["mn"], name="min"),
        helper.make_node("Mean", ["mx", "mn"], ["me"], name="mean"),
        helper.make_node("Dropout", ["me"], ["dr"], name="dropout"),
        helper.make_node("Identity", ["dr"], ["id"], name="identity"),
        helper.make_node("Softmax", ["id"], ["y"], name="softmax"),
    ]
    check(tmp_path, nodes, inits, (3, 4), (7,), 14, "dense_forms")


def test_fixed_batch_one_is_read_as_batch(tmp_path):
    """PyTorch exports often fix the batch at 1: ModelPress treats axis 0 as the batch."""
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="relu")]
    graph = helper.make_graph(nodes, "b1", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    path = tmp_path / "b1.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8), str(path))
    out = tmp_path / "pred.h5"
    x = RNG.uniform(-1, 1, (1, 4)).astype(np.float32)
    run_modelpress("predict", path, "--data", write_dataset(tmp_path / "x.h5", x), "-o", out, "-q")
    np.testing.assert_allclose(read_predictions(out), np.maximum(x, 0))


def test_pytorch_dynamic_batch_flatten(tmp_path):
    """`x.view(x.size(0), -1)` exported with a dynamic batch: Shape → Gather → Unsqueeze →
    Concat → Reshape, evaluated at import time."""
    inits = [random("w", 4, 3, 3, 3), const("zero", np.array(0, np.int64)), const("ax0", np.array([0], np.int64)),
             const("minus1", np.array([-1], np.int64)), random("fc", 64, 5), random("fcb", 5)]
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),          # 4×4×4
        helper.make_node("Shape", ["c"], ["s"], name="shape"),
        helper.make_node("Gather", ["s", "zero"], ["n"], name="gather", axis=0),
        helper.make_node("Unsqueeze", ["n", "ax0"], ["n1"], name="unsqueeze"),
        helper.make_node("Concat", ["n1", "minus1"], ["target"], name="concat", axis=0),
        helper.make_node("Reshape", ["c", "target"], ["f"], name="view"),                     # 64
        helper.make_node("MatMul", ["f", "fc"], ["m"], name="fc_matmul"),
        helper.make_node("Add", ["m", "fcb"], ["y"], name="fc_add"),
    ]
    check(tmp_path, nodes, inits, (3, 4, 4), (5,), 13, "dynamic_flatten")
