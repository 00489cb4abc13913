"""`modelpress quantize --precision fp16 | fp16-weights` (issue 15) checked in onnxruntime, in
ONNX's reference evaluator (float16 arithmetic as the standard defines it) and side by side
with onnxconverter-common's `convert_float_to_float16(keep_io_types=True)` on the same float
files: accuracy, size, drift, where the Casts go, weights and activations beyond float16's
range, reading the files back, and bad input."""

from __future__ import annotations

import json
import warnings

import h5py
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from conftest import FIXTURES, read_predictions, run_modelpress, write_dataset
from ort_helpers import run_ort

# Every trained fixture: (model, test set, calibration set).
DIGITS = (FIXTURES / "data" / "digits_test.h5", FIXTURES / "data" / "digits_train.h5")
ROWS = (FIXTURES / "data" / "digits_rows_test.h5", FIXTURES / "data" / "digits_train.h5")
TRAINED = {
    "keras3/mlp": DIGITS, "keras3/cnn": DIGITS, "keras3/functional": DIGITS, "keras2/cnn": DIGITS,
    "keras3/digits_lstm": ROWS, "keras3/digits_gru": ROWS, "keras3/digits_transformer": ROWS,
}
# Models whose weights are ≥ 95 % of the float file: the file itself halves (≤ 0.52×). In the
# others the graph (node names, shapes) is a larger share, which float16 does not shrink.
WEIGHT_DOMINATED = {"keras3/mlp", "keras3/cnn", "keras2/cnn"}
WIDE = "keras3/digits_wide_range"


def dataset(path):
    with h5py.File(path, "r") as f:
        return f["x"][()].astype(np.float32), f["y"][()]


def onnxconverter_fp16(float_path, out):
    from onnxconverter_common import float16

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # it warns about every constant it clamps
        onnx.save(float16.convert_float_to_float16(onnx.load(float_path), keep_io_types=True), out)
    return out


def weight_bytes(path, dtype):
    return sum(len(t.raw_data) or t.ByteSize() for t in onnx.load(path).graph.initializer if t.data_type == dtype)


class Files:
    """Float export, our float16 file (with its --json summary) and onnxconverter-common's, once per model."""

    def __init__(self, directory):
        self.directory = directory
        self.cache = {}

    def get(self, model, *options):
        key = (model, options)
        if key not in self.cache:
            stem = model.replace("/", "-")
            source = FIXTURES / "models" / f"{model}.h5"
            float_path = self.directory / f"{stem}-float.onnx"
            if not float_path.exists():
                run_modelpress("export", source, "-o", float_path, "--opset", "17")
            out = self.directory / f"{stem}{''.join(o.strip('-') for o in options)}-fp16.onnx"
            calibration = (TRAINED.get(model) or DIGITS)[1]
            r = run_modelpress("quantize", source, "-o", out, "--precision", "fp16", "--opset", "17",
                               "--calibration", calibration, "--json", *options)
            theirs = self.directory / f"{stem}-onnxconverter.onnx"
            if not theirs.exists():
                onnxconverter_fp16(float_path, theirs)
            self.cache[key] = (float_path, out, theirs, json.loads(r.stdout))
        return self.cache[key]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return Files(tmp_path_factory.mktemp("fp16"))


@pytest.mark.parametrize("model", sorted(TRAINED))
def test_fp16_accuracy_size_and_drift_side_by_side_with_onnxconverter(files, model):
    float_path, ours, theirs, summary = files.get(model)
    onnx.checker.check_model(onnx.load(ours), full_check=True)
    x, y = dataset(TRAINED[model][0])
    reference = run_ort(float_path, x)
    half = run_ort(ours, x)
    other = run_ort(theirs, x)
    accuracy = {name: float(np.mean(np.argmax(p, 1) == y)) for name, p in (("float", reference), ("ours", half), ("theirs", other))}
    assert accuracy["ours"] >= accuracy["float"] - 0.001, accuracy
    assert accuracy["ours"] >= accuracy["theirs"], accuracy
    assert np.isfinite(half).all()
    assert np.abs(half - reference).max() < 5e-3
    # Every float32 weight byte became a float16 byte (the int64 shape constants stay).
    assert weight_bytes(ours, TensorProto.FLOAT) == 0
    assert weight_bytes(ours, TensorProto.FLOAT16) * 2 == weight_bytes(float_path, TensorProto.FLOAT)
    ratio = ours.stat().st_size / float_path.stat().st_size
    assert ratio <= theirs.stat().st_size / float_path.stat().st_size
    if model in WEIGHT_DOMINATED:
        assert ratio <= 0.52
    # The reported drift is the engine's on the calibration data; onnxruntime's is within 2e-3 of it.
    calibration, _ = dataset(TRAINED[model][1])
    if calibration.shape[1:] != x.shape[1:]:
        calibration = calibration.reshape((-1,) + x.shape[1:])
    measured = float(np.abs(run_ort(ours, calibration) - run_ort(float_path, calibration)).max())
    assert abs(summary["drift"]["max_abs_diff"] - measured) < 2e-3, (summary["drift"], measured)
    assert summary["agreement"] >= 0.99 and summary["float32_layers"] == []
    assert summary["bytes"] == ours.stat().st_size and summary["float_bytes"] == float_path.stat().st_size


