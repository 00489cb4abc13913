"""int8 and channel pruning on the model-coverage fixtures (fixtures/make_coverage_fixtures.py:
nested models, separable convolutions, transposed convolutions and bilinear upsampling, Keras 3
operations, 1-D sequence layers, token ids into Embedding, recurrent layers and attention products — which stay float): `modelpress quantize` runs in onnxruntime with an output SQNR at least
onnxruntime's own quantize_static's on ModelPress's float export and the same calibration
images (QDQ, per-channel, MinMax) − 0.5 dB, theirs being the lowest its file gives when its
scales move by one float32 ulp (`ort_sqnr_floor`); channel pruning at 0.3 runs in onnxruntime."""

from __future__ import annotations

import h5py
import onnx
import numpy as np
import pytest

from conftest import FIXTURES, run_modelpress
from ort_helpers import ort_quantize_static, ort_sqnr_floor, run_ort, sqnr

MODELS = [
    f"{major}/{name}.{suffix}"
    for name in (
        "nested_seq", "nested_deep", "separable", "decoder", "operations", "conv1d", "sequence_resize", "text", "bag_of_words",
        "lstm_text", "gru_rnn", "bidirectional", "transformer", "multi_input", "masked_text", "masked_sequence", "hub_encoder", "hub_decoder",
    )
    for major, suffix in (("keras3", "h5"), ("keras3", "keras"), ("keras2", "h5"))
    if (FIXTURES / "models" / major / f"{name}.{suffix}").exists()
]


def fixture_inputs(rel):
    """The model path of fixture `rel`, its input dataset, `--x-key` and inputs (an array, or
    input name → array: a multi-input model reads one dataset per input, `--x-key a,b,c`)."""
    expected = FIXTURES / "expected" / (rel if rel.endswith(".h5") else rel + ".h5")
    with h5py.File(expected, "r") as f:
        data, x_key = FIXTURES / str(f.attrs["input"]), str(f.attrs["x_key"])
    with h5py.File(data, "r") as f:
        x = {k: f[k][()].astype(np.float32) for k in x_key.split(",")} if "," in x_key else f[x_key][()].astype(np.float32)
    return FIXTURES / "models" / rel, data, x_key, x


@pytest.mark.parametrize("rel", MODELS)
def test_coverage_fixture_quantizes_as_well_as_onnxruntime_and_prunes(tmp_path, rel):
    model, data, x_key, x = fixture_inputs(rel)
    exported, quantized, theirs_file, pruned = (tmp_path / n for n in ("float.onnx", "int8.onnx", "ort.onnx", "pruned.onnx"))
    run_modelpress("export", model, "-o", exported, "-q")
    run_modelpress("quantize", model, "-o", quantized, "--calibration", data, "--x-key", x_key, "-q")
    float_out = run_ort(exported, x)
    ours = sqnr(float_out, run_ort(quantized, x))
    ort_quantize_static(exported, theirs_file, x)
    theirs = sqnr(float_out, run_ort(theirs_file, x))
    floor = ort_sqnr_floor(float_out, theirs_file, x)
    print(f"{rel}: int8 SQNR ours {ours:.1f} dB, onnxruntime {theirs:.1f} dB (one-ulp floor {floor:.1f})")
    assert ours >= floor - 0.5, f"{rel}: int8 SQNR {ours:.1f} dB < onnxruntime's {theirs:.1f} (floor {floor:.1f}) - 0.5"
    run_modelpress("prune", model, "-o", pruned, "--structure", "channel", "--sparsity", "0.3", "-q")
    assert run_ort(pruned, x).shape == float_out.shape


