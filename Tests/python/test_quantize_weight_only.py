"""`modelpress quantize --precision int4-weights | int8-weights` (issue 15): block-wise
weight-only quantization checked in onnxruntime, against numpy's decoding of the packed int4
file, and side by side with onnxruntime's `MatMulNBitsQuantizer` (block 32) on the same float
file: accuracy, weight bytes, float16 and float32 block scales, the MatMulNBits form, blocks
that do not divide K, Embedding tables, reading files back, and bad input."""

from __future__ import annotations

import json
import logging

import h5py
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import FIXTURES, read_predictions, run_modelpress

DIGITS = FIXTURES / "data" / "digits_test.h5"
ROWS = FIXTURES / "data" / "digits_rows_test.h5"
CALIBRATION = FIXTURES / "data" / "digits_train.h5"
MODELS = {"keras3/mlp": DIGITS, "keras3/digits_transformer": ROWS, "keras3/digits_lstm": ROWS}


def dataset(path):
    with h5py.File(path, "r") as f:
        return f["x"][()].astype(np.float32), f["y"][()]


def run(path, x):
    """onnxruntime without graph optimizations: it would fuse DequantizeLinear → MatMul into its
    own MatMulNBits kernel, which computes with int8 activations at some accuracy levels."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    feed = session.get_inputs()[0]
    return session.run(None, {feed.name: x.astype(np.int64 if "int64" in feed.type else np.int32 if "int32" in feed.type else np.float32)})[0]


def gemm_as_matmul(model):
    """Gemm (transB 0, alpha = beta = 1) rewritten as MatMul + Add, the same function:
    onnxruntime's MatMulNBitsQuantizer quantizes MatMul nodes only."""
    nodes = []
    for n in model.graph.node:
        if n.op_type == "Gemm":
            assert all((a.i == 0) if a.name.startswith("trans") else (a.f == 1) for a in n.attribute)
            nodes += [helper.make_node("MatMul", list(n.input[:2]), [n.output[0] + "/mm"], name=n.name + "/mm"),
                      helper.make_node("Add", [n.output[0] + "/mm", n.input[2]], [n.output[0]], name=n.name)]
        else:
            nodes.append(n)
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    return model


def onnxruntime_4bit(float_path, out, symmetric):
    from onnxruntime.quantization import QuantFormat
    from onnxruntime.quantization.matmul_nbits_quantizer import DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer

    logging.getLogger("onnxruntime.quantization").setLevel(logging.WARNING)
    config = DefaultWeightOnlyQuantConfig(block_size=32, is_symmetric=symmetric, quant_format=QuantFormat.QOperator)
    quantizer = MatMulNBitsQuantizer(gemm_as_matmul(onnx.load(float_path)), algo_config=config)
    quantizer.process()
    quantizer.model.save_model_to_file(str(out))
    return out


def matrix_bytes(path, names=None):
    """Bytes of the initializers of at least 2 dimensions (kernels and their integer codes,
    block scales), the ones weight-only quantization changes."""
    return sum(t.ByteSize() - len(t.name) for t in onnx.load(path).graph.initializer if len(t.dims) >= 2 or t.data_type == TensorProto.UINT8)


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("weight-only")