@pytest.mark.parametrize("model", sorted(TRAINED))
def test_engine_runs_fp16_files_with_fp16_rounding(files, model, tmp_path):
    """`predict` on the float16 file matches onnxruntime on it: eval and verify judge what ships."""
    _, ours, _, _ = files.get(model)
    test = TRAINED[model][0]
    run_modelpress("predict", ours, "--data", test, "--out", tmp_path / "p.h5")
    x, _ = dataset(test)
    assert np.abs(read_predictions(tmp_path / "p.h5") - run_ort(ours, x)).max() < 3e-3


def test_casts_are_placed_once(files):
    """Inputs and outputs float32: one Cast after the input and one before the output; at opset
    13 the Transformer's LayerNormalizations stay float32 (decomposed, their squares overflow),
    and each value crossing gets one Cast shared by its readers."""
    _, ours, _, _ = files.get("keras3/cnn")
    casts = [n for n in onnx.load(ours).graph.node if n.op_type == "Cast"]
    assert len(casts) == 2
    _, at13, _, summary = files.get("keras3/digits_transformer", "--opset", "13")
    nodes = onnx.load(at13).graph.node
    casts = [(n.input[0], n.attribute[0].i) for n in nodes if n.op_type == "Cast"]
    assert len(casts) == len(set(casts))
    norms = [layer for layer in summary["layers"] if layer["op"] == "LayerNormalization"]
    assert norms and all(layer["precision"] == "fp32" and "opset 17" in layer["reason"] for layer in norms)
    x, y = dataset(ROWS[0])
    assert np.mean(np.argmax(run_ort(at13, x), 1) == y) >= 0.963


def test_activations_beyond_fp16_stay_float32_where_onnxconverter_overflows(files):
    """digits_wide_range squares its Dense outputs (up to ~4.8e5 on the training data) before a
    LayerNormalization: float32 layers where the calibration data leaves float16's range."""
    float_path, ours, theirs, summary = files.get(WIDE)
    kept = {layer["node"]: layer["reason"] for layer in summary["layers"] if layer["precision"] == "fp32"}
    assert set(kept) == {"square", "norm"} and all("calibration data" in r for r in kept.values())
    x, y = dataset(DIGITS[0])
    expected = h5py.File(FIXTURES / "expected" / "keras3" / "digits_wide_range.h5", "r")["y_pred"][()]
    for run in (lambda p: run_ort(p, x), lambda p: ReferenceEvaluator(str(p)).run(None, {"input": x})[0]):
        half = run(ours)
        assert np.isfinite(half).all() and np.abs(half - expected).max() < 5e-3
        assert np.mean(np.argmax(half, 1) == y) == np.mean(np.argmax(expected, 1) == y)
    # onnxconverter-common computes the squares in float16: infinities, then NaN after the
    # normalization, in the standard's float16 arithmetic (onnxruntime's CPU provider happens
    # to run these ops in float32).
    assert not np.isfinite(ReferenceEvaluator(str(theirs)).run(None, {"input": x})[0]).all()


def test_engine_judges_onnxconverter_overflow_like_the_standard(files, tmp_path):
    """ModelPress's engine computes a float16 file's values in float16 too, so `verify` catches it."""
    _, _, theirs, _ = files.get(WIDE)
    run_modelpress("predict", theirs, "--data", DIGITS[0], "--out", tmp_path / "p.h5")
    assert np.isnan(read_predictions(tmp_path / "p.h5")).all(axis=1).mean() > 0.9


def hand_made(tmp_path, scale):
    """y = (x · s) · (1 / s) with s = `scale` everywhere: identity in float32."""
    s = numpy_helper.from_array(np.full((4,), scale, np.float32), "s")
    inv = numpy_helper.from_array(np.full((4,), 1 / scale, np.float32), "inv")
    graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "s"], ["big"], name="up"), helper.make_node("Mul", ["big", "inv"], ["y"], name="down")],
        "wide", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])], [s, inv])
    path = tmp_path / "wide-weights.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    return path


def test_weights_beyond_fp16_stay_float32_where_onnxconverter_clamps(tmp_path):
    source = hand_made(tmp_path, 1e5)
    out = tmp_path / "ours.onnx"
    r = run_modelpress("quantize", source, "-o", out, "--precision", "fp16", "--json")
    layers = {layer["node"]: layer for layer in json.loads(r.stdout)["layers"]}
    assert layers["up"]["precision"] == "fp32" and "beyond float16" in layers["up"]["reason"]
    assert layers["down"]["precision"] == "fp16"
    x = np.linspace(0.5, 2, 8, dtype=np.float32).reshape(2, 4)
    # 1e-5 is a float16 subnormal (3 significant bits fewer): within 0.2 % of x.
    assert np.abs(run_ort(out, x) / x - 1).max() < 2e-3
    theirs = onnxconverter_fp16(source, tmp_path / "theirs.onnx")
    assert np.abs(run_ort(theirs, x) - x).max() > 0.5  # 1e5 clamped to 1e4: a tenth of x