@pytest.mark.parametrize("rel", [m for m in MODELS if "masked" in m])
def test_a_masked_int8_file_reads_back_and_predicts_like_onnxruntime(tmp_path, rel):
    """A masked recurrent layer's export (kept steps compacted, `sequence_lens`, outputs gathered
    back) is read back from the record ModelPress writes in the file's metadata, also through
    the QDQ folding of an int8 file: ModelPress on the int8 file computes what onnxruntime does."""
    model = FIXTURES / "models" / rel
    expected = FIXTURES / "expected" / (rel if rel.endswith(".h5") else rel + ".h5")
    with h5py.File(expected, "r") as f:
        data, x_key = FIXTURES / str(f.attrs["input"]), str(f.attrs["x_key"])
    with h5py.File(data, "r") as f:
        x = f[x_key][()]
    quantized, out = tmp_path / "int8.onnx", tmp_path / "pred.h5"
    run_modelpress("quantize", model, "-o", quantized, "--calibration", data, "--x-key", x_key, "-q")
    run_modelpress("predict", quantized, "--data", data, "--x-key", x_key, "-o", out, "-q")
    with h5py.File(out, "r") as f:
        ours = f["y_pred"][()]
    theirs = run_ort(quantized, x)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5 * max(1.0, float(np.max(np.abs(theirs)))))


def test_a_qoperator_file_whose_integer_tensors_are_only_moved_reads_back(tmp_path):
    """A QOperator file without QLinearConv whose int8 tensors go through Reshape / Transpose
    (the keras-hub encoder's attention heads) is expanded to QDQ on import: ModelPress computes
    on it what it computes on the QDQ file, which is what onnxruntime computes."""
    model = FIXTURES / "models" / "keras3" / "hub_encoder.keras"
    data = FIXTURES / "data" / "padded_tokens.h5"
    with h5py.File(data, "r") as f:
        x = f["x"][()]
    outputs = {}
    for form in ("qoperator", "qdq"):
        quantized, out = tmp_path / f"{form}.onnx", tmp_path / f"{form}.h5"
        run_modelpress("quantize", model, "-o", quantized, "--calibration", data, "--format", form, "-q")
        run_modelpress("predict", quantized, "--data", data, "-o", out, "-q")
        with h5py.File(out, "r") as f:
            outputs[form] = f["y_pred"][()]
        theirs = run_ort(quantized, x)
        np.testing.assert_allclose(outputs[form], theirs, rtol=0, atol=1e-5 * max(1.0, float(np.max(np.abs(theirs)))))
    np.testing.assert_array_equal(outputs["qoperator"], outputs["qdq"])


@pytest.mark.parametrize("rel", ["keras3/text.keras", "keras3/transformer.keras"])
def test_int8_tables_store_embeddings_per_row_and_cost_little(tmp_path, rel):
    """--int8-tables: Embedding tables as int8 with one scale per row behind a DequantizeLinear;
    the file shrinks, onnxruntime's output SQNR stays within 0.5 dB of the float-table file, and
    ModelPress computes on it what onnxruntime does."""
    model = FIXTURES / "models" / rel
    data = FIXTURES / "data" / "token_inputs.h5"
    with h5py.File(data, "r") as f:
        x = f["x"][()]
    float_path, plain, tables = tmp_path / "float.onnx", tmp_path / "plain.onnx", tmp_path / "tables.onnx"
    run_modelpress("export", model, "-o", float_path)
    run_modelpress("quantize", model, "-o", plain, "--calibration", data, "-q")
    run_modelpress("quantize", model, "-o", tables, "--calibration", data, "-q", "--int8-tables")
    init = {t.name: t for t in onnx.load(tables).graph.initializer}
    table = init["embed/embeddings/q"]
    assert table.data_type == onnx.TensorProto.INT8 and list(init["embed/embeddings/scale"].dims) == [table.dims[0]]
    assert tables.stat().st_size < plain.stat().st_size
    reference = run_ort(float_path, x)

    def sqnr(p):
        return 10 * np.log10(np.sum(reference.astype(np.float64) ** 2) / np.sum((reference - p).astype(np.float64) ** 2))

    assert sqnr(run_ort(tables, x)) >= sqnr(run_ort(plain, x)) - 0.5
    run_modelpress("predict", tables, "--data", data, "-o", tmp_path / "p.h5", "-q")
    with h5py.File(tmp_path / "p.h5", "r") as f:
        ours = f["y_pred"][()]
    theirs = run_ort(tables, x)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5 * max(1.0, float(np.max(np.abs(theirs)))))


def test_int8_tables_is_static_only(tmp_path):
    r = run_modelpress("quantize", FIXTURES / "models" / "keras3" / "text.keras", "-o", tmp_path / "x.onnx", "--dynamic", "--int8-tables", expect=2)
    assert "--int8-tables is for static int8 quantization" in r.stderr


