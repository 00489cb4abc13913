"""`modelpress run` and `modelpress batch`: the example pipelines end to end, their reports
against a separate `verify` and onnxruntime, the stage cache, gates, bad YAML, batches,
shards and interrupted runs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import h5py
import numpy as np
import onnx
import pytest

from conftest import BINARY, FIXTURES, ROOT, run_modelpress
from ort_helpers import run_ort

PIPELINES = ROOT / "pipelines"
TEST = FIXTURES / "data" / "digits_test.h5"


def load_test_data():
    with h5py.File(TEST, "r") as f:
        return f["x"][()].astype(np.float32), f["y"][()].astype(np.int64)


def assert_matches_separate_verify(r: dict, reference: Path, tmp_path: Path) -> None:
    """The report's verify numbers equal a `modelpress verify` run by hand on the shipped file."""
    separate = tmp_path / "separate-verify.json"
    run_modelpress("verify", "--reference", reference, "--candidate", r["final"]["path"], "--data", TEST, "--report", separate)
    v = json.loads(separate.read_text())
    stage = r["verifications"][-1]
    assert stage["candidate"] == r["final"]["path"] or Path(stage["candidate"]).read_bytes() == Path(r["final"]["path"]).read_bytes()
    assert stage["reference_accuracy"] == v["reference"]["accuracy"]
    assert stage["candidate_accuracy"] == v["candidate"]["accuracy"]
    assert stage["agreement"] == v["agreement"]


def run(pipeline: Path, out: Path, *extra: str, expect: int | None = 0):
    return run_modelpress("run", pipeline, "--out", out, *extra, expect=expect)


def report(out: Path, name: str) -> dict:
    return json.loads((out / name / "report.json").read_text())


@pytest.fixture(scope="module")
def int8_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    start = time.monotonic()
    run(PIPELINES / "digits-cnn-int8.yaml", out)
    return out, time.monotonic() - start


def test_int8_pipeline_report_matches_separate_verify_and_onnxruntime(int8_run, tmp_path):
    out, _ = int8_run
    folder = out / "digits-cnn-int8"
    for name in ["digits_cnn.int8.onnx", "report.json", "report.md", "junit.xml", "pipeline.resolved.yaml", "run.log",
                 "charts/layers.svg", "charts/accuracy.svg", "stages/01-quantize/model.onnx", "stages/02-verify/verify.json"]:
        assert (folder / name).is_file(), name
    r = report(out, "digits-cnn-int8")
    assert r["schema_version"] == 1 and r["passed"] and r["status"] == "passed"
    final = folder / "digits_cnn.int8.onnx"
    assert r["final"]["file_bytes"] == final.stat().st_size

    (stage,) = r["verifications"]
    assert_matches_separate_verify(r, FIXTURES / "models/keras3/cnn.h5", tmp_path)

    # onnxruntime on the shipped file agrees with the report's candidate accuracy.
    x, y = load_test_data()
    accuracy = float(np.mean(np.argmax(run_ort(final, x), axis=1) == y))
    assert accuracy == pytest.approx(stage["candidate_accuracy"], abs=1 / len(y) + 1e-12)

    # Every layer that owns weights is int8 in the file, and the report's bytes add up.
    model = onnx.load(final)
    assert any(n.op_type == "DequantizeLinear" for n in model.graph.node)
    assert all(layer["bits"] == 8 for layer in r["layers"])
    assert r["final"]["weight_bytes"] == sum(layer["bytes"] for layer in r["layers"])

    junit = ET.parse(folder / "junit.xml").getroot()
    cases = junit.findall(".//testcase")
    assert len(cases) == len(r["stages"]) + len(r["gates"]) and not junit.findall(".//failure")
    svg = ET.parse(folder / "charts" / "layers.svg").getroot()
    assert len([e for e in svg.iter() if e.tag.endswith("rect")]) >= 2 * len(r["layers"])


def test_second_run_does_no_work_and_a_changed_option_reruns_from_that_stage(int8_run):
    out, first_seconds = int8_run
    folder = out / "digits-cnn-int8"
    model = folder / "stages/01-quantize/model.onnx"
    mtime = model.stat().st_mtime_ns
    start = time.monotonic()
    run(PIPELINES / "digits-cnn-int8.yaml", out)
    second_seconds = time.monotonic() - start
    r = report(out, "digits-cnn-int8")
    assert all(s["cached"] for s in r["stages"]), r["stages"]
    assert model.stat().st_mtime_ns == mtime
    assert second_seconds < first_seconds, (first_seconds, second_seconds)
    print(f"first run {first_seconds:.2f} s, cached re-run {second_seconds:.2f} s")

    # A verify-only change re-runs verify alone; a quantize change re-runs quantize and what follows.
    run(PIPELINES / "digits-cnn-int8.yaml", out, "--set", "stages.2.min_agreement=0.97")
    cached = {s["kind"]: s["cached"] for s in report(out, "digits-cnn-int8")["stages"]}
    assert cached == {"quantize": True, "export": True, "verify": False}
    run(PIPELINES / "digits-cnn-int8.yaml", out, "--set", "stages.1.method=minmax")
    cached = {s["kind"]: s["cached"] for s in report(out, "digits-cnn-int8")["stages"]}
    assert cached == {"quantize": False, "export": False, "verify": False}


