"""Dynamic int8 (`quantize --dynamic`) on the sequence fixtures — LSTM / GRU / SimpleRNN,
Bidirectional, Embedding, Conv1D, the Transformer and keras-hub encoders, masked and multi-input
models — against onnxruntime's `quantize_dynamic` on the same float export, both with 7-bit weights
(`--reduce-range` / `reduce_range=True`: `max|w| / 64`, codes −64…64, which no x86 uint8×int8
kernel saturates, with or without VNNI), so the comparison holds on any CPU. Per tensor the two
store the same int8 codes and scales; per channel and per tensor ModelPress's output SQNR is at
least onnxruntime's − 0.2 dB on 512 sequences drawn like the fixture's. LSTM weights are int8
behind a DequantizeLinear (onnxruntime: its contrib DynamicQuantizeLSTM); GRU and SimpleRNN
weights stay float on both sides."""

from __future__ import annotations

import h5py
import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from conftest import FIXTURES, run_modelpress
from ort_helpers import run_ort, sqnr

ENCODERS = ["lstm_text", "gru_rnn", "bidirectional", "transformer", "multi_input", "masked_text", "masked_sequence", "hub_encoder", "hub_decoder", "text", "conv1d"]


def sequences_like(x: np.ndarray, count: int = 512, seed: int = 0) -> np.ndarray:
    """`count` rows shaped like `x`'s, zeros (padding, masked steps) where a row of `x` drawn at
    random has them, elsewhere new token ids in 1…max(x) when `x` holds ids, else normal values
    with `x`'s mean and spread: enough sequences that the SQNR measures the weights, not 8 rows."""
    rng = np.random.default_rng(seed)
    rows = x[rng.integers(0, len(x), count)]
    ids = bool(np.all(x == np.round(x)))
    fresh = rng.integers(1, int(x.max()) + 1, rows.shape) if ids else rng.normal(x.mean(), x.std(), rows.shape)
    return np.where(rows == 0, 0, fresh).astype(np.float32)


def encoder_inputs(name: str):
    """The model path of keras3 fixture `name` and 512 sequences for each of its inputs."""
    with h5py.File(FIXTURES / "expected" / "keras3" / f"{name}.keras.h5", "r") as f:
        data, x_key = FIXTURES / str(f.attrs["input"]), str(f.attrs["x_key"])
    with h5py.File(data, "r") as f:
        x = {k: sequences_like(f[k][()].astype(np.float32), seed=i) for i, k in enumerate(x_key.split(","))}
    return FIXTURES / "models" / "keras3" / f"{name}.keras", x if "," in x_key else x[x_key]


@pytest.mark.parametrize("weights", ["per-channel", "per-tensor"])
@pytest.mark.parametrize("name", ENCODERS)
def test_dynamic_reduce_range_matches_onnxruntime(tmp_path, name, weights):
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model, x = encoder_inputs(name)
    exported, ours_file, theirs_file = tmp_path / "float.onnx", tmp_path / "ours.onnx", tmp_path / "ort.onnx"
    run_modelpress("export", model, "-o", exported, "-q")
    run_modelpress("quantize", model, "-o", ours_file, "--dynamic", "--reduce-range", "--weights", weights, "-q")
    quantize_dynamic(str(exported), str(theirs_file), weight_type=QuantType.QInt8, reduce_range=True, per_channel=weights == "per-channel")
    float_out = run_ort(exported, x)
    ours, theirs = sqnr(float_out, run_ort(ours_file, x)), sqnr(float_out, run_ort(theirs_file, x))
    print(f"{name} ({weights}): dynamic int8 (7-bit weights) SQNR ours {ours:.1f} dB, onnxruntime {theirs:.1f} dB")
    assert ours >= theirs - 0.2
    ours_int8 = {i.name: numpy_helper.to_array(i) for i in onnx.load(str(ours_file)).graph.initializer if i.data_type == onnx.TensorProto.INT8}
    assert ours_int8 and all(np.abs(w.astype(np.int32)).max() <= 64 for w in ours_int8.values())
    if weights == "per-tensor":
        theirs_int8 = {i.name: numpy_helper.to_array(i) for i in onnx.load(str(theirs_file)).graph.initializer if i.name.endswith("_quantized")}
        shared = [n for n in ours_int8 if n.endswith("/q") and f"{n[:-2]}_quantized" in theirs_int8 and "/W" not in n and "/R" not in n]
        assert shared, f"{name}: no int8 weight of onnxruntime's file found in ours"
        for n in shared:
            np.testing.assert_array_equal(ours_int8[n], theirs_int8[f"{n[:-2]}_quantized"], err_msg=f"{name}: {n} codes differ from onnxruntime's")


def test_static_reduce_range_stores_7bit_weights(tmp_path):
    """`--reduce-range` applies to static int8 as well: every int8 weight in −64…64, and the
    file still runs in onnxruntime close to the float model."""
    model, data = FIXTURES / "models" / "keras3" / "transformer.keras", FIXTURES / "data" / "token_inputs.h5"
    with h5py.File(data, "r") as f:
        x = f["x"][()].astype(np.float32)
    exported, quantized = tmp_path / "float.onnx", tmp_path / "int8.onnx"
    run_modelpress("export", model, "-o", exported, "-q")
    run_modelpress("quantize", model, "-o", quantized, "--calibration", data, "--reduce-range", "-q")
    weights = [numpy_helper.to_array(i) for i in onnx.load(str(quantized)).graph.initializer if i.data_type == onnx.TensorProto.INT8]
    assert weights and all(np.abs(w.astype(np.int32)).max() <= 64 for w in weights)
    assert max(np.abs(w.astype(np.int32)).max() for w in weights) == 64
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