@pytest.mark.parametrize("model", sorted(MODELS))
def test_int4_accuracy_and_bytes_side_by_side_with_onnxruntime(work, model):
    stem = model.replace("/", "-")
    source = FIXTURES / "models" / f"{model}.h5"
    float_path, ours = work / f"{stem}.onnx", work / f"{stem}-int4.onnx"
    run_modelpress("export", source, "-o", float_path, "--opset", "21")
    r = run_modelpress("quantize", source, "-o", ours, "--precision", "int4-weights", "--calibration", CALIBRATION, "--json")
    summary = json.loads(r.stdout)
    onnx.checker.check_model(onnx.load(ours), full_check=True)
    x, y = dataset(MODELS[model])
    accuracy = lambda p: float(np.mean(np.argmax(p, 1) == y))  # noqa: E731
    reference, half = accuracy(run(float_path, x)), accuracy(run(ours, x))
    assert half >= reference - 0.01
    for symmetric in (True, False):
        theirs = onnxruntime_4bit(float_path, work / f"{stem}-ort-{symmetric}.onnx", symmetric)
        assert half >= accuracy(run(theirs, x)), (half, symmetric)
    # Every Dense kernel is int4 in blocks of 32 along K with one float16 scale per block
    # (4.5 bits per weight), read through DequantizeLinear → Cast.
    kernels = {layer["weight"]: layer for layer in summary["layers"]}
    assert kernels and all(layer["type"] == "int4" and layer["block_size"] == 32 and layer["scale_type"] == "float16" for layer in kernels.values())
    quantized = sum(layer["bytes"] for layer in kernels.values()) / sum(layer["float_bytes"] for layer in kernels.values())
    assert quantized <= 0.141
    graph = onnx.load(ours).graph
    init = {t.name: t for t in graph.initializer}
    for weight in kernels:
        cast = next(n for n in graph.node if n.output[0] == weight)
        dq = next(n for n in graph.node if n.output[0] == cast.input[0])
        assert (cast.op_type, dq.op_type) == ("Cast", "DequantizeLinear") and init[dq.input[1]].data_type == TensorProto.FLOAT16
    if model == "keras3/mlp":  # weight-dominated: biases are 1.2 % of its weights
        assert summary["weight_bytes"] / summary["float_weight_bytes"] <= 0.16
    # ModelPress's engine runs the file as onnxruntime does (same dequantized weights).
    run_modelpress("predict", ours, "--data", MODELS[model], "-o", work / f"{stem}-pred.h5")
    assert np.abs(read_predictions(work / f"{stem}-pred.h5") - run(ours, x)).max() < 1e-5


