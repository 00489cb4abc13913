"""4-bit weights in static quantization (`--weight-bits 4`) and bias correction
(`--bias-correction`), checked outside ModelPress: the int4 QDQ file passes onnx's full check
and runs in onnxruntime with the outputs ModelPress computes, its weights are max|w|/7 per
channel of the float export's kernels (numpy), each corrected bias is the float bias minus the
mean output shift of the layer's quantized weights (onnxruntime runs the layer with ΔW on the
float model's own activations), and on the hard MobileNetV2 fixture the correction recovers at
least half of what 4-bit weights lose."""

from __future__ import annotations

import json
import shutil

import h5py
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import helper, numpy_helper

from conftest import FIXTURES, run_modelpress
from ort_helpers import run_ort

TRAIN = FIXTURES / "data" / "digits_train.h5"
TEST = FIXTURES / "data" / "digits_test.h5"
MOBILENET = FIXTURES / "models" / "keras3" / "digits_mobilenetv2.h5"
CNN = FIXTURES / "models" / "keras3" / "cnn.h5"


def data(path):
    with h5py.File(path, "r") as f:
        return f["x"][()].astype(np.float32), f["y"][()]


def quantize(tmp_path, model, name, *options):
    out = tmp_path / f"{name}.onnx"
    proc = run_modelpress("quantize", model, "-o", out, "--calibration", TRAIN, "--json", *options)
    return out, json.loads(proc.stdout)


def export(tmp_path, model):
    out = tmp_path / "float.onnx"
    run_modelpress("export", model, "-o", out)
    return out


def dequantized(model: onnx.ModelProto):
    """Value name → float64 array of every DequantizeLinear output of an initializer."""
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    out = {}
    for n in model.graph.node:
        if n.op_type != "DequantizeLinear" or n.input[0] not in inits:
            continue
        q, s = inits[n.input[0]].astype(np.float64), inits[n.input[1]].astype(np.float64)
        zp = inits[n.input[2]].astype(np.float64) if len(n.input) > 2 and n.input[2] else np.zeros_like(s)
        axis = next((a.i for a in n.attribute if a.name == "axis"), 1)
        if s.size > 1:
            shape = [1] * q.ndim
            shape[axis] = -1
            s, zp = s.reshape(shape), zp.reshape(shape)
        out[n.output[0]] = (q - zp) * s
    return out, inits


@pytest.mark.parametrize("model", [CNN, MOBILENET], ids=["cnn", "mobilenetv2"])
def test_int4_weights_are_per_channel_int4_and_run_in_onnxruntime(tmp_path, model):
    out, summary = quantize(tmp_path, model, "int4", "--weight-bits", "4", "--samples", "256")
    int8, _ = quantize(tmp_path, model, "int8", "--samples", "256")
    assert summary["weight_bits"] == 4 and summary["opset"] == 21
    assert all(layer["bits"] == 4 for layer in summary["layers"])
    m = onnx.load(str(out))
    onnx.checker.check_model(m, full_check=True)
    assert {o.version for o in m.opset_import if o.domain in ("", "ai.onnx")} == {21}
    float_inits = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(export(tmp_path, model))).graph.initializer}
    float_convs = {n.name: n for n in onnx.load(str(export(tmp_path, model))).graph.node if n.op_type in ("Conv", "Gemm", "MatMul")}
    values, inits = dequantized(m)
    producers = {o: n for n in m.graph.node for o in n.output}
    checked = 0
    for n in m.graph.node:
        if n.op_type not in ("Conv", "Gemm", "MatMul") or n.name not in float_convs:
            continue
        dq = producers[n.input[1]]
        q = next(t for t in m.graph.initializer if t.name == dq.input[0])
        assert q.data_type == onnx.TensorProto.INT4, n.name
        ints = numpy_helper.to_array(q).astype(np.int64)
        assert ints.min() >= -7 and ints.max() <= 7
        w = float_inits[float_convs[n.name].input[1]].astype(np.float64)
        axis = 0 if n.op_type == "Conv" else 1
        bound = np.abs(np.moveaxis(w, axis, 0).reshape(w.shape[axis], -1)).max(axis=1)
        scale = np.where(bound > 0, bound / 7, 1).astype(np.float32).astype(np.float64)
        shape = [1] * w.ndim
        shape[axis] = -1
        expected = np.clip(np.round(w / scale.reshape(shape)), -7, 7)
        # float32 division can land a .5 tie either side: allow one step on a few weights.
        assert np.mean(ints != expected) < 1e-3 and np.abs(ints - expected).max() <= 1, n.name
        checked += 1
    assert checked >= 4
    assert out.stat().st_size < 0.75 * int8.stat().st_size
    x, _ = data(TEST)
    y_ort = run_ort(out, x)
    pred = tmp_path / "pred.h5"
    run_modelpress("predict", out, "--data", TEST, "-o", pred)
    with h5py.File(pred, "r") as f:
        y_mp = f["y_pred"][()]
    assert np.abs(y_ort - y_mp).max() <= 2e-2 * max(1.0, np.abs(y_ort).max())
    assert np.mean(np.argmax(y_ort, 1) == np.argmax(y_mp, 1)) >= 0.99


