"""`modelpress verify` metrics against an independent NumPy computation on Keras's own
predictions (fixtures/expected): accuracy, macro-F1, one-vs-rest ROC-AUC (pair counting,
ties ½), agreement and KL. No scikit-learn: the formulas are written out here."""

from __future__ import annotations

import json

import h5py
import numpy as np

from conftest import FIXTURES, run_modelpress

TEST = FIXTURES / "data" / "digits_test.h5"


def keras_predictions(model: str) -> np.ndarray:
    with h5py.File(FIXTURES / "expected" / f"{model}.h5", "r") as f:
        return f["y_pred"][()].astype(np.float64)


def macro_f1(y: np.ndarray, pred: np.ndarray, classes: int) -> float:
    scores = []
    for c in range(classes):
        tp = np.sum((pred == c) & (y == c))
        predicted, support = np.sum(pred == c), np.sum(y == c)
        if predicted == 0 and support == 0:
            continue
        p = tp / predicted if predicted else 0.0
        r = tp / support if support else 0.0
        scores.append(2 * p * r / (p + r) if p + r else 0.0)
    return float(np.mean(scores))


def auc_pairs(scores: np.ndarray, positive: np.ndarray) -> float:
    pos, neg = scores[positive], scores[~positive]
    diff = pos[:, None] - neg[None, :]
    return float(((diff > 0) + 0.5 * (diff == 0)).mean())


def test_verify_metrics_match_numpy(tmp_path):
    report_path = tmp_path / "r.json"
    run_modelpress("verify", "--reference", FIXTURES / "models/keras3/cnn.h5",
                   "--candidate", FIXTURES / "models/keras3/mlp.h5", "--data", TEST,
                   "--report", report_path, "-q")
    report = json.loads(report_path.read_text())
    with h5py.File(TEST, "r") as f:
        y = f["y"][()].astype(int).reshape(-1)
    ref, cand = keras_predictions("keras3/cnn"), keras_predictions("keras3/mlp")
    classes = ref.shape[1]
    for name, probs in (("reference", ref), ("candidate", cand)):
        pred = probs.argmax(axis=1)
        ours = report[name]
        assert abs(ours["accuracy"] - np.mean(pred == y)) < 1e-12
        assert abs(ours["macro_f1"] - macro_f1(y, pred, classes)) < 1e-12
        aucs = [auc_pairs(probs[:, c], y == c) for c in range(classes)]
        assert abs(ours["roc_auc"]["value"] - np.mean(aucs)) < 1e-3
        assert ours["softmax_applied"] is False
    assert abs(report["agreement"] - np.mean(ref.argmax(1) == cand.argmax(1))) < 1e-12
    kl = np.mean(np.sum(np.where(ref > 0, ref * (np.log(np.maximum(ref, 1e-300)) - np.log(np.maximum(cand, 1e-12))), 0), axis=1))
    assert abs(report["mean_kl"] - kl) < 1e-4