def test_weights_only_form(files, tmp_path):
    """fp16-weights: every float16 weight is read by one Cast to float32; nothing computes in float16."""
    source = FIXTURES / "models" / "keras3" / "digits_transformer.h5"
    float_path, _, _, _ = files.get("keras3/digits_transformer")
    out = tmp_path / "weights.onnx"
    run_modelpress("quantize", source, "-o", out, "--precision", "fp16-weights", "--opset", "17")
    model = onnx.load(out)
    halves = {t.name for t in model.graph.initializer if t.data_type == TensorProto.FLOAT16}
    readers = [n for n in model.graph.node for i in n.input if i in halves]
    assert halves and len(readers) == len(halves) and all(n.op_type == "Cast" for n in readers)
    assert all(a.i == TensorProto.FLOAT for n in readers for a in n.attribute)
    x, _ = dataset(ROWS[0])
    assert np.abs(run_ort(out, x) - run_ort(float_path, x)).max() < 3e-3
    assert out.stat().st_size < 0.65 * float_path.stat().st_size


def test_float16_inputs_and_outputs(tmp_path):
    source = FIXTURES / "models" / "keras3" / "cnn.h5"
    out = tmp_path / "io.onnx"
    run_modelpress("quantize", source, "-o", out, "--precision", "fp16", "--no-keep-io-types")
    graph = onnx.load(out).graph
    assert [v.type.tensor_type.elem_type for v in list(graph.input) + list(graph.output)] == [TensorProto.FLOAT16] * 2
    assert not [n for n in graph.node if n.op_type == "Cast"]
    x, y = dataset(DIGITS[0])
    import onnxruntime as ort

    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    p = session.run(None, {session.get_inputs()[0].name: x.astype(np.float16)})[0]
    assert p.dtype == np.float16 and np.mean(np.argmax(p, 1) == y) >= 0.966


@pytest.mark.parametrize("options", [(), ("--precision", "fp16-weights"), ("--no-keep-io-types",)])
def test_reading_back_and_writing_again_gives_the_same_bytes(tmp_path, options):
    source = FIXTURES / "models" / "keras3" / "digits_lstm.h5"
    first, again, second = tmp_path / "a.onnx", tmp_path / "b.onnx", tmp_path / "c.onnx"
    precision = () if "--precision" in options else ("--precision", "fp16")
    run_modelpress("quantize", source, "-o", first, *precision, *options)
    run_modelpress("quantize", source, "-o", second, *precision, *options)
    run_modelpress("export", first, "-o", again)
    assert first.read_bytes() == second.read_bytes() == again.read_bytes()


@pytest.mark.parametrize("options, message", [
    (("--dynamic",), "--precision fp16 writes float16"),
    (("--bits", "16"), "--precision fp16 writes float16"),
    (("--format", "qoperator"), "--precision fp16 writes float16"),
    (("--exclude", "nope"), "--exclude nope: the model has no such layer"),
])
def test_bad_options_exit_2(tmp_path, options, message):
    r = run_modelpress("quantize", FIXTURES / "models" / "keras3" / "cnn.h5", "-o", tmp_path / "x.onnx", "--precision", "fp16",
                       *options, expect=2)
    assert message in r.stderr
    assert not (tmp_path / "x.onnx").exists()


def test_float16_file_is_not_converted_again(files, tmp_path):
    _, ours, _, _ = files.get("keras3/mlp")
    r = run_modelpress("quantize", ours, "-o", tmp_path / "x.onnx", "--precision", "fp16", expect=2)
    assert "already quantized or in float16" in r.stderr
    r = run_modelpress("quantize", ours, "-o", tmp_path / "x.onnx", "--calibration", DIGITS[1], expect=2)
    assert "float16" in r.stderr


def test_fp16_pipeline_passes_its_gate_and_ships_the_float16_file(tmp_path):
    """pipelines/digits-transformer-fp16.yaml: `precision: fp16` as a pipeline key; the shipped
    file is the stage's float16 file, and onnxruntime on it gives the accuracy the report says."""
    from conftest import ROOT

    run_modelpress("run", ROOT / "pipelines" / "digits-transformer-fp16.yaml", "--out", tmp_path)
    report = json.loads((tmp_path / "digits-transformer-fp16" / "report.json").read_text())
    assert report["passed"]
    final = onnx.load(report["final"]["path"])
    assert {t.data_type for t in final.graph.initializer if t.dims and len(t.dims) > 1} == {TensorProto.FLOAT16}
    assert report["final"]["weight_bytes"] * 2 == report["original"]["weight_bytes"]
    x, y = dataset(ROWS[0])
    accuracy = float(np.mean(np.argmax(run_ort(final.SerializeToString(), x), 1) == y))
    assert accuracy == pytest.approx(report["verifications"][-1]["candidate_accuracy"], abs=1 / 360 + 1e-9)
