"""onnxruntime and onnx helpers for the cross-checks."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import onnx
from onnx import numpy_helper
import onnxruntime as ort


def run_ort(path: Path | bytes, x: np.ndarray, threads: int = 1) -> np.ndarray:
    """The first output of the model for input `x`, in onnxruntime's CPU provider."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    source = str(path) if isinstance(path, Path) else path
    session = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def without_final_softmax(model: onnx.ModelProto) -> onnx.ModelProto:
    """The same model with its last Softmax removed, so that the output is the logits (the
    model unchanged when it already ends in logits, as the MobileNetV2 fixture does)."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    out = m.graph.output[0].name
    softmax = [n for n in m.graph.node if n.op_type == "Softmax" and n.output[0] == out]
    if not softmax:
        return m
    node = softmax[0]
    logits = node.input[0]
    m.graph.node.remove(node)
    for n in m.graph.node:
        n.input[:] = [out if i == logits else i for i in n.input]
        n.output[:] = [out if o == logits else o for o in n.output]
    kept = [v for v in m.graph.value_info if v.name != logits]
    del m.graph.value_info[:]
    m.graph.value_info.extend(kept)
    return m


def integer_engine_logit_steps(quantized: Path, x: np.ndarray, data: Path, tmp_path: Path) -> np.ndarray:
    """|Δ| in output quantization steps between `modelpress predict --integer` and onnxruntime on
    the logits of a quantized file (its final softmax removed), over every sample of `data`."""
    from conftest import run_modelpress

    logits_model = without_final_softmax(onnx.load(quantized))
    path = tmp_path / "logits.onnx"
    onnx.save(logits_model, path)
    inits = {t.name: numpy_helper.to_array(t) for t in logits_model.graph.initializer}
    out = logits_model.graph.output[0].name
    dq = next(n for n in logits_model.graph.node if n.output[0] == out)
    scale, zero_point = float(inits[dq.input[1]]), int(inits[dq.input[2]])
    theirs = np.rint(run_ort(path, x) / scale).astype(np.int64) + zero_point
    pred = tmp_path / "pred.h5"
    run_modelpress("predict", path, "--data", data, "-o", pred, "--integer", "-q")
    with h5py.File(pred, "r") as f:
        ours = np.rint(f["y_pred"][()] / scale).astype(np.int64) + zero_point
    return np.abs(ours - theirs)
