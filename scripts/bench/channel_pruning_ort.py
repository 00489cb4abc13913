"""Channel-pruned models in onnxruntime: parameters, MACs, file size and latency (batch 1 and
32, one intra-op thread, median per run, best of REPEATS runs) of the unpruned export against
`modelpress prune --structure channel` at a few sparsities, with and without
`--channel-multiple 8`. Prints a Markdown table (docs/benchmarks.md, "Channel pruning").

    MODELPRESS=.build/release/modelpress .test-venv/bin/python scripts/bench/channel_pruning_ort.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

ROOT = Path(__file__).resolve().parents[2]
BINARY = os.environ.get("MODELPRESS", str(ROOT / ".build" / "debug" / "modelpress"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "2"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
CASES = [
    ("keras3/cnn", [8, 8, 1], [None, ("0.5", "1")]),
    ("keras3/mobilenetv2_96", [96, 96, 3], [None, ("0.3", "1"), ("0.3", "8"), ("0.5", "1"), ("0.5", "8")]),
]


def latency_ms(path: Path, shape: list[int], batch: int) -> float:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).random([batch, *shape], dtype=np.float32)
    name = session.get_inputs()[0].name
    best = float("inf")
    for _ in range(REPEATS):
        for _ in range(3):
            session.run(None, {name: x})
        times = []
        start = time.perf_counter()
        while time.perf_counter() - start < SECONDS:
            t = time.perf_counter()
            session.run(None, {name: x})
            times.append(time.perf_counter() - t)
        best = min(best, float(np.median(times)))
    return 1000 * best


def main() -> None:
    rows = ["| model | pruning | params | MACs / sample | ONNX bytes | ms, batch 1 | ms, batch 32 |",
            "|---|---|---:|---:|---:|---:|---:|"]
    with tempfile.TemporaryDirectory() as tmp:
        for model, shape, variants in CASES:
            source = ROOT / "fixtures" / "models" / f"{model}.h5"
            for variant in variants:
                out = Path(tmp) / f"{model.replace('/', '-')}-{variant}.onnx"
                if variant is None:
                    subprocess.run([BINARY, "export", source, "-o", out, "-q"], check=True)
                    report = json.loads(subprocess.run([BINARY, "prune", source, "-o", out.with_suffix(".tmp"), "--structure", "channel",
                                                        "--sparsity", "0", "--json"], check=True, capture_output=True, text=True).stdout)
                    label, params, macs = "none (export)", report["parametersBefore"], report["macsBefore"]
                else:
                    sparsity, multiple = variant
                    report = json.loads(subprocess.run([BINARY, "prune", source, "-o", out, "--structure", "channel", "--sparsity", sparsity,
                                                        "--channel-multiple", multiple, "--json"], check=True, capture_output=True, text=True).stdout)
                    label = f"channel {sparsity}" + (f", multiple {multiple}" if multiple != "1" else "")
                    params, macs = report["parametersAfter"], report["macsAfter"]
                b1, b32 = latency_ms(out, shape, 1), latency_ms(out, shape, 32)
                rows.append(f"| {model} | {label} | {params:,} | {macs:,} | {out.stat().st_size:,} | {b1:.3f} | {b32:.2f} |")
                print(rows[-1], file=sys.stderr)
    print("\n".join(rows))
    print(f"\nonnxruntime {ort.__version__}, CPUExecutionProvider, 1 thread; best of {REPEATS} runs of the median over {SECONDS:g} s.")


if __name__ == "__main__":
    main()
