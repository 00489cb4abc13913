"""Dynamic int8 (`quantize --dynamic`) on the sequence fixtures — LSTM text model, Bidirectional
LSTM / GRU / SimpleRNN, the Transformer encoder — against onnxruntime's `quantize_dynamic` on the
same float export, both with 7-bit weights (`--reduce-range` / `reduce_range=True`), which no
x86 uint8×int8 kernel saturates (with or without VNNI), so the comparison holds on any CPU:
ModelPress's output SQNR at least onnxruntime's − 0.5 dB, every stored weight in −63…63. LSTM
weights are int8 behind a DequantizeLinear (onnxruntime: its contrib DynamicQuantizeLSTM); GRU
and SimpleRNN weights stay float on both sides."""

from __future__ import annotations

import h5py
import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from conftest import FIXTURES, run_modelpress
from ort_helpers import run_ort, sqnr

CASES = [("keras3/lstm_text.keras", "token_inputs.h5"), ("keras3/bidirectional.keras", "sequence_inputs.h5"),
         ("keras3/transformer.keras", "token_inputs.h5"), ("keras2/gru_rnn.h5", "sequence_inputs.h5")]


@pytest.mark.parametrize("model,data", CASES, ids=[c[0] for c in CASES])
def test_dynamic_reduce_range_matches_onnxruntime(tmp_path, model, data):
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with h5py.File(FIXTURES / "data" / data, "r") as f:
        x = f["x"][()].astype(np.float32)
    exported, ours_file, theirs_file = tmp_path / "float.onnx", tmp_path / "ours.onnx", tmp_path / "ort.onnx"
    run_modelpress("export", FIXTURES / "models" / model, "-o", exported, "-q")
    run_modelpress("quantize", FIXTURES / "models" / model, "-o", ours_file, "--dynamic", "--reduce-range", "-q")
    quantize_dynamic(str(exported), str(theirs_file), weight_type=QuantType.QInt8, reduce_range=True)
    float_out = run_ort(exported, x)
    ours, theirs = sqnr(float_out, run_ort(ours_file, x)), sqnr(float_out, run_ort(theirs_file, x))
    print(f"{model}: dynamic int8 (7-bit weights) SQNR ours {ours:.1f} dB, onnxruntime {theirs:.1f} dB")
    assert ours >= theirs - 0.5
    weights = [numpy_helper.to_array(i) for i in onnx.load(str(ours_file)).graph.initializer if i.data_type == onnx.TensorProto.INT8]
    assert weights and all(np.abs(w.astype(np.int32)).max() <= 63 for w in weights)


def test_static_reduce_range_stores_7bit_weights(tmp_path):
    """`--reduce-range` applies to static int8 as well: every int8 weight in −63…63, and the
    file still runs in onnxruntime close to the float model."""
    model, data = FIXTURES / "models" / "keras3" / "transformer.keras", FIXTURES / "data" / "token_inputs.h5"
    with h5py.File(data, "r") as f:
        x = f["x"][()].astype(np.float32)
    exported, quantized = tmp_path / "float.onnx", tmp_path / "int8.onnx"
    run_modelpress("export", model, "-o", exported, "-q")
    run_modelpress("quantize", model, "-o", quantized, "--calibration", data, "--reduce-range", "-q")
    weights = [numpy_helper.to_array(i) for i in onnx.load(str(quantized)).graph.initializer if i.data_type == onnx.TensorProto.INT8]
    assert weights and all(np.abs(w.astype(np.int32)).max() <= 63 for w in weights)
    assert max(np.abs(w.astype(np.int32)).max() for w in weights) == 63
    assert sqnr(run_ort(exported, x), run_ort(quantized, x)) > 15


TRAINED = ["digits_lstm", "digits_gru", "digits_transformer"]


@pytest.mark.parametrize("name", TRAINED)
def test_trained_sequence_model_keeps_its_accuracy_in_int8(tmp_path, name):
    """The trained sequence fixtures (fixtures/make_sequence_fixtures.py: digits rows as 8-step
    sequences): static int8 and dynamic int8 (7-bit weights) lose at most one point of test
    accuracy in onnxruntime, and the dynamic file is at least as accurate as onnxruntime's
    `quantize_dynamic(reduce_range=True)` on the same float file (one sample of slack) and at
    most half the float file's size when the model is mostly recurrent weights."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = FIXTURES / "models" / "keras3" / f"{name}.keras"
    train, test = FIXTURES / "data" / "digits_train.h5", FIXTURES / "data" / "digits_test.h5"
    with h5py.File(test, "r") as f:
        x, y = f["x"][()].reshape(-1, 8, 8).astype(np.float32), f["y"][()]
    exported, static, dynamic, theirs = (tmp_path / n for n in ("float.onnx", "static.onnx", "dynamic.onnx", "ort.onnx"))
    run_modelpress("export", model, "-o", exported, "-q")
    run_modelpress("quantize", model, "-o", static, "--calibration", train, "--samples", "256", "-q")
    run_modelpress("quantize", model, "-o", dynamic, "--dynamic", "--reduce-range", "-q")
    quantize_dynamic(str(exported), str(theirs), weight_type=QuantType.QInt8, reduce_range=True)
    accuracy = {p.stem: float(np.mean(np.argmax(run_ort(p, x), axis=-1) == y)) for p in (exported, static, dynamic, theirs)}
    sizes = {p.stem: p.stat().st_size for p in (exported, dynamic, theirs)}
    print(f"{name}: accuracy {accuracy}, bytes {sizes}")
    assert accuracy["static"] >= accuracy["float"] - 0.01
    assert accuracy["dynamic"] >= accuracy["float"] - 0.01
    assert accuracy["dynamic"] >= accuracy["ort"] - 1 / len(y)
    if name == "digits_lstm":
        assert sizes["dynamic"] <= sizes["float"] / 2, "LSTM weights are stored as int8"
