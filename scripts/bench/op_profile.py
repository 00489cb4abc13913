#!/usr/bin/env python3
"""Where the time goes, in both engines: `modelpress bench --profile` and onnxruntime's own
profiler on the same exported ONNX file, one thread, time per batch by op kind
(convolutions split into depthwise / 1×1 / k×k in both, read from onnxruntime's optimized
graph). Prints a Markdown table per model and batch size.

    .test-venv/bin/python scripts/bench/op_profile.py [--binary .build/release/modelpress]
        [--models fixtures/models/keras3/mobilenetv2_96.h5,...] [--batches 1,32] [--seconds 3]
"""
import argparse
import collections
import json
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

ROOT = Path(__file__).resolve().parents[2]


def modelpress_profile(binary: str, model: Path, batch: int, seconds: float) -> tuple[dict[str, float], float]:
    """(ms per batch by op kind, total ms per batch) from `bench --profile`."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    text = subprocess.run([binary, "bench", str(model), "--batch-size", str(batch), "--threads", "1", "--seconds", str(seconds), "--profile"],
                          capture_output=True, text=True, env=env, check=True).stdout
    total = float(re.search(r"\(([0-9.]+) ms/batch", text).group(1))
    share = {}
    for line in text.splitlines():
        m = re.match(r"^(.+?)\s{2,}[0-9.]+\s+([0-9.]+)%\s+\d+$", line)
        if m:
            share[m.group(1).strip()] = float(m.group(2)) / 100 * total
    return share, total


def conv_kind(node: onnx.NodeProto) -> str:
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    if attrs.get("group", 1) > 1:
        return "Conv depthwise/grouped"
    kernel = attrs.get("kernel_shape")
    return f"Conv {kernel[0]}×{kernel[1]}" if kernel and len(kernel) == 2 else "Conv"


def ort_profile(model: Path, batch: int, seconds: float, work: Path) -> tuple[dict[str, float], float]:
    """(ms per batch by op kind, total ms per batch) from onnxruntime's profiler."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.optimized_model_filepath = str(work / "optimized.onnx")
    ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])  # writes the optimized graph
    nodes = {n.name: n for n in onnx.load(str(work / "optimized.onnx")).graph.node}
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.enable_profiling = True
    options.profile_file_prefix = str(work / "ort")
    session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    first = session.get_inputs()[0]
    shape = [batch] + [d if isinstance(d, int) else 1 for d in first.shape[1:]]
    x = np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)
    for _ in range(3):
        session.run(None, {first.name: x})
    runs, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        session.run(None, {first.name: x})
        runs += 1
    events = json.load(open(session.end_profiling()))
    by_kind: dict[str, float] = collections.defaultdict(float)
    model_runs = [e["dur"] for e in events if e.get("cat") == "Session" and e.get("name") == "model_run"]
    for e in events:
        if e.get("cat") != "Node" or not e["name"].endswith("_kernel_time"):
            continue
        op, node = e["args"].get("op_name", "?"), nodes.get(e["name"][: -len("_kernel_time")])
        kind = conv_kind(node) if node is not None and op in ("Conv", "FusedConv") else op
        by_kind[kind] += e["dur"] / 1000
    n = len(model_runs)  # warm-up runs included: every run is profiled
    return {k: v / n for k, v in by_kind.items()}, float(np.median(model_runs[3:] or model_runs)) / 1000


def cell(ms: float | None) -> str:
    return f"{ms:.3f}" if ms is not None else "–"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=str(ROOT / ".build" / "release" / "modelpress"))
    parser.add_argument("--models", default="fixtures/models/keras3/mobilenetv2_96.h5,fixtures/models/keras3/cnn.h5")
    parser.add_argument("--batches", default="1,32")
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    ort.set_default_logger_severity(3)  # the optimized graph is saved only to read its convolutions' attributes
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        for model in args.models.split(","):
            exported = work / (Path(model).stem + ".onnx")
            subprocess.run([args.binary, "export", str(ROOT / model), "-o", str(exported), "-q"], check=True)
            for batch in map(int, args.batches.split(",")):
                ours, our_total = modelpress_profile(args.binary, exported, batch, args.seconds)
                theirs, their_total = ort_profile(exported, batch, args.seconds, work)
                print(f"\n### {Path(model).name}, batch {batch}: ModelPress {our_total:.3f} ms, onnxruntime {their_total:.3f} ms per batch "
                      f"({their_total / our_total:.2f}×)\n")
                print("| op kind | ModelPress ms | onnxruntime ms | ModelPress / onnxruntime |")
                print("|---|---:|---:|---:|")
                kinds = sorted(set(ours) | set(theirs), key=lambda k: -max(ours.get(k, 0), theirs.get(k, 0)))
                for kind in kinds:
                    a, b = ours.get(kind), theirs.get(kind)
                    print(f"| {kind} | {cell(a)} | {cell(b)} | {f'{a / b:.1f}×' if a and b else '–'} |")

if __name__ == "__main__":
    main()
