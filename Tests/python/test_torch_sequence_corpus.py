"""ONNX that torch.onnx.export writes for PyTorch recurrent models (fixtures/make_torch_sequence_corpus.py):
nn.LSTM (two layers, bidirectional; `y[:, -1]`), nn.GRU (`h[0]`, a mean over steps), nn.RNN with
relu, Embedding → LSTM on token ids — each between time-major Transposes, with zero initial states
built from the batch size (ConstantOfShape). Each file imports and predicts what onnxruntime
computes, re-exports and quantizes (checks in imported_files.py)."""

from __future__ import annotations

import pytest

from imported_files import check_predicts_like_onnxruntime, check_reexports_and_quantizes, written

WRITTEN, IDS = written("torch_sequence")


def test_the_corpus_has_every_recurrent_operator():
    ops = set().union(*(e["ops"] for e in WRITTEN))
    assert {"LSTM", "GRU", "RNN", "ConstantOfShape"} <= ops, ops


@pytest.mark.parametrize("entry", WRITTEN, ids=IDS)
def test_torch_file_matches_onnxruntime(tmp_path, entry):
    check_predicts_like_onnxruntime(tmp_path, entry)


@pytest.mark.parametrize("entry", WRITTEN, ids=IDS)
def test_torch_file_reexports_and_quantizes(tmp_path, entry):
    check_reexports_and_quantizes(tmp_path, entry)
