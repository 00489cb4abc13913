"""ONNX that tf2onnx 1.17 writes for the Keras 3 fixture models (fixtures/make_tf2onnx_corpus.py):
shape sub-graphs before Dense layers, Cropping as batch-axis Slices, NHWC transposes. Each file
must import and match onnxruntime's outputs on it, export to ONNX that onnxruntime runs with the
same outputs, and quantize to int8 that onnxruntime runs with an output SQNR at least
onnxruntime's own quantize_static's on the same tf2onnx file − 0.5 dB (theirs being the lowest
its file gives when its scales move by one float32 ulp, `ort_sqnr_floor`), at the file's opset
so that both quantizers see the same spelling of each op. Recurrent layers: tf-keras LSTM / GRU
become ONNX LSTM / GRU between time-major Transposes (imported); what tf2onnx cannot map (Keras 3
recurrent layers, SimpleRNN) stays a `Loop`, which ModelPress refuses by name."""

from __future__ import annotations

import json

import pytest

from conftest import FIXTURES, run_modelpress
from imported_files import case, check_predicts_like_onnxruntime, check_reexports_and_quantizes

MANIFEST = json.loads((FIXTURES / "onnx" / "tf2onnx" / "manifest.json").read_text())
WRITTEN = [e for e in MANIFEST["entries"] if e["status"] == "written" and "Loop" not in e["ops"]]
LOOPS = [e for e in MANIFEST["entries"] if e["status"] == "written" and "Loop" in e["ops"]]


def _ids(entries):
    return [f"{e['model']}-opset{e['opset']}" for e in entries]


def test_the_corpus_has_the_shape_subgraph_files():
    """The files that carry tf2onnx's Shape -> Slice -> Concat -> Reshape chain are in the corpus."""
    with_shape = [e for e in WRITTEN if "Shape" in e["ops"]]
    assert {e["model"] for e in with_shape} >= {"cnn", "zoo_conv"}, with_shape


@pytest.mark.parametrize("entry", WRITTEN, ids=_ids(WRITTEN))
def test_tf2onnx_file_matches_onnxruntime(tmp_path, entry):
    check_predicts_like_onnxruntime(tmp_path, entry)


@pytest.mark.parametrize("entry", WRITTEN, ids=_ids(WRITTEN))
def test_tf2onnx_file_reexports_and_quantizes(tmp_path, entry):
    check_reexports_and_quantizes(tmp_path, entry)


def test_the_corpus_has_recurrent_operators():
    """tf-keras's LSTM through tf2onnx is an imported case (time-major Transposes, zero states, ReverseSequence)."""
    assert any("LSTM" in e["ops"] for e in WRITTEN), [e["model"] for e in WRITTEN]


@pytest.mark.parametrize("entry", LOOPS, ids=_ids(LOOPS))
def test_tf2onnx_loop_is_refused_by_name(tmp_path, entry):
    model, data, key, _, _ = case(entry)
    proc = run_modelpress("predict", model, "--data", data, "--x-key", key, "-o", tmp_path / "pred.h5", "-q", expect=2)
    assert "(Loop, node" in proc.stderr and "is control flow" in proc.stderr and "HINT:" in proc.stderr, proc.stderr
