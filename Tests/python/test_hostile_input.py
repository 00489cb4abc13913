"""Hostile input and faults (docs/reliability.md): a short deterministic fuzz run, the
regression corpus, resource attacks, NaN weights, SIGKILL at random points and a full disk.
The references are the binary's own clean runs (outputs are deterministic, so a complete
output equals the clean run's bytes) and h5py / zipfile for the crafted inputs."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import h5py
import numpy as np
import onnx
import pytest

from conftest import BINARY, FIXTURES, ROOT, run_modelpress

FUZZ = ROOT / "scripts" / "fuzz" / "run.py"
REGRESSIONS = FIXTURES / "fuzz" / "regressions"
CNN = FIXTURES / "models" / "keras3" / "cnn.h5"
TRAIN = FIXTURES / "data" / "digits_train.h5"
TEST = FIXTURES / "data" / "digits_test.h5"


def fuzz(*args: str | Path, tmp_path: Path) -> list[dict]:
    report = tmp_path / "fuzz.json"
    proc = subprocess.run([sys.executable, FUZZ, "--binary", BINARY, "--jobs", "2", "--json", report, *map(str, args)],
                          capture_output=True, text=True, timeout=600)
    print(proc.stdout)
    results = json.loads(report.read_text())
    findings = [r for r in results if r["outcome"] not in ("ok", "refused")]
    assert not findings and proc.returncode == 0, (proc.stderr[-3000:], findings[:10])
    return results


def test_short_fuzz_run_finds_no_crash_hang_runaway_memory_or_leftover(tmp_path):
    # 30 mutants of each of the 13 formats (seed 1): every one exits 0, or 1/2 naming the file.
    results = fuzz("--count", "390", "--seed", "1", tmp_path=tmp_path)
    assert len(results) == 390
    assert len({r["format"] for r in results}) == 13
    assert sum(r["outcome"] == "refused" for r in results) > 100  # the mutants do reach the error paths


def test_regression_corpus_every_file_is_refused_naming_it(tmp_path):
    cases = json.loads((REGRESSIONS / "cases.json").read_text())
    results = fuzz("--replay", REGRESSIONS, tmp_path=tmp_path)
    assert sorted(r["case"] for r in results) == sorted(c["file"] for c in cases)
    for r in results:
        assert r["exit_code"] == 2 and r["outcome"] == "refused", r  # refused: the message names the file
        assert r["peak_rss_mb"] < 512, r
    by_case = {r["case"]: r for r in results}
    # libhdf5 failures are contained and reported as such
    for name in ("keras3-vlen-attribute-segv.h5", "keras3-vlen-attribute-loop.h5", "weights-vlen-attribute-memcpy.weights.h5"):
        assert "HDF5 library failed on a malformed file" in by_case[name]["message"], by_case[name]
    # resource attacks (item 4) are refused in bounded time
    for name in ("yaml-alias-bomb.yaml", "yaml-deep-nesting.yaml", "onnx-absurd-initializer-dims.onnx",
                 "onnx-absurd-input-dims.onnx", "onnx-external-data-escape.onnx", "keras-archive-dotdot-entry.keras",
                 "keras3-huge-kernel-dataspace.h5", "dataset-huge-dataspace.h5"):
        assert by_case[name]["seconds"] < 5, by_case[name]


def run_measured(*args: str | Path, timeout: float = 30) -> tuple[int, str, float, float]:
    """(exit code, stderr, seconds, peak RSS MB) of one run of the binary."""
    start = time.monotonic()
    with open(os.devnull, "wb") as devnull:
        proc = subprocess.Popen([BINARY, *map(str, args)], stdout=devnull, stderr=subprocess.PIPE)
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            err = proc.stderr.read().decode(errors="replace")
            proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, err, time.monotonic() - start, usage.ru_maxrss / 1024


def zip_bomb(path: Path, inflated_mb: int, declared: int | None = None) -> None:
    """A .keras archive: cnn.keras's config, and a model.weights.h5 entry of zeros."""
    source = zipfile.ZipFile(FIXTURES / "models" / "keras3" / "cnn.keras")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name in ("metadata.json", "config.json"):
            archive.writestr(name, source.read(name))
        with archive.open("model.weights.h5", "w", force_zip64=True) as entry:
            block = bytes(1 << 20)
            for _ in range(inflated_mb):
                entry.write(block)
    if declared is not None:  # lie about the uncompressed size in the local and central zip64 fields
        data = path.read_bytes()
        real = (inflated_mb << 20).to_bytes(8, "little")
        assert real in data
        path.write_bytes(data.replace(real, declared.to_bytes(8, "little")))