def test_packed_int4_decodes_to_what_onnxruntime_computes(work):
    """numpy unpacks the int4 codes (two per byte, low nibble first) and applies the block
    scales; a MatMul with those weights gives onnxruntime's output."""
    source = FIXTURES / "models" / "keras3" / "mlp.h5"
    out = work / "mlp-asym.onnx"
    run_modelpress("quantize", source, "-o", out, "--precision", "int4-weights", "--weight-scheme", "asymmetric")
    model = onnx.load(out)
    init = {t.name: t for t in model.graph.initializer}
    cast = next(n for n in model.graph.node if n.output[0] == "dense_1/kernel")
    dq = next(n for n in model.graph.node if n.op_type == "DequantizeLinear" and n.output[0] == cast.input[0])
    codes = init[dq.input[0]]
    assert codes.data_type == TensorProto.UINT4
    raw = np.frombuffer(codes.raw_data, np.uint8)
    k, m = codes.dims
    q = np.stack([raw & 0x0F, raw >> 4], axis=1).reshape(-1)[: k * m].reshape(k, m).astype(np.float32)
    zero = np.stack([np.frombuffer(init[dq.input[2]].raw_data, np.uint8) & 0x0F, np.frombuffer(init[dq.input[2]].raw_data, np.uint8) >> 4], 1)
    zero = zero.reshape(-1)[: k // 32 * m].reshape(k // 32, m).astype(np.float32)
    scale = numpy_helper.to_array(init[dq.input[1]])
    assert {a.name: a.i for a in dq.attribute} == {"axis": 0, "block_size": 32} and scale.shape == (k // 32, m) and scale.dtype == np.float16
    # float16 scale: DequantizeLinear writes float16, the Cast float32.
    w = ((q - np.repeat(zero, 32, axis=0)) * np.repeat(scale.astype(np.float32), 32, axis=0)).astype(np.float16).astype(np.float32)
    x, _ = dataset(DIGITS)
    h = x.reshape(len(x), -1) @ w + numpy_helper.to_array(init["dense_1/bias"])
    probe = helper.make_model(onnx.load(out).graph, opset_imports=model.opset_import)
    probe.graph.output.append(helper.make_tensor_value_info("dense_1/linear", TensorProto.FLOAT, None))
    got = None
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(probe.SerializeToString(), options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    got = session.run(None, {session.get_inputs()[0].name: x})[names.index("dense_1/linear")]
    assert np.abs(got - h).max() < 1e-4


@pytest.mark.parametrize("precision, scheme", [("int4-weights", "symmetric"), ("int4-weights", "asymmetric"), ("int8-weights", "symmetric"), ("int8-weights", "asymmetric")])
def test_matmulnbits_form_computes_the_same_and_reads_back_to_the_standard_file(work, precision, scheme):
    source = FIXTURES / "models" / "keras3" / "digits_transformer.h5"
    standard, contrib, again = work / f"std-{precision}-{scheme}.onnx", work / f"nbits-{precision}-{scheme}.onnx", work / f"again-{precision}-{scheme}.onnx"
    options = ("--precision", precision, "--weight-scheme", scheme)
    # MatMulNBits takes float32 scales (its input's type): the standard file with the same scales.
    run_modelpress("quantize", source, "-o", standard, *options, "--scale-type", "float32")
    run_modelpress("quantize", source, "-o", contrib, *options, "--allow-contrib-ops")
    model = onnx.load(contrib)
    nbits = [n for n in model.graph.node if n.op_type == "MatMulNBits"]
    assert nbits and all(n.domain == "com.microsoft" for n in nbits)
    assert not [n for n in model.graph.node if n.op_type == "DequantizeLinear"]
    x, _ = dataset(ROWS)
    assert np.abs(run(contrib, x) - run(standard, x)).max() == 0
    assert contrib.stat().st_size < standard.stat().st_size
    # Read back, the MatMulNBits file is the same model: `export` writes the standard form, byte for byte.
    run_modelpress("export", contrib, "-o", again, "--opset", "21")
    assert again.read_bytes() == standard.read_bytes()


def test_block_size_not_dividing_k_makes_a_shorter_last_block(tmp_path):
    """Decision: the last block along K is shorter (ONNX's rule for blocked DequantizeLinear,
    and MatMulNBits pads it), not refused. K = 40 with blocks of 32."""
    rng = np.random.default_rng(5)
    w = numpy_helper.from_array(rng.normal(size=(40, 6)).astype(np.float32), "w")
    b = numpy_helper.from_array(rng.normal(size=(6,)).astype(np.float32), "b")
    graph = helper.make_graph([helper.make_node("Gemm", ["x", "w", "b"], ["y"], name="dense")], "k40",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 40])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 6])], [w, b])
    source = tmp_path / "k40.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), source)
    x = rng.normal(size=(16, 40)).astype(np.float32)
    expected = x @ numpy_helper.to_array(w) + numpy_helper.to_array(b)
    for i, extra in enumerate(((), ("--scale-type", "float32"), ("--allow-contrib-ops",))):
        out = tmp_path / f"q{i}.onnx"
        r = run_modelpress("quantize", source, "-o", out, "--precision", "int4-weights", "--json", *extra)
        scale_bytes = 2 if i == 0 else 4  # float16 scales by default, float32 for MatMulNBits
        assert json.loads(r.stdout)["layers"][0]["bytes"] == 120 + scale_bytes * 12  # 240 codes, 2 blocks × 6 scales
        got = run(out, x)
        assert np.abs(got - expected).max() / np.abs(expected).max() < 0.1
        assert i < 2 or np.abs(got - run(tmp_path / "q1.onnx", x)).max() < 1e-5


def test_embedding_tables_are_blocked_along_their_width(tmp_path):
    source = FIXTURES / "models" / "keras3" / "transformer.keras"
    out = tmp_path / "tokens.onnx"
    r = run_modelpress("quantize", source, "-o", out, "--precision", "int4-weights", "--json")
    layers = {layer["op"]: layer for layer in json.loads(r.stdout)["layers"]}
    assert layers["Embedding"]["axis"] == 1
    nodes = onnx.load(out).graph.node
    gather = next(n for n in nodes if n.op_type == "Gather")
    cast = next(n for n in nodes if n.output[0] == gather.input[0])
    dq = next(n for n in nodes if n.output[0] == cast.input[0])
    assert dq.op_type == "DequantizeLinear" and {a.name: a.i for a in dq.attribute}["axis"] == 1
    with h5py.File(FIXTURES / "data" / "token_inputs.h5", "r") as f:
        ids = f["x"][()]
    run_modelpress("predict", out, "--data", FIXTURES / "data" / "token_inputs.h5", "-o", tmp_path / "p.h5")
    assert np.abs(read_predictions(tmp_path / "p.h5") - run(out, ids)).max() < 1e-5


