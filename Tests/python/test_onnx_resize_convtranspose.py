"""ONNX ConvTranspose and linear Resize as exporters write them (tf2onnx, torch.onnx.export):
every attribute form imported, run by ModelPress, and checked against onnxruntime on the same
file; the re-exported file is checked in onnxruntime too."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import run_modelpress
from ort_helpers import check_against_onnxruntime

RNG = np.random.default_rng(11)
X = RNG.standard_normal((2, 4, 5, 6)).astype(np.float32)


def _check(tmp_path, node: onnx.NodeProto, initializers, opset: int = 17) -> None:
    graph = helper.make_graph(
        [node], "m", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, 5, 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", "C", "H", "W"])], initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)
    onnx.checker.check_model(model, full_check=True)
    check_against_onnxruntime(tmp_path, model, X, atol=1e-5)


CONV_TRANSPOSE = {
    "stride2-pads": dict(strides=[2, 2], pads=[1, 0, 1, 1]),
    "output-padding": dict(strides=[2, 3], output_padding=[1, 2], pads=[0, 1, 0, 0]),
    "dilation-group": dict(dilations=[2, 1], group=2),
    "output-shape": dict(strides=[2, 2], output_shape=[10, 12]),
    "output-shape-larger": dict(strides=[2, 2], output_shape=[12, 13]),
    "same-upper": dict(strides=[2, 2], auto_pad="SAME_UPPER"),
    "same-lower": dict(strides=[3, 2], auto_pad="SAME_LOWER"),
}


@pytest.mark.parametrize("name", sorted(CONV_TRANSPOSE))
def test_conv_transpose_matches_onnxruntime(tmp_path, name):
    attributes = CONV_TRANSPOSE[name]
    group = attributes.get("group", 1)
    w = RNG.standard_normal((4, 3, 3, 2)).astype(np.float32)
    b = RNG.standard_normal((3 * group,)).astype(np.float32)
    node = helper.make_node("ConvTranspose", ["x", "w", "b"], ["y"], kernel_shape=[3, 2], **attributes)
    _check(tmp_path, node, [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])


RESIZE = {
    "half-pixel-x2": ("half_pixel", [1, 1, 2, 2], None),
    "pytorch-half-pixel-sizes": ("pytorch_half_pixel", None, [2, 4, 9, 1]),
    "align-corners-x3": ("align_corners", [1, 1, 3, 1.5], None),
    "asymmetric-down": ("asymmetric", [1, 1, 0.6, 0.5], None),
    "half-pixel-fractional": ("half_pixel", [1, 1, 1.7, 2.5], None),
}


@pytest.mark.parametrize("name", sorted(RESIZE))
def test_linear_resize_matches_onnxruntime(tmp_path, name):
    mode, scales, sizes = RESIZE[name]
    initializers = []
    inputs = ["x", ""]
    if scales is not None:
        initializers.append(numpy_helper.from_array(np.array(scales, np.float32), "scales"))
        inputs += ["scales"]
    else:
        initializers.append(numpy_helper.from_array(np.array(sizes, np.int64), "sizes"))
        inputs += ["", "sizes"]
    node = helper.make_node("Resize", inputs, ["y"], mode="linear", coordinate_transformation_mode=mode)
    if sizes is not None:
        # A fixed size includes the batch: feed exactly that many rows.
        global X
        saved, X = X, X[: sizes[0]]
        try:
            _check(tmp_path, node, initializers)
        finally:
            X = saved
    else:
        _check(tmp_path, node, initializers)


def test_cubic_resize_is_refused_naming_the_node(tmp_path):
    node = helper.make_node("Resize", ["x", "", "scales"], ["y"], name="upscale", mode="cubic")
    graph = helper.make_graph(
        [node], "m", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, 5, 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", "C", "H", "W"])],
        initializer=[numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")])
    path = tmp_path / "cubic.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), str(path))
    proc = run_modelpress("inspect", path, expect=2)
    assert "upscale" in proc.stderr and "cubic" in proc.stderr and str(path) in proc.stderr, proc.stderr
