"""`modelpress quantize --scheme pow2`, `--bits 16` and `--dynamic`, checked in the real onnx
checker and onnxruntime on the digits fixtures: power-of-two scales in the file, accuracy and
agreement against the float export, the integer engine on pow2 files, and bad input (exit 2)."""

from __future__ import annotations

import json

import h5py
import numpy as np
import onnx
import pytest
from onnx import TensorProto, numpy_helper

from conftest import FIXTURES, run_modelpress
from ort_helpers import integer_engine_logit_steps, run_ort

TRAIN = FIXTURES / "data" / "digits_train.h5"
TEST = FIXTURES / "data" / "digits_test.h5"
MODELS = [f"{k}/{m}" for k in ("keras3", "keras2") for m in ("mlp", "cnn", "functional")]


def digits_test():
    with h5py.File(TEST, "r") as f:
        return f["x"][()].astype(np.float32), f["y"][()]


class Files:
    """Float export and quantized variants of each fixture model, made once per session."""

    def __init__(self, directory):
        self.directory = directory
        self.cache = {}

    def float(self, model: str):
        path = self.directory / f"{model.replace('/', '-')}-float.onnx"
        if not path.exists():
            run_modelpress("export", FIXTURES / "models" / f"{model}.h5", "-o", path)
        return path

    def get(self, model: str, *options: str):
        key = (model, options)
        if key not in self.cache:
            out = self.directory / (model.replace("/", "-") + "".join(o.strip("-") for o in options) + ".onnx")
            calibration = () if "--dynamic" in options else ("--calibration", TRAIN)
            run_modelpress("quantize", FIXTURES / "models" / f"{model}.h5", "-o", out, *calibration, "-q", *options)
            self.cache[key] = out
        return self.cache[key]


@pytest.fixture(scope="session")
def files(tmp_path_factory):
    return Files(tmp_path_factory.mktemp("schemes"))


def accuracy_and_agreement(float_path, q):
    x, y = digits_test()
    reference, quantized = run_ort(float_path, x).argmax(1), run_ort(q, x).argmax(1)
    return (reference == y).mean(), (quantized == y).mean(), (reference == quantized).mean()


def qdq_scales(model: onnx.ModelProto) -> dict[str, np.ndarray]:
    """Every scale input of a QuantizeLinear / DequantizeLinear, by initializer name."""
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    return {n.input[1]: inits[n.input[1]] for n in model.graph.node
            if n.op_type in ("QuantizeLinear", "DequantizeLinear") and n.input[1] in inits}


def is_power_of_two(values: np.ndarray) -> bool:
    mantissa, _ = np.frexp(values.astype(np.float64))
    return bool(np.all(mantissa == 0.5))


@pytest.mark.parametrize("activations", ["uint8", "int8"])
@pytest.mark.parametrize("model", MODELS)
def test_pow2_scales_and_accuracy(files, model, activations):
    """Every scale in the file (weights, int32 biases, activations) is an exact power of two;
    accuracy within 0.5 points of float and ≥ 98% top-1 agreement in onnxruntime."""
    q = files.get(model, "--scheme", "pow2", "--activations", activations)
    m = onnx.load(q)
    onnx.checker.check_model(m, full_check=True)
    scales = qdq_scales(m)
    assert len(scales) >= 8
    bad = {k: v for k, v in scales.items() if not is_power_of_two(v)}
    assert not bad, f"not powers of two: {list(bad)[:5]}"
    float_acc, q_acc, agreement = accuracy_and_agreement(files.float(model), q)
    assert q_acc >= float_acc - 0.005, f"{model}: {q_acc:.4f} vs float {float_acc:.4f}"
    assert agreement >= 0.98, f"{model}: agreement {agreement:.4f}"


