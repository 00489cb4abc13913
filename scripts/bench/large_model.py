"""Past 2 GB, measured: export, quantize and eval of the synthetic 3.4 GB wide MLP
(fixtures/make_large_mlp.py) with the release build — wall time and peak RSS of each command
(`wait4`), the files written, and ModelPress's probabilities against NumPy's.

    fixtures/.venv/bin/python fixtures/make_large_mlp.py     # once, ~1 min
    swift build -c release
    .test-venv/bin/python scripts/bench/large_model.py [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
LARGE = ROOT / "fixtures" / "large" / "wide_mlp"
BINARY = os.environ.get("MODELPRESS", str(ROOT / ".build" / "release" / "modelpress"))


def measured(*args) -> tuple[float, float, str]:
    """(seconds, peak RSS in GB, stdout) of one command; fails on a non-zero exit."""
    start = time.monotonic()
    proc = subprocess.Popen([BINARY, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    out, err = proc.stdout.read().decode(), proc.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"modelpress {' '.join(map(str, args))} failed:\n{err}")
    return time.monotonic() - start, usage.ru_maxrss / 1024 / 1024, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="modelpress-large-"))
    out.mkdir(parents=True, exist_ok=True)
    model, data = LARGE / "wide_mlp.onnx", LARGE / "inputs.h5"
    if not model.exists():
        raise SystemExit("fixtures/large/wide_mlp/ is missing: run fixtures/.venv/bin/python fixtures/make_large_mlp.py")
    weights = (LARGE / "wide_mlp.onnx.data").stat().st_size
    rows = []
    seconds, rss, _ = measured("export", model, "-o", out / "wide_mlp.onnx", "-q")
    rows.append(("export (reads and writes external data)", seconds, rss))
    seconds, rss, _ = measured("quantize", model, "-o", out / "wide_mlp.int8.onnx", "--calibration", data, "-q")
    rows.append(("quantize int8 (64 calibration samples)", seconds, rss))
    seconds, rss, text = measured("eval", out / "wide_mlp.onnx", "--data", data, "--json")
    rows.append(("eval float, 64 samples", seconds, rss))
    float_accuracy = json.loads(text)["accuracy"]
    seconds, rss, text = measured("eval", out / "wide_mlp.int8.onnx", "--data", data, "--json")
    rows.append(("eval int8, 64 samples", seconds, rss))
    int8_accuracy = json.loads(text)["accuracy"]
    predictions = out / "pred.h5"
    measured("predict", out / "wide_mlp.onnx", "--data", data, "-o", predictions, "-q")
    with h5py.File(predictions) as f, h5py.File(data) as g:
        difference = float(np.max(np.abs(f["y_pred"][()] - g["y_pred"][()])))
    files = {p.name: p.stat().st_size for p in sorted(out.glob("wide_mlp*"))}
    print(f"weights: {weights / 1e9:.2f} GB float32 ({weights // 4:,} values); files: "
          + ", ".join(f"{k} {v / 1e9:.3f} GB" for k, v in files.items()))
    print("| command | wall time | peak RSS | peak RSS / weights |")
    print("|---|---:|---:|---:|")
    for name, seconds, rss in rows:
        print(f"| {name} | {seconds:.1f} s | {rss:.2f} GB | {rss * 1024**3 / weights:.2f}× |")
    print(f"top-1 on its own labels: float {float_accuracy:.4f}, int8 {int8_accuracy:.4f}; "
          f"ModelPress vs NumPy probabilities: max |diff| {difference:.2e}")


if __name__ == "__main__":
    main()