def test_integer_engine_runs_int4_weights(tmp_path):
    out, _ = quantize(tmp_path, CNN, "int4", "--weight-bits", "4", "--samples", "256")
    x, _ = data(TEST)
    pred = tmp_path / "int.h5"
    run_modelpress("predict", out, "--data", TEST, "--integer", "-o", pred)
    with h5py.File(pred, "r") as f:
        y_int = f["y_pred"][()]
    assert np.mean(np.argmax(y_int, 1) == np.argmax(run_ort(out, x), 1)) >= 0.99


def layer_inputs(float_path, names, x):
    """The float model's activations named `names`, from onnxruntime."""
    m = onnx.load(str(float_path))
    for name in names:
        m.graph.output.append(helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    s = ort.InferenceSession(m.SerializeToString())
    return s.run(names, {s.get_inputs()[0].name: x})


def run_alone(node, weight, x):
    """`node` (a Conv, or a Gemm/MatMul as MatMul) with weight `weight` and no bias, on `x`."""
    if node.op_type == "Conv":
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        op = helper.make_node("Conv", ["x", "w"], ["y"], **attrs)
    else:
        op = helper.make_node("MatMul", ["x", "w"], ["y"])
    g = helper.make_graph([op], "one", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, None)],
                          [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)],
                          [numpy_helper.from_array(weight.astype(np.float32), "w")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    return ort.InferenceSession(m.SerializeToString()).run(None, {"x": x})[0]


@pytest.mark.parametrize("model,options", [(CNN, ["--weights", "per-tensor"]), (MOBILENET, [])], ids=["cnn-per-tensor", "mobilenetv2"])
def test_corrected_bias_is_float_bias_minus_mean_shift(tmp_path, model, options):
    samples = 128
    out, summary = quantize(tmp_path, model, "bc", "--weight-bits", "4", "--bias-correction", "--samples", str(samples), *options)
    assert all(layer["bias_shift_max_abs"] is not None for layer in summary["layers"])
    m = onnx.load(str(out))
    onnx.checker.check_model(m, full_check=True)
    float_path = export(tmp_path, model)
    fm = onnx.load(str(float_path))
    float_inits = {t.name: numpy_helper.to_array(t) for t in fm.graph.initializer}
    values, inits = dequantized(m)
    quantized = {n.name: n for n in m.graph.node if n.op_type in ("Conv", "Gemm", "MatMul")}
    layers = [n for n in fm.graph.node if n.name in quantized][:8]   # first conv, depthwise, pointwise, …
    x, _ = data(TRAIN)
    x = x[:samples]
    measurable = 0
    for node, xin in zip(layers, layer_inputs(float_path, [n.input[0] for n in layers], x)):
        q = quantized[node.name]
        w = float_inits[node.input[1]].astype(np.float64)
        delta = values[q.input[1]] - w
        y = run_alone(node, delta, xin).astype(np.float64)
        shift = y.mean(axis=(0, 2, 3)) if node.op_type == "Conv" else y.reshape(-1, y.shape[-1]).mean(axis=0)
        bias = float_inits[node.input[2]].astype(np.float64) if len(node.input) > 2 else np.zeros_like(shift)
        bias_q = values[q.input[2]]
        step = inits[next(n for n in m.graph.node if n.output[0] == q.input[2]).input[1]].astype(np.float64)
        # The corrected float bias is rounded onto the int32 grid (half a step), and the shift is
        # a float32 mean over the samples.
        assert np.all(np.abs((bias - bias_q) - shift) <= 0.5 * step + 1e-4 + 1e-3 * np.abs(shift)), node.name
        measurable += np.abs(shift).max() > 2 * step.max()
    assert measurable >= 2, "4-bit weights shift some outputs by more than the bias grid"


def accuracy(path, x, y):
    return float(np.mean(np.argmax(run_ort(path, x), axis=1) == y))


def test_bias_correction_recovers_half_of_the_int4_loss(tmp_path):
    """docs/quantization.md, "Bias correction": MobileNetV2-0.35 on the digits, 4-bit weights per
    channel; measured in onnxruntime on the test set."""
    x, y = data(TEST)
    floating = accuracy(export(tmp_path, MOBILENET), x, y)
    plain, _ = quantize(tmp_path, MOBILENET, "plain", "--weight-bits", "4")
    corrected, _ = quantize(tmp_path, MOBILENET, "corrected", "--weight-bits", "4", "--bias-correction")
    a_plain, a_corrected = accuracy(plain, x, y), accuracy(corrected, x, y)
    assert floating - a_plain >= 0.02, (floating, a_plain)   # a hard case: 4-bit weights lose
    assert a_corrected - a_plain >= 0.5 * (floating - a_plain), (floating, a_plain, a_corrected)


def test_pipeline_quantize_stage_takes_weight_bits_bias_correction_and_qat(tmp_path):
    # `train` is a path key: resolved against the pipeline file's folder.
    shutil.copy(TRAIN, tmp_path / TRAIN.name)
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(f"""version: 1
name: int4-bc
model: {CNN}
data:
  calibration: {TRAIN}
  test: {TEST}
stages:
  - quantize: {{ weight_bits: 4, bias_correction: true, samples: 128, qat: true, train: {TRAIN.name}, epochs: 1 }}
  - verify:   {{ max_drop: 0.05 }}
""")
    run_modelpress("run", pipeline, "--out", tmp_path / "out")
    r = json.loads((tmp_path / "out" / "int4-bc" / "report.json").read_text())
    final = onnx.load(r["final"]["path"])
    assert any(t.data_type == onnx.TensorProto.INT4 for t in final.graph.initializer)
    meta = {p.key: p.value for p in final.metadata_props}
    settings = json.loads(meta["modelpress.compression"])["quantization"]
    assert settings["weight_bits"] == 4 and settings["bias_correction"] is True and settings["qat_epochs"] == 1


@pytest.mark.parametrize("options,message", [
    (["--weight-bits", "3"], "--weight-bits must be 8 or 4"),
    (["--weight-bits", "4", "--opset", "13"], "--opset 21"),
    (["--weight-bits", "4", "--format", "qoperator"], "--weight-bits 4"),
    (["--weight-bits", "4", "--bits", "16"], "--weight-bits 4"),
    (["--bias-correction", "--dynamic"], "--bias-correction"),
])
def test_bad_low_bit_options_exit_2(tmp_path, options, message):
    out = tmp_path / "bad.onnx"
    proc = run_modelpress("quantize", CNN, "-o", out, "--calibration", TRAIN, *options, expect=2)
    assert message in proc.stderr, proc.stderr
    assert not out.exists()


FUNCTIONAL = FIXTURES / "models" / "keras3" / "functional.h5"


def test_qat_recovers_three_quarters_of_the_int4_loss(tmp_path):
    """docs/quantization.md, "Quantization-aware training": the BatchNorm + depthwise residual
    net at 4-bit weights per channel, 3 QAT epochs; accuracy in onnxruntime."""
    x, y = data(TEST)
    floating = accuracy(export(tmp_path, FUNCTIONAL), x, y)
    ptq, _ = quantize(tmp_path, FUNCTIONAL, "ptq", "--weight-bits", "4")
    qat, summary = quantize(tmp_path, FUNCTIONAL, "qat", "--weight-bits", "4", "--qat", "--train", TRAIN, "--epochs", "3")
    assert [e["epoch"] for e in summary["qat"]] == [1, 2, 3]
    onnx.checker.check_model(onnx.load(str(qat)), full_check=True)
    a_ptq, a_qat = accuracy(ptq, x, y), accuracy(qat, x, y)
    assert floating - a_ptq >= 0.03, (floating, a_ptq)
    assert a_qat - a_ptq >= 0.75 * (floating - a_ptq), (floating, a_ptq, a_qat)
    meta = {p.key: p.value for p in onnx.load(str(qat)).metadata_props}
    assert json.loads(meta["modelpress.compression"])["quantization"]["qat_epochs"] == 3


def test_qat_keeps_a_pruned_model_pruned_and_writes_qoperator(tmp_path):
    pruned = tmp_path / "pruned.onnx"
    run_modelpress("prune", CNN, "-o", pruned, "--sparsity", "0.5")
    zeros = {n.name: numpy_helper.to_array(t) == 0 for n in onnx.load(str(pruned)).graph.node
             for t in onnx.load(str(pruned)).graph.initializer if n.op_type in ("Conv", "Gemm") and t.name == n.input[1]}
    out, _ = quantize(tmp_path, pruned, "qat", "--qat", "--train", TRAIN, "--epochs", "1", "--format", "qoperator")
    m = onnx.load(str(out))
    assert any(n.op_type == "QLinearConv" for n in m.graph.node)
    inits = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    checked = 0
    for n in m.graph.node:
        if n.op_type == "QLinearConv" and n.name in zeros:
            w = inits[n.input[3]]
            assert np.array_equal(w == 0, zeros[n.name]), n.name   # exactly the pruned weights are zero
            checked += 1
    assert checked >= 1
    x, y = data(TEST)
    assert accuracy(out, x, y) >= 0.9


@pytest.mark.parametrize("options,message", [
    (["--qat"], "--train"),
    (["--train", str(TRAIN)], "--qat"),
    (["--qat", "--train", str(TRAIN), "--dynamic"], "--qat"),
])
def test_bad_qat_options_exit_2(tmp_path, options, message):
    out = tmp_path / "bad.onnx"
    proc = run_modelpress("quantize", CNN, "-o", out, "--calibration", TRAIN, *options, expect=2)
    assert message in proc.stderr, proc.stderr
    assert not out.exists()


OUTLIERS = FIXTURES / "models" / "keras3" / "digits_outlier_transformer.h5"
ROWS_TEST = FIXTURES / "data" / "digits_rows_test.h5"


def test_smoothquant_factors_and_accuracy_on_the_outlier_transformer(tmp_path):
    """docs/quantization.md, "SmoothQuant": the factors are max|X_j|^α / max|W_j|^(1−α) of the
    float model's LayerNorm output (onnxruntime, calibration data) and ffn1's kernel rows; the
    LayerNorm's γ and β are divided by them and ffn1's rows multiplied; static int8 of the
    outlier Transformer is then within 1 point of float in onnxruntime."""
    out, summary = quantize(tmp_path, OUTLIERS, "sq", "--smoothquant", "--opset", "17")
    plain, _ = quantize(tmp_path, OUTLIERS, "plain", "--opset", "17")
    assert "ffn2" in summary["smoothquant_skipped"] and "gelu" in summary["smoothquant_skipped"]["ffn2"]
    scales = {layer["node"]: layer.get("smoothquant_max_scale") for layer in summary["layers"]}
    assert scales["ffn1/linear"] is not None and scales["ffn2"] is None
    float_path = tmp_path / "float.onnx"
    run_modelpress("export", OUTLIERS, "-o", float_path, "--opset", "17")
    fi = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in onnx.load(str(float_path)).graph.initializer}
    m = onnx.load(str(out))
    values, inits = dequantized(m)
    x, _ = data(TRAIN)
    (ln,) = layer_inputs(float_path, ["ffn_norm"], x.reshape(-1, 8, 8))
    x_max = np.abs(ln).reshape(-1, ln.shape[-1]).max(axis=0).astype(np.float64)
    w = fi["ffn1/kernel"]
    s = np.sqrt(x_max) / np.sqrt(np.abs(w).max(axis=1))
    assert s.max() / np.median(s) > 20, "the outlier channels get the large factors"
    np.testing.assert_allclose(inits["ffn_norm/gamma"], fi["ffn_norm/gamma"] / s, rtol=1e-4)
    np.testing.assert_allclose(inits["ffn_norm/beta"], fi["ffn_norm/beta"] / s, rtol=1e-4, atol=1e-7)
    smoothed = s[:, None] * w
    step = np.abs(smoothed).max(axis=0) / 127
    assert np.all(np.abs(values["ffn1/kernel"] - smoothed) <= 0.5 * step + 1e-6 * np.abs(smoothed))
    xt, yt = data(ROWS_TEST)
    floating = accuracy(float_path, xt, yt)
    a_plain, a_sq = accuracy(plain, xt, yt), accuracy(out, xt, yt)
    assert floating - a_plain >= 0.02, (floating, a_plain)
    assert floating - a_sq <= 0.01, (floating, a_sq)


