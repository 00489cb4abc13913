"""`verify --robustness`: perturbed inputs and their scores against independent references —
FGSM recomputed in NumPy from the MLP's weights (hand-written backward pass), Gaussian noise
statistics, both models' accuracies under each condition from onnxruntime on the inputs ModelPress
judged, the robustness-drop arithmetic, gates that must fail, determinism, bad input, and the
pipeline / batch reports."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import h5py
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import FIXTURES, run_modelpress
from ort_helpers import run_ort

TEST = FIXTURES / "data" / "digits_test.h5"
TRAIN = FIXTURES / "data" / "digits_train.h5"
MLP = FIXTURES / "models" / "keras3" / "mlp.h5"


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("robustness")
    run_modelpress("export", MLP, "-o", folder / "mlp.onnx", "-q")
    run_modelpress("quantize", MLP, "-o", folder / "mlp.int8.onnx", "--calibration", TRAIN, "-q")
    return folder


def load_test_data():
    with h5py.File(TEST, "r") as f:
        return f["x"][()].astype(np.float32), f["y"][()].astype(np.int64)


def read_x(path: Path) -> np.ndarray:
    with h5py.File(path, "r") as f:
        return f["x"][()]


def mlp_layers(path: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    """(kernel, bias) of each Gemm of the exported MLP, in order (Flatten → Gemm/Relu ×2 → Gemm → Softmax)."""
    model = onnx.load(path)
    weights = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in model.graph.initializer}
    assert [n.op_type for n in model.graph.node] == ["Flatten", "Gemm", "Relu", "Gemm", "Relu", "Gemm", "Softmax"]
    return [(weights[n.input[1]], weights[n.input[2]]) for n in model.graph.node if n.op_type == "Gemm"]


def input_gradient(layers, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """d mean-cross-entropy / d x, by a hand-written backward pass in float64."""
    h = x.reshape(len(x), -1).astype(np.float64)
    pre = []
    for i, (w, b) in enumerate(layers):
        z = h @ w + b
        pre.append(z)
        h = np.maximum(z, 0) if i < len(layers) - 1 else z
    p = np.exp(h - h.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    g = (p - np.eye(p.shape[1])[y]) / len(x)
    for i in reversed(range(len(layers))):
        if i < len(layers) - 1:
            g = g * (pre[i] > 0)
        g = g @ layers[i][0].T
    return g.reshape(x.shape)


def accuracy(path: Path, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(run_ort(path, x).argmax(axis=1) == y))


def test_fgsm_and_noise_match_numpy_and_onnxruntime(files, tmp_path):
    saved = tmp_path / "saved"
    saved.mkdir()
    report = tmp_path / "r.json"
    run_modelpress("verify", "--reference", MLP, "--candidate", files / "mlp.int8.onnx", "--data", TEST,
                   "--fgsm", "0,0.01,0.03", "--noise-sigma", "0.1", "--save-perturbed", saved, "--report", report,
                   "--bootstrap", "200", "-q")
    r = json.loads(report.read_text())
    rob = r["robustness"]
    x, y = load_test_data()
    layers = mlp_layers(files / "mlp.onnx")
    gradient = input_gradient(layers, x, y)
    # ε = 0 is the clean data, to the bit, and scores as the clean run.
    assert np.array_equal(read_x(saved / "fgsm_eps_0.0.h5"), x)
    assert rob["clean_reference_accuracy"] == r["reference"]["accuracy"]
    assert rob["clean_candidate_accuracy"] == r["candidate"]["accuracy"]
    conditions = {c["name"]: c for c in rob["conditions"]}
    for eps in (0.01, 0.03):
        ours = read_x(saved / f"fgsm_eps_{eps}.h5")
        expected = np.clip(x + np.float32(eps) * np.sign(gradient).astype(np.float32), 0, 1)
        # Signs may differ only where the gradient is ~0 (saturated samples, float32 against float64).
        differ = np.abs(ours - expected) > 1e-6
        assert differ.mean() < 0.01, differ.mean()
        assert np.all(np.abs(gradient[differ]) < 1e-6)
    for name, c in conditions.items():
        inputs = read_x(saved / f"{name}.h5")
        assert c["samples"] == len(y)
        assert abs(c["reference_accuracy"] - accuracy(files / "mlp.onnx", inputs, y)) < 1e-12, name
        assert abs(c["candidate_accuracy"] - accuracy(files / "mlp.int8.onnx", inputs, y)) <= 1 / len(y) + 1e-12, name
        drop = (rob["clean_candidate_accuracy"] - c["candidate_accuracy"]) - (rob["clean_reference_accuracy"] - c["reference_accuracy"])
        assert abs(c["robustness_drop"] - drop) < 1e-12
        assert c["drop_interval"]["ci_lower"] <= c["robustness_drop"] + 1e-12 <= c["drop_interval"]["ci_upper"] + 2e-12
    assert conditions["fgsm_eps_0.03"]["reference_accuracy"] < conditions["fgsm_eps_0.0"]["reference_accuracy"]
    # Gaussian σ = 0.1 relative: the added noise has 0.1× each pixel's std; constant pixels stay put.
    noise = read_x(saved / "gaussian_sigma_0.1.h5").astype(np.float64) - x
    std = x.reshape(len(x), -1).std(axis=0)
    spread = noise.reshape(len(x), -1).std(axis=0)
    assert np.all(spread[std == 0] == 0)
    ratio = spread[std > 0] / std[std > 0]
    assert abs(ratio.mean() - 0.1) < 0.005, ratio.mean()


def untrained_student(path: Path) -> Path:
    """An MLP 64 → 32 → 10 with seeded random weights: the candidate no gate may pass."""
    rng = np.random.default_rng(0)
    init = [numpy_helper.from_array(a.astype(np.float32), n) for n, a in (
        ("w1", rng.normal(0, 0.2, (64, 32))), ("b1", np.zeros(32)), ("w2", rng.normal(0, 0.2, (32, 10))), ("b2", np.zeros(10)))]
    nodes = [helper.make_node("Flatten", ["input"], ["f"]), helper.make_node("Gemm", ["f", "w1", "b1"], ["h"]),
             helper.make_node("Relu", ["h"], ["r"]), helper.make_node("Gemm", ["r", "w2", "b2"], ["z"]),
             helper.make_node("Softmax", ["z"], ["probabilities"], axis=1)]
    graph = helper.make_graph(nodes, "untrained", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 8, 8, 1])],
                              [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 10])], init)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    return path


def test_untrained_candidate_fails_a_junit_case_per_condition(tmp_path):
    x, y = load_test_data()
    moved = tmp_path / "moved.h5"
    with h5py.File(moved, "w") as f:
        f["x"], f["y"] = np.roll(x, 1, axis=2), y
    junit, report = tmp_path / "j.xml", tmp_path / "r.json"
    proc = run_modelpress("verify", "--reference", MLP, "--candidate", untrained_student(tmp_path / "u.onnx"), "--data", TEST,
                          "--noise-sigma", "0.05,0.1,0.2", "--salt-pepper", "0.05", "--dropout-noise", "0.1", "--fgsm", "0.01,0.03",
                          "--pgd", "0.03", "--shifted-data", f"moved={moved}", "--min-noise-accuracy", "0.5",
                          "--min-adversarial-accuracy", "0.5", "--min-shifted-accuracy", "0.5", "--max-robustness-drop", "0.05",
                          "--junit", junit, "--report", report, "-q", expect=1)
    assert "salt_and_pepper_0.05: candidate accuracy" in proc.stderr
    r = json.loads(report.read_text())
    conditions = [c["name"] for c in r["robustness"]["conditions"]]
    assert len(conditions) == 9
    cases = ET.parse(junit).getroot().findall(".//testcase")
    failed = {c.get("name").split(":", 1)[1] for c in cases if c.find("failure") is not None and ":" in c.get("name")}
    assert failed == set(conditions)
    assert not r["passed"]
    for c in r["robustness"]["conditions"]:
        assert c["candidate_accuracy"] < 0.5 and c["reference_accuracy"] > c["candidate_accuracy"] + 0.3


def test_same_seed_same_bytes(tmp_path):
    outputs = []
    for run in ("a", "b"):
        folder = tmp_path / run
        folder.mkdir()
        run_modelpress("verify", "--reference", FIXTURES / "models/keras3/cnn.h5", "--candidate", MLP, "--data", TEST,
                       "--robustness", "--pgd", "0.03", "--pgd-steps", "3", "--seed", "5", "--report", folder / "r.json",
                       "--markdown", folder / "r.md", "--junit", folder / "j.xml", "--robustness-svg", folder / "r.svg",
                       "--max-robustness-drop", "0.5", "-q")
        outputs.append([(folder / n).read_bytes() for n in ("r.json", "r.md", "j.xml", "r.svg")])
    assert outputs[0] == outputs[1]
    svg = ET.fromstring(outputs[0][3])
    # Three panels (σ; FGSM and PGD ε; rates), a line per model and kind.
    assert svg.tag.endswith("svg") and len(svg.findall(".//{http://www.w3.org/2000/svg}polyline")) == 8
    names = [c["name"] for c in json.loads(outputs[0][0])["robustness"]["conditions"]]
    assert names == ["gaussian_sigma_0.05", "gaussian_sigma_0.1", "gaussian_sigma_0.2", "salt_and_pepper_0.05",
                     "fgsm_eps_0.01", "fgsm_eps_0.03", "pgd_eps_0.03_steps_3"]


def test_shifted_data_scored_like_onnxruntime(files, tmp_path):
    x, y = load_test_data()
    moved = np.roll(x, 1, axis=2)  # every digit one pixel to the right
    shifted = tmp_path / "moved.h5"
    with h5py.File(shifted, "w") as f:
        f["x"], f["y"] = moved, y
    report = tmp_path / "r.json"
    run_modelpress("verify", "--reference", MLP, "--candidate", files / "mlp.int8.onnx", "--data", TEST,
                   "--shifted-data", f"moved={shifted}", "--report", report, "-q")
    rob = json.loads(report.read_text())["robustness"]
    (c,) = rob["conditions"]
    assert c["name"] == "shifted_moved" and c["kind"] == "shifted" and c["data_path"] == str(shifted)
    assert abs(c["reference_accuracy"] - accuracy(files / "mlp.onnx", moved, y)) < 1e-12
    assert abs(c["candidate_accuracy"] - accuracy(files / "mlp.int8.onnx", moved, y)) <= 1 / len(y) + 1e-12
    assert c["reference_accuracy"] < rob["clean_reference_accuracy"]


def bad_shape(tmp_path: Path) -> Path:
    path = tmp_path / "bad.h5"
    with h5py.File(path, "w") as f:
        f["x"], f["y"] = np.zeros((10, 5), np.float32), np.zeros(10, np.int64)
    return path


@pytest.mark.parametrize("case", ["negative_sigma", "negative_eps", "rate", "shifted_shape", "fgsm_on_ids", "gate_alone"])
def test_bad_robustness_input_exits_2(case, tmp_path):
    base = ["verify", "--reference", MLP, "--candidate", MLP, "--data", TEST, "-q"]
    args, message = {
        "negative_sigma": (["--noise-sigma", "0.1,-0.1"], "≥ 0"),
        "negative_eps": (["--fgsm=-0.01"], "≥ 0"),
        "rate": (["--salt-pepper", "1.5"], "0…1"),
        "shifted_shape": (["--shifted-data", f"bad={bad_shape(tmp_path)}"], "bad.h5"),
        "fgsm_on_ids": (None, "token ids"),
        "gate_alone": (["--max-robustness-drop", "0.01"], "--robustness"),
    }[case]
    if args is None:
        text = FIXTURES / "models/keras3/text.h5"
        base = ["verify", "--reference", text, "--candidate", text, "--data", FIXTURES / "data/token_inputs.h5", "-q"]
        args = ["--fgsm", "0.01"]
    proc = run_modelpress(*base, *args, expect=2)
    assert message in proc.stderr, proc.stderr


def test_pipeline_and_batch_carry_the_robustness_table(tmp_path):
    x, y = load_test_data()
    shifted = tmp_path / "dim.h5"
    with h5py.File(shifted, "w") as f:
        f["x"], f["y"] = (x * 0.5).astype(np.float32), y
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(f"""version: 1
name: robust
model: {FIXTURES / 'models/keras3/cnn.h5'}
data: {{ calibration: {TRAIN}, test: {TEST} }}
stages:
  - quantize: {{ method: minmax }}
  - verify: {{ robustness: true, noise_sigma: "0.1,0.2", shifted_data: "dim={shifted.name}", max_robustness_drop: 0.1 }}
""")
    manifest = tmp_path / "batch.yaml"
    manifest.write_text(f"version: 1\nentries:\n  - pipeline: {pipeline}\n")
    out = tmp_path / "out"
    run_modelpress("batch", manifest, "--out", out)
    (entry,) = json.loads((out / "summary.json").read_text())["entries"]
    r = json.loads((out / entry["name"] / "report.json").read_text())
    rob = r["verifications"][-1]["robustness"]
    assert [c["name"] for c in rob["conditions"]] == ["gaussian_sigma_0.1", "gaussian_sigma_0.2", "salt_and_pepper_0.05",
                                                     "fgsm_eps_0.01", "fgsm_eps_0.03", "shifted_dim"]
    assert {g["name"] for g in r["gates"]} >= {f"max_robustness_drop:{c['name']}" for c in rob["conditions"]}
    assert entry["worst_robustness_drop"] == max(c["robustness_drop"] for c in rob["conditions"])
    assert "## Robustness (stage 2)" in (out / entry["name"] / "report.md").read_text()
    assert ET.parse(out / entry["name"] / "charts" / "robustness-stage-2.svg").getroot().tag.endswith("svg")
    assert "worst robustness drop" in (out / "summary.md").read_text()
