"""`modelpress export` checked in the real onnx checker and onnxruntime, for every fixture model,
both input layouts and opsets 13 and 21."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest

from conftest import (Case, fixture_cases, max_abs_diff, read_predictions, run_modelpress, sha256,
                      write_dataset, x_key_args)
from ort_helpers import run_ort

CASES = fixture_cases()
OPSETS = [13, 21]
LAYOUTS = ["nhwc", "nchw"]
IR_VERSION = {13: 7, 21: 10}
# Probabilities and activations: onnxruntime vs Keras.
TOLERANCE = dict(rtol=1e-5, atol=1e-5)


class Exports:
    """Exports each (case, opset, layout) once per session; None when the layout does not apply."""

    def __init__(self, directory):
        self.directory = directory
        self.cache = {}

    def get(self, case: Case, opset: int, layout: str):
        key = (case.id, opset, layout)
        if key not in self.cache:
            out = self.directory / f"{case.id.replace('/', '-')}-{opset}-{layout}.onnx"
            proc = run_modelpress("export", case.model, "-o", out, "--opset", str(opset), "--input-layout", layout,
                                  expect=None)
            if proc.returncode == 0:
                self.cache[key] = (out, proc)
            else:
                self.cache[key] = (None, proc)
        return self.cache[key]


@pytest.fixture(scope="session")
def exports(tmp_path_factory):
    return Exports(tmp_path_factory.mktemp("exports"))


def exported(exports, case, opset, layout):
    path, proc = exports.get(case, opset, layout)
    if path is None:
        # Only the channels-first layout may be refused, and only for models whose input is
        # not a channels-last image fed to a Transpose (or not an image: a sequence); the
        # refusal must say so.
        assert layout == "nchw" and proc.returncode == 2, proc.stderr
        assert "--input-layout nhwc" in proc.stderr, proc.stderr
        assert "without a runtime transpose" in proc.stderr or "no rank-4 (image) input" in proc.stderr, proc.stderr
        pytest.skip(f"{case.id}: --input-layout nchw refused (input is not a channels-last image): {proc.stderr.splitlines()[0]}")
    return path


def layout_inputs(case: Case, layout: str) -> np.ndarray:
    x = case.inputs()
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2)) if layout == "nchw" else x


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("opset", OPSETS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_export_is_valid_and_matches_keras(exports, case, opset, layout):
    path = exported(exports, case, opset, layout)
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    assert model.ir_version == IR_VERSION[opset]
    assert [(o.domain, o.version) for o in model.opset_import] == [("", opset)]
    assert all(n.domain == "" for n in model.graph.node), "only the default ai.onnx domain"
    y = run_ort(path, layout_inputs(case, layout))
    ref = case.y_pred()
    print(f"{case.id} opset {opset} {layout}: onnxruntime vs reference max |diff| = {max_abs_diff(y, ref):.3g}")
    np.testing.assert_allclose(y, ref, **TOLERANCE)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("opset", OPSETS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_reexport_is_byte_identical(exports, case, opset, layout, tmp_path):
    path = exported(exports, case, opset, layout)
    again = tmp_path / "again.onnx"
    run_modelpress("export", path, "-o", again, "--opset", str(opset))
    assert again.read_bytes() == path.read_bytes(), "export → import → export changed the bytes"


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_modelpress_predict_on_onnx_matches_onnxruntime(exports, case, layout, tmp_path):
    path = exported(exports, case, 13, layout)
    x = layout_inputs(case, layout)
    data = write_dataset(tmp_path / "x.h5", x)
    out = tmp_path / "pred.h5"
    run_modelpress("predict", path, "--data", data, *x_key_args(x), "-o", out, "-q")
    ours, theirs = read_predictions(out), run_ort(path, x)
    print(f"{case.id} {layout}: modelpress (re-imported ONNX) vs onnxruntime max |diff| = {max_abs_diff(ours, theirs):.3g}")
    np.testing.assert_allclose(ours, theirs, **TOLERANCE)


@pytest.mark.parametrize("case", [c for c in CASES if c.model.suffix != ".onnx"], ids=lambda c: c.id)
def test_metadata_names_and_shapes(exports, case):
    path = exported(exports, case, 13, "nhwc")
    model = onnx.load(str(path))
    props = {p.key: p.value for p in model.metadata_props}
    assert props["modelpress.source_sha256"] == sha256(case.model)
    assert json.loads(props["modelpress.compression"]) == {}
    assert model.producer_name == "modelpress" and model.producer_version
    g = model.graph
    for value in list(g.input) + list(g.output):
        dims = value.type.tensor_type.shape.dim
        assert dims[0].dim_param == "N" and all(d.dim_value > 0 for d in dims[1:]), value
    computed = {o for n in g.node for o in n.output}
    declared = {v.name for v in g.value_info} | {v.name for v in g.output}
    assert computed <= declared, f"no value_info for {sorted(computed - declared)[:5]}"
    assert all(t.data_type == onnx.TensorProto.FLOAT and t.raw_data for t in g.initializer
               if t.data_type == onnx.TensorProto.FLOAT)
    assert len({n.name for n in g.node}) == len(g.node), "node names are unique"


def test_export_is_deterministic(tmp_path):
    model = next(c for c in CASES if c.id == "keras3/functional").model
    a, b = tmp_path / "a.onnx", tmp_path / "b.onnx"
    run_modelpress("export", model, "-o", a)
    run_modelpress("export", model, "-o", b)
    assert a.read_bytes() == b.read_bytes()


def test_keras_layer_names_and_folding(exports):
    cnn = next(c for c in CASES if c.id == "keras3/cnn")
    g = onnx.load(str(exported(exports, cnn, 13, "nhwc"))).graph
    names = {n.name for n in g.node}
    assert {"conv_1", "conv_2", "dense", "predictions"} <= {n.split("/")[0] for n in names}
    # Only the input transpose is left: the channels-last flatten went into the Dense weights.
    assert [n.op_type for n in g.node].count("Transpose") == 1
    g = onnx.load(str(exported(exports, cnn, 13, "nchw"))).graph
    assert "Transpose" not in [n.op_type for n in g.node]
    assert [d.dim_value for d in g.input[0].type.tensor_type.shape.dim[1:]] == [1, 8, 8]
    functional = next(c for c in CASES if c.id == "keras3/functional")
    g = onnx.load(str(exported(exports, functional, 13, "nhwc"))).graph
    assert "BatchNormalization" not in [n.op_type for n in g.node], "BatchNorm should be folded into the convolutions"


def test_bad_options_are_usage_errors(tmp_path):
    model = next(c for c in CASES if c.id == "keras3/cnn").model
    out = tmp_path / "m.onnx"
    proc = run_modelpress("export", model, "-o", out, "--opset", "22", expect=2)
    assert "13 to 21" in proc.stderr
    proc = run_modelpress("export", model, "-o", out, "--input-layout", "nwhc", expect=2)
    assert "one of 'nhwc' and 'nchw'" in proc.stderr
    assert not out.exists()