@pytest.mark.parametrize("options, message", [
    (("--opset", "17"), "layer 'embed' (Embedding weight 'embed/embeddings'): int4 in blocks of 32 is written as DequantizeLinear, which takes blocks and 4-bit types from opset 21"),
    (("--block-size", "48"), "--block-size must be 16, 32, 64, 128 or 256"),
    (("--dynamic",), "writes weight-only blocks"),
    (("--allow-contrib-ops", "--opset", "17"), "layer 'embed' (Embedding weight 'embed/embeddings')"),
])
def test_bad_options_exit_2(tmp_path, options, message):
    r = run_modelpress("quantize", FIXTURES / "models" / "keras3" / "transformer.keras", "-o", tmp_path / "x.onnx",
                       "--precision", "int4-weights", *options, expect=2)
    assert message in r.stderr
    assert not (tmp_path / "x.onnx").exists()


def test_contrib_ops_only_with_weight_only(tmp_path):
    r = run_modelpress("quantize", FIXTURES / "models" / "keras3" / "mlp.h5", "-o", tmp_path / "x.onnx", "--precision", "fp16",
                       "--allow-contrib-ops", expect=2)
    assert "--allow-contrib-ops, --activation-aware and --scale-type are for --precision int4-weights" in r.stderr
    r = run_modelpress("quantize", FIXTURES / "models" / "keras3" / "mlp.h5", "-o", tmp_path / "x.onnx", "--precision", "int4-weights",
                       "--allow-contrib-ops", "--scale-type", "float16", expect=2)
    assert "MatMulNBits takes float32 scales" in r.stderr and not (tmp_path / "x.onnx").exists()


@pytest.mark.parametrize("model, scheme", [("keras3/mlp", "symmetric"), ("keras3/digits_transformer", "symmetric"), ("keras3/digits_transformer", "asymmetric")])
def test_float16_scales_cost_a_few_tenths_of_a_db_and_read_back_byte_for_byte(work, model, scheme):
    """Float16 block scales against float32 ones on the same weights: output SQNR against the
    float file within 0.5 dB (the scale's 2⁻¹¹ rounding is far below int4's step), weights
    smaller by 2 bytes per block (the file too where weights dominate it: the Cast per weight
    costs about a hundred bytes), and `export` of the float16-scale file writes it again byte
    for byte (the DequantizeLinear → Cast pair reads back as one weight)."""
    source = FIXTURES / "models" / f"{model}.h5"
    stem = f"fs-{model.replace('/', '-')}-{scheme}"
    float_path = work / f"{stem}-float.onnx"
    run_modelpress("export", source, "-o", float_path, "--opset", "21")
    x, _ = dataset(MODELS[model])
    reference = run(float_path, x)
    sqnr, size = {}, {}
    for scale_type in ("float16", "float32"):
        out = work / f"{stem}-{scale_type}.onnx"
        r = run_modelpress("quantize", source, "-o", out, "--precision", "int4-weights", "--weight-scheme", scheme, "--scale-type", scale_type, "--json")
        blocks = sum(int(np.prod(t.dims)) for t in onnx.load(out).graph.initializer if t.name.endswith("/scale") and len(t.dims) == 2)
        size[scale_type] = (out.stat().st_size, blocks, json.loads(r.stdout)["weight_bytes"])
        p = run(out, x)
        sqnr[scale_type] = 10 * np.log10(np.sum(reference**2) / np.sum((p - reference) ** 2))
    assert abs(sqnr["float16"] - sqnr["float32"]) < 0.5, sqnr
    (half_bytes, blocks, half_weights), (float_bytes, _, float_weights) = size["float16"], size["float32"]
    assert float_weights - half_weights == 2 * blocks
    if model == "keras3/mlp":
        assert half_bytes < 0.95 * float_bytes
    again = work / f"{stem}-again.onnx"
    run_modelpress("export", work / f"{stem}-float16.onnx", "-o", again, "--opset", "21")
    assert again.read_bytes() == (work / f"{stem}-float16.onnx").read_bytes()


