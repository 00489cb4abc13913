#!/usr/bin/env python3
"""Engine speed on sequence models: `modelpress bench` against onnxruntime on the same ONNX file
(the one `modelpress export` writes for Keras models; the PyTorch files as they are), one
thread each, batch 1 and 32, interleaved, median of 3 repetitions. Prints a Markdown table.

    OPENBLAS_NUM_THREADS=1 .test-venv/bin/python scripts/bench/sequence_vs_ort.py [--binary .build/release/modelpress]
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

ROOT = Path(__file__).resolve().parents[2]
MODELS = [
    ("Embedding → 2 LSTM (16 steps)", "fixtures/models/keras3/lstm_text.keras"),
    ("Bidirectional LSTM / GRU / RNN (32 steps)", "fixtures/models/keras3/bidirectional.keras"),
    ("Transformer encoder, 3 attention layers (16 steps)", "fixtures/models/keras3/transformer.keras"),
    ("PyTorch 2-layer bidirectional LSTM (32 steps)", "fixtures/onnx/torch_sequence/lstm_bi_opset17.onnx"),
    ("BERT, 2 layers, hidden 32 (16 tokens)", "fixtures/onnx/transformers/bert_opset17.onnx"),
]
TYPES = {"tensor(float)": np.float32, "tensor(int32)": np.int32, "tensor(int64)": np.int64}


def mp_rate(binary, model, batch, seconds):
    out = subprocess.run([binary, "bench", model, "--batch-size", str(batch), "--threads", "1", "--seconds", str(seconds),
                          "--warmup", "2", "--json"], check=True, capture_output=True, text=True).stdout
    return json.loads(out)["samples_per_second"]


def ort_rate(path, batch, seconds):
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = 1, 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(42)
    feeds = {}
    for i in session.get_inputs():
        shape = [batch] + [d for d in i.shape[1:]]
        dtype = TYPES[i.type]
        feeds[i.name] = rng.integers(0, 8, shape).astype(dtype) if dtype != np.float32 else rng.uniform(-1, 1, shape).astype(np.float32)
    for _ in range(2):
        session.run(None, feeds)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        session.run(None, feeds)
        n += 1
    return n * batch / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=str(ROOT / ".build/release/modelpress"))
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--repetitions", type=int, default=3)
    args = parser.parse_args()
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for title, rel in MODELS:
            model = ROOT / rel
            onnx_file = model if model.suffix == ".onnx" else Path(tmp) / (model.stem + ".onnx")
            if onnx_file != model:
                subprocess.run([args.binary, "export", str(model), "-o", str(onnx_file), "-q"], check=True)
            for batch in (1, 32):
                mp, rt = [], []
                for rep in range(args.repetitions):
                    order = [("mp", lambda: mp.append(mp_rate(args.binary, str(onnx_file), batch, args.seconds))),
                             ("ort", lambda: rt.append(ort_rate(onnx_file, batch, args.seconds)))]
                    for _, run in (order if rep % 2 == 0 else order[::-1]):
                        run()
                m, o = statistics.median(mp), statistics.median(rt)
                rows.append((title, batch, m, o, m / o))
                print(f"{title} batch {batch}: ModelPress {m:.0f}/s onnxruntime {o:.0f}/s ({m / o:.2f}x)", flush=True)
    print("\n| model | batch | ModelPress samples/s | onnxruntime samples/s | MP / ORT |\n|---|---:|---:|---:|---:|")
    for title, batch, m, o, r in rows:
        print(f"| {title} | {batch} | {m:,.0f} | {o:,.0f} | {r:.2f} |")


if __name__ == "__main__":
    main()
