#!/usr/bin/env python3
"""Export wall time, `modelpress export` vs tf2onnx, for every keras.applications model that
fixtures/make_applications.py --all --tf2onnx wrote (issue 13, docs/benchmarks.md).

  * ModelPress: `modelpress export MODEL.h5 -o OUT.onnx --opset 13 --quiet`, whole process
    (start, reading the .h5, writing the ONNX), median of 3 runs (scripts/bench/run.py's
    export_times).
  * tf2onnx: the conversion time the generator recorded, one run: `tf2onnx.convert.from_function`
    (Keras 3) or `from_keras` (tf-keras) on the model already in memory, opset 13, writing the
    file; Python start-up, the TensorFlow import and building the model are not counted.

Prints a Markdown table; --json writes the raw numbers.

    python scripts/bench/export_vs_tf2onnx.py --modelpress .build/release/modelpress \
        [--apps fixtures/large/applications] [--only resnet50,...] [--json out.json]
"""
import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import ROOT, base_env, export_times  # noqa: E402

SOURCES = {"keras3": "Keras 3 `.h5` (`from_function`)", "keras2": "tf-keras `.h5` (`from_keras`)"}


def title(name, entry):
    extra = ", ".join(f"{k} {v}" for k, v in sorted(entry["kwargs"].items()) if k != "classes")
    return f"{entry['constructor']} ({entry['size']} px{', ' + extra if extra else ''})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--modelpress", required=True)
    ap.add_argument("--apps", type=Path, default=ROOT / "fixtures" / "large" / "applications")
    ap.add_argument("--only", default="")
    ap.add_argument("--workdir", type=Path, default=ROOT / "out" / "bench-export")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    manifest = json.loads((args.apps / "models" / "applications.json").read_text())
    only = {n for n in args.only.split(",") if n}
    args.workdir.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, entry in manifest.items():
        if only and name not in only:
            continue
        for source in SOURCES:
            model = args.apps / "models" / source / "apps" / f"{name}.h5"
            if not model.exists():
                continue
            row = {"model": name, "title": title(name, entry), "source": source}
            out = args.workdir / f"{source}-{name}.onnx"
            try:
                row["modelpress"] = export_times([args.modelpress, "export", str(model), "-o", str(out), "--opset", "13",
                                                  "--quiet"], base_env(), out, max_reps=3, single_if_over=float("inf"))
            except RuntimeError as error:
                row["modelpress"] = {"error": str(error).strip().splitlines()[-1][:300]}
            out.unlink(missing_ok=True)
            t2o = next((e for e in entry.get("tf2onnx", []) if e["source"] == source and e["opset"] == 13), None)
            if t2o and t2o["status"] == "written":
                row["tf2onnx"] = {"seconds": t2o["seconds"], "bytes": (args.apps / t2o["file"]).stat().st_size}
            elif t2o:
                row["tf2onnx"] = {"error": t2o["reason"]}
            rows.append(row)
            print(f"[export] {source}/{name}: {row.get('modelpress')} | {row.get('tf2onnx')}", file=sys.stderr, flush=True)
    rows.sort(key=lambda r: (r["modelpress"].get("bytes", 0), r["model"], r["source"]))
    print("| model | file | ModelPress s (median of 3) | tf2onnx s (1 run) | tf2onnx / ModelPress | ModelPress ONNX bytes | tf2onnx ONNX bytes |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        mp, t2 = r["modelpress"], r.get("tf2onnx") or {}
        cells = [r["title"], SOURCES[r["source"]],
                 f"{mp['seconds']:.2f}" if "seconds" in mp else f"failed: {mp['error']}",
                 f"{t2['seconds']:.2f}" if "seconds" in t2 else f"failed: {t2['error']}" if t2 else "not converted",
                 f"{t2['seconds'] / mp['seconds']:.1f}" if "seconds" in mp and "seconds" in t2 else "–",
                 f"{mp['bytes']:,}" if "bytes" in mp else "–", f"{t2['bytes']:,}" if "bytes" in t2 else "–"]
        print("| " + " | ".join(cells) + " |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