@pytest.mark.parametrize("rel", ["keras3/transformer.h5", "keras3/hub_encoder.h5", "keras3/multi_input.h5"])
def test_quantize_ops_puts_attention_products_and_softmax_between_int8_pairs(tmp_path, rel):
    """`--quantize-ops MatMul,Softmax`: both operands of every product of two activations
    (attention's Q·Kᵀ and A·V) and Softmax's input and output are int8 in the file (each read
    through a DequantizeLinear of a QuantizeLinear), as onnxruntime's quantize_static does; by
    default they are float. The output SQNR in onnxruntime stays at least onnxruntime's own
    file's floor − 0.5 dB, and ModelPress's engine computes what onnxruntime computes on it."""
    import json

    from conftest import read_predictions

    model, data, x_key, x = fixture_inputs(rel)
    exported, default, selected, theirs_file = (tmp_path / n for n in ("float.onnx", "default.onnx", "selected.onnx", "ort.onnx"))
    run_modelpress("export", model, "-o", exported, "-q")
    run_modelpress("quantize", model, "-o", default, "--calibration", data, "--x-key", x_key, "-q")
    r = run_modelpress("quantize", model, "-o", selected, "--calibration", data, "--x-key", x_key, "--quantize-ops", "MatMul,Softmax", "--json")

    def int8_reads(path):
        """Per product-of-activations MatMul and Softmax node: whether each input is an int8 activation."""
        graph = onnx.load(path).graph
        constants = {t.name for t in graph.initializer}
        producer = {o: n for n in graph.node for o in n.output}

        def int8_activation(name):
            dq = producer.get(name)
            return dq is not None and dq.op_type == "DequantizeLinear" and dq.input[0] not in constants and producer[dq.input[0]].op_type == "QuantizeLinear"

        def weight(name):
            dq = producer.get(name)
            return name in constants or (dq is not None and dq.op_type == "DequantizeLinear" and dq.input[0] in constants)

        nodes = [n for n in graph.node if n.op_type == "Softmax" or (n.op_type == "MatMul" and not any(weight(i) for i in n.input))]
        return {n.name: [int8_activation(i) for i in n.input] for n in nodes}

    chosen, plain = int8_reads(selected), int8_reads(default)
    assert chosen and all(all(reads) for reads in chosen.values()), chosen
    assert not all(all(reads) for reads in plain.values()), plain
    summary = json.loads(r.stdout)["quantize_ops"]
    assert sorted(summary) == ["MatMul", "Softmax"] and len(summary["MatMul"]) + len(summary["Softmax"]) == len(chosen)
    float_out = run_ort(exported, x)
    ort_quantize_static(exported, theirs_file, x)
    ours, floor = sqnr(float_out, run_ort(selected, x)), ort_sqnr_floor(float_out, theirs_file, x)
    print(f"{rel}: --quantize-ops MatMul,Softmax SQNR {ours:.1f} dB, default {sqnr(float_out, run_ort(default, x)):.1f}, onnxruntime floor {floor:.1f}")
    assert ours >= floor - 0.5
    run_modelpress("predict", selected, "--data", data, "--x-key", x_key, "-o", tmp_path / "p.h5")
    assert np.abs(read_predictions(tmp_path / "p.h5") - run_ort(selected, x)).max() < 1e-5


@pytest.mark.parametrize("options, message", [
    (("--quantize-ops", "LayerNormalization"), "--quantize-ops LayerNormalization: the model has no such op among those kept float by default (it has: MatMul, Softmax)"),
    (("--quantize-ops", "Conv"), "--quantize-ops Conv: the model has no such op"),
    (("--quantize-ops", "MatMul", "--dynamic"), "--quantize-ops is for static int8 quantization"),
])
def test_quantize_ops_refusals(tmp_path, options, message):
    model, data, x_key, _ = fixture_inputs("keras3/multi_input.h5")
    r = run_modelpress("quantize", model, "-o", tmp_path / "x.onnx", "--calibration", data, "--x-key", x_key, *options, expect=2)
    assert message in r.stderr
    assert not (tmp_path / "x.onnx").exists()