@pytest.mark.parametrize("model", ["keras3/cnn", "keras3/functional"])
def test_pow2_qoperator(files, model):
    """QOperator with pow2: every QLinearConv scale (x, w, y) is a power of two; accuracy as QDQ."""
    q = files.get(model, "--scheme", "pow2", "--format", "qoperator")
    m = onnx.load(q)
    onnx.checker.check_model(m, full_check=True)
    inits = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    convs = [n for n in m.graph.node if n.op_type == "QLinearConv"]
    assert convs
    for n in convs:
        for i in (1, 4, 6):
            assert is_power_of_two(inits[n.input[i]]), (n.name, i)
    float_acc, q_acc, agreement = accuracy_and_agreement(files.float(model), q)
    assert q_acc >= float_acc - 0.005 and agreement >= 0.98


def test_pow2_report(files, tmp_path):
    out = tmp_path / "cnn-pow2.onnx"
    result = json.loads(run_modelpress("quantize", FIXTURES / "models" / "keras3" / "cnn.h5", "-o", out, "--calibration", TRAIN,
                                       "--scheme", "pow2", "--json").stdout)
    assert result["scheme"] == "pow2" and result["bits"] == 8
    for layer in result["layers"]:
        assert layer["scheme"] == "pow2"
        for key in ("weight_scale_min", "weight_scale_max", "input_scale", "output_scale"):
            assert is_power_of_two(np.array([layer[key]])), (layer["node"], key, layer[key])


@pytest.mark.parametrize("model", ["keras3/mlp", "keras3/cnn", "keras3/functional"])
def test_integer_engine_on_pow2_matches_onnxruntime(files, tmp_path, model):
    """On a pow2 file every requantization is a shift; `predict --integer` gives onnxruntime's
    logit integers except off-by-one on < 1% (onnxruntime rounds exact ties to even, the
    shift rounds them up)."""
    q = files.get(model, "--scheme", "pow2")
    x, _ = digits_test()
    diff = integer_engine_logit_steps(q, x, TEST, tmp_path)
    assert diff.max() <= 1, f"{model}: largest difference {diff.max()} steps"
    assert (diff > 0).mean() < 0.01, f"{model}: {(diff > 0).mean():.2%} of logits differ"


@pytest.mark.parametrize("scheme", ["affine", "pow2"])
@pytest.mark.parametrize("model", MODELS)
def test_int16_matches_float_in_onnxruntime(files, model, scheme):
    """--bits 16: int16 weights, uint16 activations, int32 biases, opset 21 by default; top-1
    agreement with float ≥ 99.9% (all 360 test samples) in onnxruntime."""
    q = files.get(model, "--bits", "16", "--scheme", scheme)
    m = onnx.load(q)
    onnx.checker.check_model(m, full_check=True)
    assert m.opset_import[0].version == 21
    types = {t.data_type for t in m.graph.initializer}
    assert {TensorProto.INT16, TensorProto.UINT16, TensorProto.INT32} <= types, types
    assert TensorProto.INT8 not in types and TensorProto.UINT8 not in types
    float_acc, q_acc, agreement = accuracy_and_agreement(files.float(model), q)
    assert agreement >= 0.999, f"{model}: agreement {agreement:.4f}"
    assert abs(q_acc - float_acc) <= 1e-9
    if scheme == "pow2":
        assert is_power_of_two(np.concatenate([v.ravel() for v in qdq_scales(m).values()]))
    # ModelPress reads the int16 file back and evaluates it like onnxruntime.
    result = json.loads(run_modelpress("eval", q, "--data", TEST, "--json").stdout)
    assert abs(result["accuracy"] - q_acc) <= 1 / 360 + 1e-9


def test_int16_signed_activations(files):
    q = files.get("keras3/cnn", "--bits", "16", "--activations", "int16")
    types = {t.data_type for t in onnx.load(q).graph.initializer}
    assert TensorProto.INT16 in types and TensorProto.UINT16 not in types
    _, _, agreement = accuracy_and_agreement(files.float("keras3/cnn"), q)
    assert agreement >= 0.999