@pytest.mark.parametrize("model", ["keras3/digits_transformer", "keras3/digits_lstm"])
def test_activation_aware_scaling_lowers_the_output_error(work, model):
    """--activation-aware: each Dense input channel scaled by its calibrated mean |x|^α (α per
    layer), a Mul by 1/s before the layer; measured in onnxruntime against the float file."""
    stem = model.replace("/", "-")
    source = FIXTURES / "models" / f"{model}.h5"
    float_path = work / f"{stem}-aw-float.onnx"
    run_modelpress("export", source, "-o", float_path, "--opset", "21")
    x, y = dataset(ROWS)
    reference = run(float_path, x)
    errors = {}
    for extra in ((), ("--activation-aware",)):
        out = work / f"{stem}-aw{len(extra)}.onnx"
        r = run_modelpress("quantize", source, "-o", out, "--precision", "int4-weights", "--calibration", CALIBRATION, "--json", *extra)
        p = run(out, x)
        errors[bool(extra)] = float(np.mean((p - reference) ** 2))
        assert np.mean(np.argmax(p, 1) == y) >= np.mean(np.argmax(reference, 1) == y) - 0.01
        if extra:
            exponents = [layer["activation_exponent"] for layer in json.loads(r.stdout)["layers"]]
            scaled = [n for n in onnx.load(out).graph.node if n.op_type == "Mul" and n.name.endswith("/scaled_input")]
            assert len(scaled) == sum(e is not None for e in exponents) > 0
            run_modelpress("predict", out, "--data", ROWS, "-o", work / f"{stem}-aw.h5")
            assert np.abs(read_predictions(work / f"{stem}-aw.h5") - p).max() < 1e-5
    assert errors[True] < 0.8 * errors[False], errors


def test_int4_below_opset_21_names_the_dense_layer_and_contrib_ops_lift_it(tmp_path):
    source = FIXTURES / "models" / "keras3" / "mlp.h5"
    r = run_modelpress("quantize", source, "-o", tmp_path / "x.onnx", "--precision", "int4-weights", "--opset", "13", expect=2)
    assert "layer 'dense_1' (Linear weight 'dense_1/kernel')" in r.stderr and "--allow-contrib-ops" in r.stderr
    run_modelpress("quantize", source, "-o", tmp_path / "x.onnx", "--precision", "int4-weights", "--opset", "13", "--allow-contrib-ops")
    model = onnx.load(tmp_path / "x.onnx")
    assert [o.version for o in model.opset_import if o.domain == ""] == [13]
    x, _ = dataset(DIGITS)
    assert np.isfinite(run(tmp_path / "x.onnx", x)).all()


@pytest.mark.parametrize("model", ["keras3/mlp", "keras3/digits_transformer"])
@pytest.mark.parametrize("symmetric", [True, False])
def test_files_from_onnxruntimes_quantizer_read_back(work, model, symmetric):
    """MatMulNBits files written by onnxruntime's own MatMulNBitsQuantizer: its symmetric blocks
    store negative scales (max |w| / −8), read as the same weight with scale |s|, codes 15 − c
    and zero point 15 − 8. ModelPress's engine computes what onnxruntime computes on the file,
    and `export` writes a standard opset-21 file that onnxruntime runs with the same outputs."""
    stem = f"ortread-{model.replace('/', '-')}-{symmetric}"
    float_path = work / f"{stem}-float.onnx"
    run_modelpress("export", FIXTURES / "models" / f"{model}.h5", "-o", float_path, "--opset", "21")
    theirs = onnxruntime_4bit(float_path, work / f"{stem}.onnx", symmetric)
    scales = [numpy_helper.to_array(t) for t in onnx.load(theirs).graph.initializer if t.name.endswith("_scales")]
    assert scales and (any((s < 0).any() for s in scales) if symmetric else all((s > 0).all() for s in scales))
    x, _ = dataset(MODELS[model])
    expected = run(theirs, x)
    run_modelpress("predict", theirs, "--data", MODELS[model], "-o", work / f"{stem}-pred.h5")
    assert np.abs(read_predictions(work / f"{stem}-pred.h5") - expected).max() < 1e-5
    standard = work / f"{stem}-standard.onnx"
    run_modelpress("export", theirs, "-o", standard, "--opset", "21")
    assert not [n for n in onnx.load(standard).graph.node if n.domain == "com.microsoft"]
    assert np.abs(run(standard, x) - expected).max() < 1e-5
