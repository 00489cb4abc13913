"""ONNX for sequence models as torch.onnx.export writes it: 1-D Conv / pooling on N×C×L (lifted
to 2-D at import), and token ids (int64 input) into Gather on an embedding table — each file
run by ModelPress and checked against onnxruntime on the same file, and re-exported."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from ort_helpers import check_against_onnxruntime

RNG = np.random.default_rng(21)


def _check(tmp_path, nodes, x: np.ndarray, input_type, input_shape, initializers, out_shape) -> None:
    graph = helper.make_graph(
        nodes, "m", [helper.make_tensor_value_info("x", input_type, input_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)], initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model, full_check=True)
    check_against_onnxruntime(tmp_path, model, x, atol=1e-5)


LAYERS = {
    "conv-pads-stride": lambda: [helper.make_node("Conv", ["x", "w", "b"], ["y"], kernel_shape=[3], pads=[2, 1], strides=[2])],
    "conv-dilated-grouped": lambda: [helper.make_node("Conv", ["x", "wg"], ["y"], kernel_shape=[3], dilations=[2], group=2)],
    "conv-same": lambda: [helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[3], auto_pad="SAME_UPPER", strides=[3])],
    "maxpool": lambda: [helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[3], strides=[2], pads=[1, 1])],
    "avgpool": lambda: [helper.make_node("AveragePool", ["x"], ["y"], kernel_shape=[2], strides=[1], pads=[0, 1])],
    "global-avg": lambda: [helper.make_node("GlobalAveragePool", ["x"], ["y"])],
    "global-max": lambda: [helper.make_node("GlobalMaxPool", ["x"], ["y"])],
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_1d_layer_matches_onnxruntime(tmp_path, name):
    x = RNG.standard_normal((3, 4, 11)).astype(np.float32)
    initializers = [
        numpy_helper.from_array(RNG.standard_normal((5, 4, 3)).astype(np.float32), "w"),
        numpy_helper.from_array(RNG.standard_normal((6, 2, 3)).astype(np.float32), "wg"),
        numpy_helper.from_array(RNG.standard_normal(5).astype(np.float32), "b"),
    ]
    _check(tmp_path, LAYERS[name](), x, TensorProto.FLOAT, ["N", 4, 11], initializers, ["N", "C", "L"])


def test_token_ids_into_an_embedding_and_a_text_cnn_match_onnxruntime(tmp_path):
    """The graph torch writes for Embedding → Conv1d → ReLU → max over time → Linear."""
    ids = RNG.integers(0, 30, (4, 12)).astype(np.int64)
    nodes = [
        helper.make_node("Gather", ["table", "x"], ["e"], axis=0),
        helper.make_node("Transpose", ["e"], ["t"], perm=[0, 2, 1]),
        helper.make_node("Conv", ["t", "w", "b"], ["c"], kernel_shape=[3], pads=[1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("GlobalMaxPool", ["r"], ["p"]),
        helper.make_node("Flatten", ["p"], ["f"]),
        helper.make_node("Gemm", ["f", "fc"], ["y"], transB=1),
    ]
    initializers = [
        numpy_helper.from_array(RNG.standard_normal((30, 6)).astype(np.float32), "table"),
        numpy_helper.from_array(RNG.standard_normal((5, 6, 3)).astype(np.float32), "w"),
        numpy_helper.from_array(RNG.standard_normal(5).astype(np.float32), "b"),
        numpy_helper.from_array(RNG.standard_normal((3, 5)).astype(np.float32), "fc"),
    ]
    _check(tmp_path, nodes, ids, TensorProto.INT64, ["N", 12], initializers, ["N", 3])
