"""QOperator files written by onnxruntime's own `quantize_static(QuantFormat.QOperator)` —
QLinearConv, QLinearMatMul and its `com.microsoft` QGemm, QLinearAdd, QLinearMul,
QLinearSoftmax, QLinearGlobalAveragePool — read by ModelPress: its engine computes what
onnxruntime computes on the file, `export` writes a standard QDQ file with the same outputs,
and an operator variant it does not read exits 2 naming the node.

The files use `reduce_range=True` (7-bit weights): with full-range weights onnxruntime's
u8×s8 kernels saturate on CPUs without VNNI, so it would not compute its own file as the
operators define it (docs/quantization.md)."""

from __future__ import annotations

import h5py
import numpy as np
import onnx
import onnxruntime as ort
import pytest

from conftest import FIXTURES, read_predictions, run_modelpress
from ort_helpers import run_ort

CASES = {
    "keras3/cnn": "digits_test.h5",
    "keras3/mlp": "digits_test.h5",
    "keras3/functional": "digits_test.h5",
    "keras3/digits_transformer": "digits_rows_test.h5",
    "keras3/digits_mobilenetv2": "digits_test.h5",
    "keras3/digits_lstm": "digits_rows_test.h5",
}


def onnxruntime_qoperator(float_path, out, x):
    from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static

    name = ort.InferenceSession(str(float_path), providers=["CPUExecutionProvider"]).get_inputs()[0].name

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.rows = iter([{name: x[i : i + 1]} for i in range(64)])

        def get_next(self):
            return next(self.rows, None)

    quantize_static(str(float_path), str(out), Reader(), quant_format=QuantFormat.QOperator, per_channel=True, reduce_range=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax)
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    return session.run(None, {name: x})[0]


@pytest.mark.parametrize("model", sorted(CASES))
def test_onnxruntime_qoperator_file_reads_and_computes_what_onnxruntime_computes(tmp_path, model):
    data = FIXTURES / "data" / CASES[model]
    with h5py.File(data, "r") as f:
        x, y = f["x"][()].astype(np.float32), f["y"][()]
    float_path, theirs, standard = tmp_path / "float.onnx", tmp_path / "ort-qoperator.onnx", tmp_path / "standard.onnx"
    run_modelpress("export", FIXTURES / "models" / f"{model}.h5", "-o", float_path, "-q")
    expected = onnxruntime_qoperator(float_path, theirs, x)
    ops = {n.op_type for n in onnx.load(theirs).graph.node}
    assert ops & {"QGemm", "QLinearMatMul", "QLinearConv"} and not ops & {"Gemm", "MatMul", "Conv"}, ops
    run_modelpress("predict", theirs, "--data", data, "-o", tmp_path / "p.h5")
    ours = read_predictions(tmp_path / "p.h5")
    # Equal where onnxruntime's integer kernels are exact; its QLinearAdd / QLinearMul /
    # QLinearSoftmax approximate in fixed point and lookup tables (a few output steps).
    assert np.abs(ours - expected).max() < 0.1
    assert np.mean(ours.argmax(1) == expected.argmax(1)) >= 0.99
    assert abs(np.mean(ours.argmax(1) == y) - np.mean(expected.argmax(1) == y)) <= 0.01
    # Written again, it is a standard QDQ file computing the same: equal rows but for a rounding
    # that float summation order flips in one of 67 requantizations (MobileNetV2: 3 of 360).
    run_modelpress("export", theirs, "-o", standard)
    assert not [n for n in onnx.load(standard).graph.node if n.domain == "com.microsoft"]
    rows = np.abs(run_ort(standard, x) - ours).max(axis=1)
    assert np.mean(rows > 1e-5) <= 0.01 and rows.max() < 0.2


def test_channels_last_pooling_exits_2_naming_the_node(tmp_path):
    data = FIXTURES / "data" / "digits_test.h5"
    with h5py.File(data, "r") as f:
        x = f["x"][()].astype(np.float32)
    float_path, theirs = tmp_path / "float.onnx", tmp_path / "ort.onnx"
    run_modelpress("export", FIXTURES / "models" / "keras3" / "functional.h5", "-o", float_path, "-q")
    onnxruntime_qoperator(float_path, theirs, x)
    model = onnx.load(theirs)
    pool = next(n for n in model.graph.node if n.op_type == "QLinearGlobalAveragePool")
    next(a for a in pool.attribute if a.name == "channels_last").i = 1
    onnx.save(model, theirs)
    r = run_modelpress("inspect", theirs, expect=2)
    assert f"node '{pool.name}' (QLinearGlobalAveragePool)" in r.stderr and "channels-last" in r.stderr