def test_impossible_budget_exits_1_with_a_junit_failure(tmp_path):
    proc = run(PIPELINES / "digits-cnn-int8.yaml", tmp_path, "--set", "stages.2.max_kl=0", expect=1)
    assert "max_kl" in proc.stderr
    folder = tmp_path / "digits-cnn-int8"
    r = report(tmp_path, "digits-cnn-int8")
    assert not r["passed"] and r["status"] == "gate_failed"
    failures = ET.parse(folder / "junit.xml").getroot().findall(".//failure")
    assert len(failures) == 1 and "KL" in failures[0].get("message")
    assert onnx.load(folder / "digits_cnn.int8.onnx").graph.node  # the artifact is still written, whole


def test_distill_pipeline_student_beats_its_gate(tmp_path):
    run(PIPELINES / "digits-distill-mlp-int8.yaml", tmp_path)
    r = report(tmp_path, "digits-distill-mlp-int8")
    assert r["passed"]
    assert_matches_separate_verify(r, FIXTURES / "models/keras3/mlp.h5", tmp_path)
    assert r["final"]["parameters"] < r["original"]["parameters"] / 2
    x, y = load_test_data()
    final = Path(r["final"]["path"])
    accuracy = float(np.mean(np.argmax(run_ort(final, x), axis=1) == y))
    assert accuracy == pytest.approx(r["verifications"][0]["candidate_accuracy"], abs=1 / len(y) + 1e-12)
    training = json.loads((tmp_path / "digits-distill-mlp-int8/stages/01-distill/training.json").read_text())
    assert training["epochs"]


# case: (lines added to a valid header, a text on the offending line, a text in the message)
def test_prune_pipeline_ships_80_percent_zeros_in_int8(tmp_path):
    run(PIPELINES / "digits-cnn-prune-int8.yaml", tmp_path)
    r = report(tmp_path, "digits-cnn-prune-int8")
    assert r["passed"] and [s["kind"] for s in r["stages"]] == ["prune", "quantize", "export", "verify"]
    assert_matches_separate_verify(r, FIXTURES / "models/keras3/cnn.h5", tmp_path)
    final = Path(r["final"]["path"])
    model = onnx.load(final)
    kernels = {i.name: onnx.numpy_helper.to_array(i) for i in model.graph.initializer if i.data_type == onnx.TensorProto.INT8}
    weights = sum(k.size for k in kernels.values())
    zeros = sum(int(np.count_nonzero(k == 0)) for k in kernels.values())
    # Global 80% over the conv/dense kernels (biases are int32 and stay dense).
    assert zeros / weights >= 0.8 - 1e-3, (zeros, weights)
    assert r["final"]["nonzeros"] == r["final"]["parameters"] - zeros - sum(
        int(np.count_nonzero(onnx.numpy_helper.to_array(i) == 0)) for i in model.graph.initializer if i.data_type == onnx.TensorProto.INT32)
    assert r["final"]["gzip_bytes"] < 0.6 * r["final"]["file_bytes"]
    x, y = load_test_data()
    accuracy = float(np.mean(np.argmax(run_ort(final, x), axis=1) == y))
    assert accuracy == pytest.approx(r["verifications"][0]["candidate_accuracy"], abs=1 / len(y) + 1e-12)
    assert accuracy >= r["verifications"][0]["reference_accuracy"] - 0.005


def test_channel_pipeline_shrinks_macs_and_keeps_accuracy(tmp_path):
    run(PIPELINES / "digits-cnn-channels-int8.yaml", tmp_path)
    r = report(tmp_path, "digits-cnn-channels-int8")
    assert r["passed"] and [s["kind"] for s in r["stages"]] == ["prune", "train", "quantize", "export", "verify"]
    assert_matches_separate_verify(r, FIXTURES / "models/keras3/cnn.h5", tmp_path)
    # Half the filters of each hidden conv gone: conv_1 8 of 16, conv_2 16 of 32 (digits CNN).
    model = onnx.load(r["final"]["path"])
    kernels = [onnx.numpy_helper.to_array(i) for i in model.graph.initializer if i.data_type == onnx.TensorProto.INT8 and len(i.dims) == 4]
    assert sorted(k.shape[0] for k in kernels) == [8, 16]
    assert r["final"]["macs"] < 0.3 * r["original"]["macs"]
    x, y = load_test_data()
    accuracy = float(np.mean(np.argmax(run_ort(r["final"]["path"], x), axis=1) == y))
    assert accuracy >= r["verifications"][0]["reference_accuracy"] - 0.01