def test_cross_layer_equalization_matches_ranges_and_recovers_half(tmp_path):
    """docs/quantization.md, "Cross-layer equalization": in keras3/functional only the depthwise →
    pointwise pair qualifies (the stem's output also feeds the residual Add). In the written
    file, each depthwise output channel's largest |w| equals the pointwise kernel's largest |w|
    on that input channel (to the 4-bit grid), and at 4-bit weights per channel the pair wins back
    at least half of the loss in onnxruntime."""
    out, summary = quantize(tmp_path, FUNCTIONAL, "cle", "--weight-bits", "4", "--cross-layer-equalization")
    plain, _ = quantize(tmp_path, FUNCTIONAL, "plain", "--weight-bits", "4")
    equalized = {layer["node"] for layer in summary["layers"] if layer.get("cle_max_scale") is not None}
    assert equalized == {"dw_conv", "pw_conv"}
    m = onnx.load(str(out))
    values, inits = dequantized(m)
    producers = {o: n for n in m.graph.node for o in n.output}
    convs = {n.name: n for n in m.graph.node if n.op_type == "Conv"}
    dw, pw = values[convs["dw_conv"].input[1]], values[convs["pw_conv"].input[1]]
    pw_step = inits[producers[convs["pw_conv"].input[1]].input[1]].astype(np.float64).max()
    r_dw = np.abs(dw).reshape(dw.shape[0], -1).max(axis=1)
    r_pw = np.abs(pw).transpose(1, 0, 2, 3).reshape(pw.shape[1], -1).max(axis=1)
    assert np.all(np.abs(r_dw - r_pw) <= 0.5 * pw_step + 1e-6), (r_dw, r_pw)
    x, y = data(TEST)
    floating = accuracy(export(tmp_path, FUNCTIONAL), x, y)
    a_plain, a_cle = accuracy(plain, x, y), accuracy(out, x, y)
    assert floating - a_plain >= 0.03, (floating, a_plain)
    assert a_cle - a_plain >= 0.5 * (floating - a_plain), (floating, a_plain, a_cle)