def test_zip_bomb_is_refused_in_bounded_time_and_memory(tmp_path):
    bomb = tmp_path / "bomb.keras"
    zip_bomb(bomb, 400)  # 400 MB of zeros in a ~0.4 MB archive
    assert bomb.stat().st_size < 2 << 20
    code, err, seconds, rss = run_measured("export", bomb, "-o", tmp_path / "x.onnx")
    assert code == 2 and "bomb.keras" in err and "zip bomb" in err, err
    assert "/tmp/modelpress-" not in err  # names the archive, not an extracted temporary file
    assert seconds < 5 and rss < 512, (seconds, rss)
    assert not (tmp_path / "x.onnx").exists()


def test_zip_entry_inflating_past_its_declared_size_is_refused(tmp_path):
    liar = tmp_path / "liar.keras"
    zip_bomb(liar, 8, declared=1 << 20)  # declares 1 MB, inflates to 8 MB
    code, err, seconds, rss = run_measured("export", liar, "-o", tmp_path / "x.onnx")
    assert code == 2 and "liar.keras" in err, err
    assert seconds < 5 and rss < 512


def test_uncompressed_limit_flag_refuses_and_lifts(tmp_path):
    bomb = tmp_path / "padded.keras"
    zip_bomb(bomb, 3)  # a 3 MB entry in a ~3 KB archive: past the 100× ratio
    code, err, _, _ = run_measured("export", bomb, "-o", tmp_path / "a.onnx")
    assert code == 2 and "zip bomb" in err, err
    code, err, _, _ = run_measured("export", bomb, "-o", tmp_path / "a.onnx", "--max-uncompressed-mb", "1")
    assert code == 2 and "--max-uncompressed-mb" in err, err
    # 8 MB lifts the limit: the entry is inflated and read, and fails as HDF5 (it is zeros)
    code, err, _, _ = run_measured("export", bomb, "-o", tmp_path / "a.onnx", "--max-uncompressed-mb", "8")
    assert code == 2 and "zip bomb" not in err and "padded.keras" in err, err
    # the commands that read models without a MODEL argument take the flag too
    code, err, _, _ = run_measured("verify", "--reference", CNN, "--candidate", bomb, "--data", TEST, "--max-drop", "1",
                                   "--max-uncompressed-mb", "1")
    assert code == 2 and "--max-uncompressed-mb" in err, err
    run_modelpress("export", FIXTURES / "models" / "keras3" / "cnn.keras", "-o", tmp_path / "b.onnx",
                   "--max-uncompressed-mb", "64", "-q")
    assert (tmp_path / "b.onnx").is_file()


def test_nan_weights_warn_by_layer_and_strict_refuses(tmp_path):
    model = tmp_path / "nan.h5"
    shutil.copyfile(CNN, model)
    with h5py.File(model, "r+") as f:
        kernel = f["model_weights/dense/cnn/dense/kernel"]
        values = kernel[()]
        values[0, :3] = np.nan
        values[1, 0] = np.inf
        kernel[()] = values
        total = values.size + f["model_weights/dense/cnn/dense/bias"].size
    proc = run_modelpress("export", model, "-o", tmp_path / "a.onnx", "-q")
    assert f"layer 'dense': 4 of {total} weights are NaN or Inf" in proc.stderr, proc.stderr
    assert proc.stderr.count("warning:") == 1  # only the damaged layer
    proc = run_modelpress("export", model, "-o", tmp_path / "b.onnx", "--strict", expect=2)
    assert "nan.h5" in proc.stderr and "layer 'dense'" in proc.stderr and "4 of" in proc.stderr
    assert not (tmp_path / "b.onnx").exists()
    # verify, and a pipeline's stages (child processes), refuse under --strict as well
    proc = run_modelpress("verify", "--reference", CNN, "--candidate", model, "--data", TEST, "--max-drop", "1",
                          "--strict", expect=2)
    assert "nan.h5" in proc.stderr and "layer 'dense'" in proc.stderr, proc.stderr
    pipeline = ROOT / "pipelines" / "digits-cnn-int8.yaml"
    out = tmp_path / "run"
    run_modelpress("run", pipeline, "--set", f"model={model}", "--out", out, "--strict", "-q", expect=2)
    assert "layer 'dense'" in next(out.rglob("01-quantize/stderr.txt")).read_text()


