"""ONNX that torch.onnx.export writes for Hugging Face encoders built from small configs with
random weights (fixtures/make_transformers_corpus.py): BERT (token-type ids from a buffer,
GatherElements, the all-ones attention mask built from the batch size), DistilBERT and a ViT
(the class token expanded to the batch) at opsets 14 and 17 — decomposed and opset-17
LayerNormalization, Erf GELU, attention as MatMul of two activations. Each file imports and
predicts what onnxruntime computes, re-exports and quantizes (checks in imported_files.py)."""

from __future__ import annotations

import pytest

from imported_files import check_predicts_like_onnxruntime, check_reexports_and_quantizes, written

WRITTEN, IDS = written("transformers")


def test_the_corpus_has_bert_distilbert_and_vit():
    assert {e["model"] for e in WRITTEN} == {"bert", "distilbert", "vit"}, WRITTEN
    assert all("MatMul" in e["ops"] and "Softmax" in e["ops"] for e in WRITTEN)


@pytest.mark.parametrize("entry", WRITTEN, ids=IDS)
def test_transformers_file_matches_onnxruntime(tmp_path, entry):
    check_predicts_like_onnxruntime(tmp_path, entry)


@pytest.mark.parametrize("entry", WRITTEN, ids=IDS)
def test_transformers_file_reexports_and_quantizes(tmp_path, entry):
    check_reexports_and_quantizes(tmp_path, entry)
