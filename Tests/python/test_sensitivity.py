"""`modelpress sensitivity`: the unpruned point equals `eval`, one point equals pruning that
layer alone with `prune --exclude` the others and evaluating the written file, the SVG is
well-formed XML with one polyline per layer and the same bytes on every run."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from conftest import FIXTURES, run_modelpress

TEST = FIXTURES / "data" / "digits_test.h5"
CNN = FIXTURES / "models" / "keras3" / "cnn.h5"
FUNCTIONAL = FIXTURES / "models" / "keras3" / "functional.h5"
SVG = "{http://www.w3.org/2000/svg}"


def sensitivity(*options):
    return json.loads(run_modelpress("sensitivity", *options, "--data", TEST, "--json").stdout)


def eval_accuracy(model) -> float:
    return json.loads(run_modelpress("eval", model, "--data", TEST, "--json").stdout)["accuracy"]


@pytest.mark.parametrize("model, structure", [(CNN, "unstructured"), (FUNCTIONAL, "channel"), (CNN, "2:4")])
def test_baseline_equals_eval(model, structure):
    r = sensitivity(model, "--structure", structure, "--sparsities", "0.5") if structure != "2:4" else sensitivity(model, "--structure", structure)
    assert r["baseline"] == eval_accuracy(model)
    assert r["samples"] == 360
    assert all(len(u["accuracy"]) == len(r["sparsities"]) for u in r["layers"])


@pytest.mark.parametrize("structure, layer, others", [
    ("unstructured", "conv_2", ["conv_1", "dense", "predictions"]),
    ("channel", "conv_2", ["conv_1", "dense"]),
    ("channel", "dense", ["conv_1", "conv_2"]),
])
def test_point_equals_prune_alone_then_eval(tmp_path, structure, layer, others):
    r = sensitivity(CNN, "--structure", structure, "--sparsities", "0.3,0.6")
    unit = next(u for u in r["layers"] if u["name"] == layer)
    for level, accuracy in zip(r["sparsities"], unit["accuracy"]):
        out = tmp_path / f"{layer}-{level}.onnx"
        run_modelpress("prune", CNN, "-o", out, "--structure", structure, "--sparsity", str(level), "--exclude", *others, "-q")
        assert accuracy == eval_accuracy(out), (layer, level)


def test_svg_chart_and_markdown(tmp_path):
    svg, md = tmp_path / "s.svg", tmp_path / "s.md"
    r = sensitivity(CNN, "--max-drop", "0.01", "--svg", svg, "--markdown", md)
    first = svg.read_bytes()
    root = ET.fromstring(first)
    assert root.tag == f"{SVG}svg"
    polylines = root.findall(f".//{SVG}polyline")
    assert len(polylines) == len(r["layers"]) == 4
    for line, unit in zip(polylines, r["layers"]):
        assert len(line.get("points").split()) == len(r["sparsities"]) + 1  # the unpruned point, then each level
    names = [t.text for t in root.findall(f".//{SVG}g/{SVG}title")]
    assert names == [u["name"] for u in r["layers"]]
    # Suggestion: the highest level with it and every lower level within the budget.
    for unit in r["layers"]:
        ok = [lvl for lvl, acc in zip(r["sparsities"], unit["accuracy"])]
        best = None
        for lvl, acc in zip(r["sparsities"], unit["accuracy"]):
            if r["baseline"] - acc > 0.01 + 1e-12:
                break
            best = lvl
        assert unit["suggested"] == best, (unit, ok)
    text = md.read_text()
    assert "| layer | params |" in text and "s.svg" in text
    sensitivity(CNN, "--max-drop", "0.01", "--svg", svg)
    assert svg.read_bytes() == first


@pytest.mark.parametrize("options", [["--sparsities", "0.5,1.5"], ["--structure", "channel", "--layers", "predictions"],
                                     ["--layers", "nope"], ["--structure", "2:4", "--sparsities", "0.5"], ["--max-drop", "-1"],
                                     ["--svg", "/nonexistent-dir/s.svg"]])
def test_bad_input_exit_2(options):
    proc = run_modelpress("sensitivity", CNN, "--data", TEST, *options, expect=2)
    assert proc.stderr.strip()