# SIGKILL at random points: the output is the old file or the complete new one, a rerun succeeds
# and leaves no partial file.
KILLED_COMMANDS = {
    "export": ["export", CNN, "-o", "{out}"],
    "quantize": ["quantize", CNN, "-o", "{out}", "--calibration", TRAIN, "--format", "qdq"],
    "prune": ["prune", CNN, "-o", "{out}", "--sparsity", "0.5"],
    "distill": ["distill", "--teacher", FIXTURES / "models" / "keras3" / "mlp.h5", "--student", "dense:16",
                "--data", TRAIN, "--epochs", "2", "--seed", "3", "-o", "{out}"],
    "predict": ["predict", CNN, "--data", TEST, "-o", "{out}"],
}


@pytest.mark.parametrize("command", sorted(KILLED_COMMANDS))
def test_sigkill_leaves_the_old_or_the_complete_new_output(command, tmp_path):
    suffix = ".h5" if command == "predict" else ".onnx"
    args = lambda out: [str(a).format(out=out) for a in KILLED_COMMANDS[command]] + ["-q"]
    reference = tmp_path / f"reference{suffix}"
    run_modelpress(*args(reference))
    out = tmp_path / f"out{suffix}"
    old = b"the previous output\n"
    rng = random.Random(f"kill:{command}")
    start = time.monotonic()
    run_modelpress(*args(tmp_path / f"timing{suffix}"))
    clean_seconds = time.monotonic() - start
    for attempt in range(6):
        out.write_bytes(old)
        proc = subprocess.Popen([BINARY, *args(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0, clean_seconds))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        now = out.read_bytes()
        if suffix == ".onnx":
            assert now in (old, reference.read_bytes()), f"attempt {attempt}: a partial or different file"
        else:  # HDF5 outputs carry no timestamps either: complete means the same predictions
            if now != old:
                with h5py.File(out) as a, h5py.File(reference) as b:
                    np.testing.assert_array_equal(a["y_pred"][()], b["y_pred"][()])
    run_modelpress(*args(out))
    if suffix == ".onnx":
        assert out.read_bytes() == reference.read_bytes()
        onnx.checker.check_model(onnx.load(out))
    assert not [p.name for p in tmp_path.iterdir() if ".partial" in p.name]


# `run` and `batch` write a folder: after a SIGKILL of the parent at a random point, every
# model and report in it is absent, the old one or the complete new one, no stage process is
# left running, and the rerun reuses every stage that had finished (its stage.json) and ends
# with the clean run's bytes.
PIPELINE = ROOT / "pipelines" / "digits-cnn-int8.yaml"


def folder_command(command: str, tmp_path: Path) -> list[str | Path]:
    if command == "run":
        return ["run", PIPELINE]
    manifest = tmp_path / "batch.yaml"
    manifest.write_text(f"""version: 1
entries:
  - pipeline: {PIPELINE}
  - pipeline: {PIPELINE}
    model: {FIXTURES / 'models' / 'keras2' / 'cnn.h5'}
""")
    return ["batch", manifest, "--jobs", "2"]


def written_files(folder: Path) -> dict[str, bytes]:
    """The models and JSON reports under `folder` (logs are appended to, not replaced)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.suffix in (".onnx", ".json") and ".partial" not in p.name}


def processes_writing_to(folder: Path) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and str(folder) in (proc / "cmdline").read_bytes().decode(errors="replace"):
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


@pytest.mark.parametrize("command", ["run", "batch"])
def test_sigkill_of_run_or_batch_leaves_complete_files_and_the_rerun_uses_the_cache(command, tmp_path):
    base = folder_command(command, tmp_path)
    reference_out = tmp_path / "reference"
    start = time.monotonic()
    run_modelpress(*base, "--out", reference_out, "-q")
    clean_seconds = time.monotonic() - start
    models = lambda files: {k: v for k, v in files.items() if k.endswith(".onnx")}  # JSON carries times
    reference = models(written_files(reference_out))
    rng = random.Random(f"kill:{command}")
    out = tmp_path / "out"
    for attempt in range(6):
        proc = subprocess.Popen([BINARY, *map(str, base), "--out", str(out), "-q"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0, clean_seconds))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 1  # stages check for their parent every 0.2 s
        while processes_writing_to(out) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not processes_writing_to(out), f"attempt {attempt}: stage processes outlived their killed parent"
        for name, data in written_files(out).items():
            if name.endswith(".json"):
                json.loads(data)
            else:
                assert data == reference[name], f"attempt {attempt}: {name} is partial or different"
        finished = [p.parent for p in out.rglob("stage.json")]
        run_modelpress(*base, "--out", out, "-q")
        for stage in finished:  # run.log holds the last run's lines
            log = (stage.parent.parent / "run.log").read_text()
            assert f"cached ({stage.name})" in log, f"attempt {attempt}: finished stage {stage} ran again"
        assert models(written_files(out)) == reference
        assert not [p for p in out.rglob("*") if ".partial" in p.name]
        if attempt % 2:
            shutil.rmtree(out)  # half the attempts start from an empty folder


def mount_small_tmpfs(path: Path, size: str) -> bool:
    path.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True).returncode == 0


# Disk sizes: too small for the one output file; for run and batch, room for the first stages
# only (the stage's own write, the copy of the artifact or the reports then fail).
DISK_FULL = {"export": "8k", "quantize": "8k", "prune": "8k", "distill": "8k", "predict": "8k", "run": "40k",
             "batch": "120k"}


@pytest.mark.parametrize("command", sorted(DISK_FULL))
def test_disk_full_gives_exit_2_naming_the_file_and_no_partial_file(command, tmp_path):
    full = tmp_path / "full"
    if not mount_small_tmpfs(full, DISK_FULL[command]):
        pytest.skip("needs root to mount a small tmpfs")
    try:
        if command in ("run", "batch"):
            proc = run_modelpress(*folder_command(command, tmp_path), "--out", full / "out", "-q", expect=2)
            for model in full.rglob("*.onnx"):
                onnx.checker.check_model(onnx.load(model))  # what was written is complete
        else:
            out = full / ("model.h5" if command == "predict" else "model.onnx")
            args = [str(a).format(out=out) for a in KILLED_COMMANDS[command]]
            if command == "distill":
                args[args.index("dense:16")] = "dense:256"  # 200 KB of weights
            proc = run_modelpress(*args, expect=2)
            assert out.name in proc.stderr, proc.stderr
            assert list(full.iterdir()) == [], list(full.iterdir())
        assert "no space left on device" in proc.stderr.lower(), proc.stderr
        assert "Fatal error" not in proc.stderr and "Backtrace" not in proc.stderr
        assert ".partial" not in proc.stderr, proc.stderr  # the message names the output, not its temporary
        assert not [p for p in full.rglob("*") if ".partial" in p.name]
    finally:
        subprocess.run(["umount", str(full)])


def test_a_batch_entry_that_crashes_libhdf5_does_not_stop_its_siblings(tmp_path):
    # With containment off, the entry's own process dies of SIGSEGV inside libhdf5.
    manifest = tmp_path / "batch.yaml"
    pipeline = ROOT / "pipelines" / "digits-cnn-int8.yaml"
    manifest.write_text(f"""version: 1
entries:
  - pipeline: {pipeline}
  - pipeline: {pipeline}
    model: {REGRESSIONS / 'keras3-vlen-attribute-segv.h5'}
""")
    out = tmp_path / "out"
    env = dict(os.environ, MODELPRESS_HDF5_PROBE="0")
    proc = subprocess.run([BINARY, "batch", manifest, "--jobs", "2", "--out", out], capture_output=True, text=True,
                          env=env, timeout=600)
    assert proc.returncode == 2, proc.stderr
    status = {e["name"]: e["status"] for e in json.loads((out / "summary.json").read_text())["entries"]}
    assert sorted(status.values()) == ["error", "passed"], status