def test_static_int8_stores_lstm_weights_as_int8(tmp_path):
    """Static int8 stores each LSTM's W and R as int8 per output column behind a
    DequantizeLinear (computed in float, as onnxruntime's DynamicQuantizeLSTM scope): on the
    trained digits LSTM the file is under half the `--float-recurrent` one, top-1 stays within
    one point of float in onnxruntime, and ModelPress computes what onnxruntime computes on it."""
    from conftest import read_predictions

    model = FIXTURES / "models" / "keras3" / "digits_lstm.h5"
    rows, calibration = FIXTURES / "data" / "digits_rows_test.h5", FIXTURES / "data" / "digits_train.h5"
    with h5py.File(rows, "r") as f:
        x, y = f["x"][()].astype(np.float32), f["y"][()]
    exported, int8, float_recurrent = (tmp_path / n for n in ("float.onnx", "int8.onnx", "float_recurrent.onnx"))
    run_modelpress("export", model, "-o", exported, "-q")
    run_modelpress("quantize", model, "-o", int8, "--calibration", calibration, "-q")
    run_modelpress("quantize", model, "-o", float_recurrent, "--calibration", calibration, "-q", "--float-recurrent")
    graph = onnx.load(int8).graph
    producer = {o: n for n in graph.node for o in n.output}
    constants = {t.name: t for t in graph.initializer}
    lstm = next(n for n in graph.node if n.op_type == "LSTM")
    for weight in lstm.input[1:3]:
        dq = producer[weight]
        assert dq.op_type == "DequantizeLinear" and constants[dq.input[0]].data_type == onnx.TensorProto.INT8
        assert len(constants[dq.input[1]].dims) == 1  # one scale per gate row (output column)
    assert int8.stat().st_size < 0.5 * float_recurrent.stat().st_size
    accuracy = lambda p: float(np.mean(np.argmax(p, 1) == y))  # noqa: E731
    assert accuracy(run_ort(int8, x)) >= accuracy(run_ort(exported, x)) - 0.01
    run_modelpress("predict", int8, "--data", rows, "-o", tmp_path / "p.h5")
    assert np.abs(read_predictions(tmp_path / "p.h5") - run_ort(int8, x)).max() < 1e-5


def test_quantize_ops_matmul_is_qlinearmatmul_in_the_qoperator_form(tmp_path):
    """With `--format qoperator`, a product of two int8 activations is one QLinearMatMul (no
    Q/DQ pair around a float MatMul); read back it is the QDQ file's model exactly, and
    onnxruntime (or, without VNNI, onnx's reference evaluator) computes it within a few
    output steps of ModelPress's float-between-Q/DQ reading."""
    from conftest import read_predictions

    model, data, x_key, x = fixture_inputs("keras3/transformer.h5")
    outputs, graphs = {}, {}
    for form in ("qoperator", "qdq"):
        path = tmp_path / f"{form}.onnx"
        run_modelpress("quantize", model, "-o", path, "--calibration", data, "--x-key", x_key, "--quantize-ops", "MatMul", "--format", form, "-q")
        run_modelpress("predict", path, "--data", data, "--x-key", x_key, "-o", tmp_path / f"{form}.h5")
        outputs[form], graphs[form] = read_predictions(tmp_path / f"{form}.h5"), onnx.load(path).graph
    constants = {t.name for t in graphs["qdq"].initializer}
    producer = {o: n for n in graphs["qdq"].node for o in n.output}
    products = [n for n in graphs["qdq"].node if n.op_type == "MatMul" and all(producer[i].input[0] not in constants for i in n.input)]
    assert products and len([n for n in graphs["qoperator"].node if n.op_type == "QLinearMatMul"]) == len(products)
    np.testing.assert_array_equal(outputs["qoperator"], outputs["qdq"])
    theirs = run_ort(tmp_path / "qoperator.onnx", x)
    assert np.abs(theirs - outputs["qoperator"]).max() <= 0.02 * np.abs(theirs).max()
    assert np.mean(theirs.argmax(-1) == outputs["qoperator"].argmax(-1)) >= 0.99
