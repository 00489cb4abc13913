"""`modelpress prune --structure heads`: attention heads removed physically (issue 14). Each
pruned file runs in onnxruntime and equals the original with the removed heads' output-projection
rows zeroed (what removing a head means, computed on the original file); BERT's 4-head layers
pruned to 2 shrink by the parameters and MACs its sizes give."""

from __future__ import annotations

import json

import h5py
import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from conftest import FIXTURES, run_modelpress
from ort_helpers import run_ort

MODELS = [
    ("onnx/transformers/bert_opset17.onnx", "data/bert_ids.h5"),
    ("onnx/transformers/distilbert_opset17.onnx", "data/bert_ids.h5"),
    ("onnx/transformers/vit_opset17.onnx", None),
    ("models/keras3/transformer.keras", "data/token_inputs.h5"),
    ("models/keras2/transformer.h5", "data/token_inputs.h5"),
    ("models/keras3/masked_text.keras", "data/padded_tokens.h5"),
]


def inputs(model: str, data: str | None) -> np.ndarray:
    if data is None:  # the corpus records the data its file ran on
        expected = FIXTURES / "expected" / model.replace(".onnx", ".h5")
        with h5py.File(expected, "r") as f:
            data = str(f.attrs["input"])
    with h5py.File(FIXTURES / data, "r") as f:
        return f["x"][()]


def pruned(tmp_path, model: str, sparsity: str = "0.5") -> tuple:
    out = tmp_path / "heads.onnx"
    proc = run_modelpress("prune", FIXTURES / model, "--structure", "heads", "--sparsity", sparsity, "-o", out, "--json")
    return out, json.loads(proc.stdout)


def check_equals_zeroed_original(tmp_path, model, x, out, report):
    """The pruned file `out` against `model`'s own export with the removed heads' output rows zeroed."""
    assert report["blocks"] and all(len(b["kept"]) < b["headsBefore"] for b in report["blocks"]), report
    original = tmp_path / "float.onnx"
    run_modelpress("export", model, "-o", original, "-q")
    proto = onnx.load(str(original))
    weights = {t.name: t for t in proto.graph.initializer}
    for block in report["blocks"]:
        w = numpy_helper.to_array(weights[block["outputWeight"]]).copy()
        assert w.shape[0] == block["headsBefore"] * block["valueSize"], (block, w.shape)
        for head in set(range(block["headsBefore"])) - set(block["kept"]):
            w[head * block["valueSize"]:(head + 1) * block["valueSize"]] = 0
        weights[block["outputWeight"]].CopyFrom(numpy_helper.from_array(w, block["outputWeight"]))
    reference = run_ort(proto.SerializeToString(), x)
    ours = run_ort(out, x)
    scale = max(1.0, float(np.max(np.abs(reference))))
    heads = [f"{len(b['kept'])}/{b['headsBefore']}" for b in report["blocks"]]
    print(f"{model}: heads {heads}, max |pruned − zeroed original| {np.max(np.abs(ours - reference)):.3g}")
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-5 * scale)


@pytest.mark.parametrize("model,data", MODELS, ids=[m for m, _ in MODELS])
def test_pruned_heads_equal_the_original_with_their_output_rows_zeroed(tmp_path, model, data):
    out, report = pruned(tmp_path, model)
    check_equals_zeroed_original(tmp_path, FIXTURES / model, inputs(model, data), out, report)


def test_a_transformer_student_trains_runs_in_onnxruntime_and_loses_heads(tmp_path):
    """`--student transformer:1,16,2` on the digits rows: trained, its export predicts in
    onnxruntime what ModelPress predicts, and one of its two heads can be removed."""
    with h5py.File(FIXTURES / "data" / "digits_train.h5", "r") as f:
        x, y = f["x"][()].reshape(-1, 8, 8)[:300], f["y"][()][:300]
    data = tmp_path / "rows.h5"
    with h5py.File(data, "w") as f:
        f["x"], f["y"] = x, y
    student = tmp_path / "student.onnx"
    run_modelpress("train", "--student", "transformer:1,16,2", "--data", data, "--epochs", "2", "--seed", "1", "-o", student, "-q")
    out = tmp_path / "pred.h5"
    run_modelpress("predict", student, "--data", data, "-o", out, "-q")
    with h5py.File(out, "r") as f:
        np.testing.assert_allclose(f["y_pred"][()], run_ort(student, x), rtol=0, atol=1e-5)
    thinned = tmp_path / "heads.onnx"
    report = json.loads(run_modelpress("prune", student, "--structure", "heads", "--sparsity", "0.5", "-o", thinned, "--json").stdout)
    assert [len(b["kept"]) for b in report["blocks"]] == [1]
    check_equals_zeroed_original(tmp_path, student, x, thinned, report)


def test_bert_four_heads_to_two_shrinks_by_the_analytic_amounts(tmp_path):
    """hidden 32, 4 heads of 8, 16 steps, 2 layers: each layer loses 2 heads' query, key and value
    columns (32×8 weights + 8 biases each) and output rows (8×32), and their products."""
    model = "onnx/transformers/bert_opset17.onnx"
    out, report = pruned(tmp_path, model)
    hidden, size, steps, layers, removed = 32, 8, 16, 2, 2
    parameters = layers * removed * (3 * (hidden * size + size) + size * hidden)
    macs = layers * removed * (3 * steps * hidden * size + steps * size * hidden + 2 * steps * steps * size)
    assert [len(b["kept"]) for b in report["blocks"]] == [2, 2]
    assert report["parametersBefore"] - report["parametersAfter"] == parameters == 4192
    assert report["macsBefore"] - report["macsAfter"] == macs == 81920

    def float_bytes(path):
        return sum(len(t.raw_data) for t in onnx.load(str(path)).graph.initializer if t.data_type == onnx.TensorProto.FLOAT)

    original = tmp_path / "float.onnx"
    run_modelpress("export", FIXTURES / model, "-o", original, "-q")
    assert float_bytes(original) - float_bytes(out) == 4 * parameters
    # The file: those bytes, less the pruned file's compression summary and renamed shapes (< 256 bytes).
    assert abs(original.stat().st_size - out.stat().st_size - 4 * parameters) < 256
    macs_of = lambda path: sum(layer["macs"] for layer in json.loads(run_modelpress("inspect", path, "--json").stdout)["layers"])  # noqa: E731
    assert macs_of(original) - macs_of(out) == macs


def test_a_model_without_attention_is_refused(tmp_path):
    proc = run_modelpress("prune", FIXTURES / "models" / "keras3" / "lstm_text.h5", "--structure", "heads", "--sparsity", "0.5",
                          "-o", tmp_path / "x.onnx", expect=2)
    assert "no attention block" in proc.stderr and not (tmp_path / "x.onnx").exists(), proc.stderr
