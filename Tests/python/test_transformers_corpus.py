"""ONNX that torch.onnx.export writes for Hugging Face encoders built from small configs with
random weights (fixtures/make_transformers_corpus.py): BERT (token-type ids from a buffer,
GatherElements, the all-ones attention mask built from the batch size), DistilBERT and a ViT
(the class token expanded to the batch) at opsets 14 and 17 — decomposed and opset-17
LayerNormalization, Erf GELU, attention as MatMul of two activations. Each file imports and
predicts what onnxruntime computes, re-exports and quantizes (checks in imported_files.py)."""

from __future__ import annotations

import pytest

import h5py
import numpy as np

from conftest import FIXTURES, read_predictions, run_modelpress
from imported_files import case, check_predicts_like_onnxruntime, check_reexports_and_quantizes, written
from ort_helpers import run_ort, sqnr

WRITTEN, IDS = written("transformers")
DYNAMIC = FIXTURES / "onnx" / "transformers" / "bert_dynamic_sequence_opset17.onnx"


def test_the_corpus_has_bert_distilbert_and_vit():
    assert {e["model"] for e in WRITTEN} == {"bert", "bert_dynamic_sequence", "distilbert", "vit"}, WRITTEN
    assert all("MatMul" in e["ops"] and "Softmax" in e["ops"] for e in WRITTEN)


@pytest.mark.parametrize("entry", WRITTEN, ids=IDS)
def test_transformers_file_matches_onnxruntime(tmp_path, entry):
    check_predicts_like_onnxruntime(tmp_path, entry)


@pytest.mark.parametrize("entry", WRITTEN, ids=IDS)
def test_transformers_file_reexports_and_quantizes(tmp_path, entry):
    check_reexports_and_quantizes(tmp_path, entry)


@pytest.mark.skipif(not DYNAMIC.exists(), reason="BERT with an open sequence axis not made")
@pytest.mark.parametrize("length", [16, 8, 5])
def test_an_open_sequence_axis_takes_the_datas_length(tmp_path, length):
    """BERT exported with input dims batch × sequence: each dataset's length fixes the axis when
    the file is read, and one file predicts like onnxruntime at each length; `--dim` does the
    same without data (export), and the fixed-length export runs in onnxruntime."""
    with h5py.File(FIXTURES / "data" / "bert_ids.h5", "r") as f:
        x = f["x"][()][:, :length]
    data = tmp_path / "ids.h5"
    with h5py.File(data, "w") as f:
        f["x"] = x
    theirs = run_ort(DYNAMIC, x)
    out = tmp_path / "pred.h5"
    run_modelpress("predict", DYNAMIC, "--data", data, "-o", out, "-q")
    np.testing.assert_allclose(read_predictions(out), theirs, rtol=0, atol=1e-5)
    fixed = tmp_path / "fixed.onnx"
    run_modelpress("export", DYNAMIC, "--dim", f"sequence={length}", "-o", fixed, "-q")
    np.testing.assert_allclose(run_ort(fixed, x), theirs, rtol=0, atol=1e-5)


@pytest.mark.skipif(not DYNAMIC.exists(), reason="BERT with an open sequence axis not made")
def test_an_open_sequence_axis_without_data_or_dim_is_refused_with_the_way_out(tmp_path):
    proc = run_modelpress("inspect", DYNAMIC, expect=2)
    assert "'sequence'" in proc.stderr and "--dim sequence=SIZE" in proc.stderr and str(DYNAMIC) in proc.stderr, proc.stderr
    proc = run_modelpress("inspect", DYNAMIC, "--dim", "sequence=0", expect=2)
    assert "--dim 'sequence=0' is not NAME=SIZE" in proc.stderr, proc.stderr


@pytest.mark.parametrize("weights", ["per-channel", "per-tensor"])
@pytest.mark.parametrize("entry", WRITTEN, ids=IDS)
def test_transformers_file_dynamic_int8_at_least_onnxruntimes(tmp_path, entry, weights):
    """`quantize --dynamic --reduce-range` on the torch-exported encoder against onnxruntime's
    `quantize_dynamic(reduce_range=True)` on the same file, like for like (per channel against
    `per_channel=True`): output SQNR against the float outputs at least onnxruntime's − 0.2 dB."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model, data, key, x, y = case(entry)
    ours_file, theirs_file = tmp_path / "dynamic.onnx", tmp_path / "ort-dynamic.onnx"
    run_modelpress("quantize", model, "-o", ours_file, "--dynamic", "--reduce-range", "--weights", weights, "--calibration", data, "--x-key", key, "-q")
    quantize_dynamic(str(model), str(theirs_file), weight_type=QuantType.QInt8, reduce_range=True, per_channel=weights == "per-channel")
    ours, theirs = sqnr(y, run_ort(ours_file, x)), sqnr(y, run_ort(theirs_file, x))
    print(f"{entry['model']} opset {entry['opset']} ({weights}): dynamic int8 SQNR ours {ours:.1f} dB, onnxruntime {theirs:.1f} dB")
    assert ours >= theirs - 0.2