@pytest.mark.parametrize("model", MODELS)
def test_dynamic_in_onnxruntime(files, model):
    """--dynamic: no calibration; Dense runs DynamicQuantizeLinear → MatMulInteger, Conv
    DynamicQuantizeLinear → ConvInteger (int8 weights); accuracy
    loses at most 0.5 points against float in onnxruntime (keras2/functional gains 0.56) and the
    file is smaller than the float one."""
    q = files.get(model, "--dynamic")
    m = onnx.load(q)
    onnx.checker.check_model(m, full_check=True)
    ops = [n.op_type for n in m.graph.node]
    assert "DynamicQuantizeLinear" in ops and "MatMulInteger" in ops
    assert not {"QuantizeLinear", "DequantizeLinear", "Gemm", "MatMul", "Conv"} & set(ops), ops
    if "mlp" not in model:
        assert "ConvInteger" in ops
    float_path = files.float(model)
    float_acc, q_acc, agreement = accuracy_and_agreement(float_path, q)
    assert q_acc >= float_acc - 0.005 - 1e-9, f"{model}: {q_acc:.4f} vs float {float_acc:.4f}"
    assert agreement >= 0.98
    assert q.stat().st_size < float_path.stat().st_size


def test_dynamic_file_is_refused_on_import_with_a_hint(files, tmp_path):
    proc = run_modelpress("eval", files.get("keras3/mlp", "--dynamic"), "--data", TEST, expect=2)
    assert "dynamically quantized" in proc.stderr and "onnxruntime" in proc.stderr


def test_dynamic_accepts_and_ignores_calibration(files, tmp_path):
    """Pipelines pass --calibration to every quantize stage: --dynamic accepts it, says it is
    unused, and writes the same file as without it."""
    out = tmp_path / "with-calibration.onnx"
    proc = run_modelpress("quantize", FIXTURES / "models" / "keras3" / "mlp.h5", "-o", out, "--dynamic", "--calibration", TRAIN)
    assert "not used with --dynamic" in proc.stderr
    assert out.read_bytes() == files.get("keras3/mlp", "--dynamic").read_bytes()


def test_dynamic_json(tmp_path):
    out = tmp_path / "mlp-dyn.onnx"
    result = json.loads(run_modelpress("quantize", FIXTURES / "models" / "keras3" / "cnn.h5", "-o", out, "--dynamic", "--json").stdout)
    assert result["dynamic"] and result["format"] == "dynamic" and result["calibration_samples"] == 0
    kinds = {layer["node"]: layer["activation_type"] for layer in result["layers"]}
    assert set(kinds) == {"conv_1/conv", "conv_2/conv", "dense/linear", "predictions/linear"}
    assert set(kinds.values()) == {"uint8 (run time)"}


@pytest.mark.parametrize("args,message", [
    (("--calibration", TRAIN, "--bits", "16", "--opset", "13"), "opset 21"),
    (("--calibration", TRAIN, "--bits", "16", "--opset", "20"), "opset 21"),
    (("--calibration", TRAIN, "--bits", "16", "--format", "qoperator"), "qdq"),
    (("--calibration", TRAIN, "--bits", "12"), "--bits"),
    (("--calibration", TRAIN, "--scheme", "log2"), "--scheme"),
    (("--calibration", TRAIN, "--activations", "int16"), "--bits 16"),
    (("--dynamic", "--bits", "16"), "int8"),
    (("--dynamic", "--format", "qoperator"), "--format"),
    (("--dynamic", "--max-drop", "0.01", "--data", TEST), "--max-drop"),
    ((), "--calibration"),
])
def test_bad_options_exit_2(tmp_path, args, message):
    out = tmp_path / "never.onnx"
    proc = run_modelpress("quantize", FIXTURES / "models" / "keras3" / "mlp.h5", "-o", out, *args, expect=2)
    assert message in proc.stderr, proc.stderr
    assert not out.exists()


def test_integer_engine_refuses_int16(files, tmp_path):
    q = files.get("keras3/mlp", "--bits", "16")
    proc = run_modelpress("predict", q, "--data", TEST, "-o", tmp_path / "p.h5", "--integer", expect=2)
    assert "8-bit models only" in proc.stderr
