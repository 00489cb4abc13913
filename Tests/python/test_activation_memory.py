"""Peak activation memory per sample (`inspect` totals `peak_activation_bytes` and
`activation_bytes_without_reuse`), checked against a schedule worked by hand for the digits
CNN and against an independent liveness schedule over onnx's own shape inference for the
ONNX that ModelPress exports (digits CNN, MobileNetV2-0.35 at 96×96)."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest

from conftest import FIXTURES, run_modelpress

ELEMENT_BYTES = {onnx.TensorProto.FLOAT: 4, onnx.TensorProto.FLOAT16: 2, onnx.TensorProto.INT8: 1, onnx.TensorProto.UINT8: 1}


def inspect_totals(path) -> dict:
    return json.loads(run_modelpress("inspect", path, "--json").stdout)["totals"]


def liveness_schedule(model: onnx.ModelProto) -> tuple[int, int]:
    """(peak, total) bytes per sample running the nodes in file order: graph inputs alive from
    the start, every value freed after its last reader, graph outputs kept to the end; the
    shapes come from onnx.shape_inference with the batch axis dropped."""
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    graph = inferred.graph
    weights = {t.name for t in graph.initializer}
    sizes = {}
    for info in list(graph.input) + list(graph.value_info) + list(graph.output):
        dims = [d.dim_value for d in info.type.tensor_type.shape.dim]
        sizes[info.name] = int(np.prod(dims[1:], dtype=np.int64)) * ELEMENT_BYTES[info.type.tensor_type.elem_type]
    nbytes = lambda name: 0 if name in weights or not name else sizes[name]  # noqa: E731
    last_use = {}
    for i, node in enumerate(graph.node):
        for name in node.input:
            last_use[name] = i
    for out in graph.output:
        last_use[out.name] = len(graph.node)
    live = total = sum(nbytes(i.name) for i in graph.input if i.name not in weights)
    peak = 0
    for i, node in enumerate(graph.node):
        written = sum(nbytes(o) for o in node.output)
        live += written
        total += written
        peak = max(peak, live)
        for name in set(node.input) | set(node.output):
            if last_use.get(name, i) <= i:
                live -= nbytes(name)
    return peak, total


def test_digits_cnn_matches_the_schedule_worked_by_hand():
    # input [8,8,1] 256 B → nchw transpose 256 (512 live, input freed → 256) → conv_1/conv
    # [16,8,8] 4,096 (4,352 → 4,096) → relu 4,096 (8,192: the peak, conv freed → 4,096) → pool
    # [16,4,4] 1,024 (5,120 → 1,024) → conv_2/conv [32,4,4] 2,048 (3,072 → 2,048) → relu 2,048
    # (4,096 → 2,048) → pool [32,2,2] 512 → nhwc transpose 512 → flatten 512 → dense 256 →
    # relu 256 → predictions 40 → softmax 40. Without reuse: 256 + 256 + 4,096 + 4,096 + 1,024
    # + 2,048 + 2,048 + 512 · 3 + 256 · 2 + 40 · 2 = 15,952.
    totals = inspect_totals(FIXTURES / "models" / "keras3" / "cnn.h5")
    assert (totals["peak_activation_bytes"], totals["activation_bytes_without_reuse"]) == (8192, 15952)


@pytest.mark.parametrize("model", ["cnn", "mobilenetv2_96"])
def test_exported_onnx_matches_a_liveness_schedule_over_onnx_shape_inference(tmp_path, model):
    path = tmp_path / f"{model}.onnx"
    run_modelpress("export", FIXTURES / "models" / "keras3" / f"{model}.h5", "-o", path)
    proto = onnx.load(str(path))
    # The schedule holds when ModelPress reads back exactly the file's nodes, which its own
    # float exports are.
    totals = inspect_totals(path)
    assert totals["nodes"] == len(proto.graph.node)
    peak, total = liveness_schedule(proto)
    print(f"{model}: peak {peak} bytes, {total} without reuse (ModelPress {totals['peak_activation_bytes']})")
    assert (totals["peak_activation_bytes"], totals["activation_bytes_without_reuse"]) == (peak, total)
