"""Dynamic int8 (`quantize --dynamic`) on the sequence fixtures — LSTM text model, Bidirectional
LSTM / GRU / SimpleRNN, the Transformer encoder — against onnxruntime's `quantize_dynamic` on the
same float export, both with 7-bit weights (`--reduce-range` / `reduce_range=True`), which no
x86 uint8×int8 kernel saturates (with or without VNNI), so the comparison holds on any CPU:
ModelPress's output SQNR at least onnxruntime's − 0.5 dB, every stored weight in −63…63.
Recurrent weights stay float (standard ONNX has no integer LSTM / GRU / RNN; onnxruntime's own
DynamicQuantizeLSTM is a contrib op), so onnxruntime's file can be smaller on LSTM-heavy models."""

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