BAD = {
    "unknown top-level key": ("model_path: x", "model_path", "unknown key 'model_path'"),
    "unknown stage option": ("  - quantize: { methd: entropy }", "methd", "Unknown option '--methd'"),
    "bad option value": ("  - quantize: { samples: many }", "samples", "samples"),
    "wrong type": ("seed: seven", "seed", "whole number"),
    "missing file": ("data: { test: ../nowhere/test.h5 }", "nowhere", "does not exist"),
    "stage order": ("  - quantize: {}\n  - prune: { sparsity: 0.5 }", "- prune", "needs a float model"),
    "dynamic file read back": ("  - quantize: { dynamic: true }\n  - export: {}", "- export", "--dynamic file"),
    "reserved key": ("  - export: { out: x.onnx }", "out:", "set by the pipeline"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_pipeline_files_exit_2_with_the_line(tmp_path, case):
    text, marker, needle = BAD[case]
    base = ["version: 1", "name: bad", f"model: {FIXTURES / 'models/keras3/cnn.h5'}",
            f"data: {{ train: {FIXTURES / 'data/digits_train.h5'}, test: {TEST} }}"]
    if text.startswith("  -"):
        lines = base + ["stages:"] + text.split("\n")
    else:
        key = text.split(":")[0]
        lines = [l for l in base if not l.startswith(key + ":")] + [text, "stages:", "  - export: {}"]
    path = tmp_path / "bad.yaml"
    path.write_text("\n".join(lines) + "\n")
    proc = run(path, tmp_path / "out", expect=2)
    expected_line = next(i + 1 for i, l in enumerate(lines) if marker in l)
    assert f"bad.yaml:{expected_line}:" in proc.stderr, proc.stderr
    assert needle in proc.stderr, proc.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())  # nothing ran, nothing left


def test_batch_completes_good_entries_reports_the_broken_one_and_shards_partition(tmp_path):
    manifest = tmp_path / "batch.yaml"
    manifest.write_text(f"""version: 1
entries:
  - pipeline: {PIPELINES / 'digits-cnn-int8.yaml'}
  - pipeline: {PIPELINES / 'digits-cnn-int8.yaml'}
    model: {FIXTURES / 'models/keras3/mlp.h5'}
  - pipeline: {PIPELINES / 'digits-cnn-int8.yaml'}
    model: {FIXTURES / 'models/bad/truncated.h5'}
matrix:
  pipelines: [{PIPELINES / 'digits-cnn-int8.yaml'}]
  models: [{FIXTURES / 'models/keras2/cnn.h5'}, {FIXTURES / 'models/keras3/functional.h5'}]
""")
    out = tmp_path / "out"
    proc = run_modelpress("batch", manifest, "--jobs", "2", "--out", out, expect=2)
    assert "digits-cnn-int8--bad-truncated" in proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    status = {e["name"]: e["status"] for e in summary["entries"]}
    assert status.pop("digits-cnn-int8--bad-truncated") == "error"
    assert len(status) == 4 and set(status.values()) == {"passed"}, status
    for name in status:
        assert (out / name / "report.json").is_file()

    shards = [run_modelpress("batch", manifest, "--shard", f"{k}/3", "--list").stdout.split() for k in (1, 2, 3)]
    everything = run_modelpress("batch", manifest, "--list").stdout.split()
    assert sorted(sum(shards, [])) == sorted(everything) and len(everything) == 5
    run_modelpress("batch", manifest, "--shard", "4/3", "--list", expect=2)


def test_example_batch_shards_cover_every_entry_once():
    everything = run_modelpress("batch", PIPELINES / "batch.yaml", "--list").stdout.split()
    assert len(everything) == 7 == len(set(everything))
    shards = [run_modelpress("batch", PIPELINES / "batch.yaml", "--shard", f"{k}/3", "--list").stdout.split() for k in (1, 2, 3)]
    assert sorted(sum(shards, [])) == sorted(everything)


def test_killed_run_leaves_no_truncated_artifact_and_resumes_from_the_cache(tmp_path):
    pipeline = PIPELINES / "digits-distill-mlp-int8.yaml"
    proc = subprocess.Popen([BINARY, "run", pipeline, "--out", tmp_path, "-q"], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    record = tmp_path / "digits-distill-mlp-int8/stages/01-distill/stage.json"
    deadline = time.monotonic() + 300
    while not record.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    final = tmp_path / "digits-distill-mlp-int8/digits_student.int8.onnx"
    if final.exists():
        onnx.checker.check_model(onnx.load(final))  # complete, never truncated
    run(pipeline, tmp_path)
    stages = {s["kind"]: s["cached"] for s in report(tmp_path, "digits-distill-mlp-int8")["stages"]}
    assert stages["distill"] is True
