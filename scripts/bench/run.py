#!/usr/bin/env python3
"""ModelPress benchmark driver (run by scripts/benchmark.sh with the fixture venv's python).

Measures, in one run on one machine:
  * inference throughput of the ModelPress engine (`modelpress bench`), Keras 3 (TF backend)
    on the same .h5, and onnxruntime on the ONNX file `modelpress export` wrote, for every
    model × batch × thread count; engines are interleaved cell by cell and the engine order
    rotates between repetitions; the median over repetitions is reported;
  * raw sgemm GFLOP/s (system OpenBLAS via ctypes and numpy's bundled OpenBLAS) as the
    ceiling for GEMM-bound engines, measured inside every repetition;
  * export wall time: `modelpress export` vs `python -m tf2onnx.convert --keras`.
Writes Markdown (--md) and raw JSON (--json).
"""
import argparse
import datetime as dt
import importlib.metadata as md
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

MODELS = {
    # key: (title, path relative to repo)
    "cnn": ("Digits CNN (8×8×1)", "fixtures/models/keras3/cnn.h5"),
    "mobilenetv2_96": ("MobileNetV2 α0.35 (96×96×3)", "fixtures/models/keras3/mobilenetv2_96.h5"),
    "resnet50": ("ResNet50 (224×224×3)", "fixtures/large/resnet50.h5"),
}
ENGINES = ("modelpress", "keras", "ort")
BIG_CELL_MACS = 1e10  # MACs per batch above which warm-up is 1 batch instead of 2


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def try_sh(cmd):
    try:
        return sh(cmd).strip()
    except Exception:
        return None


# ---------------------------------------------------------------------------- environment

def base_env():
    env = dict(os.environ)
    env.update(PYTHONHASHSEED="0", CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="2",
               KERAS_BACKEND="tensorflow", PYTHONUNBUFFERED="1")
    # The fixture generator turns these off for determinism; a benchmark wants defaults.
    for k in ("TF_ENABLE_ONEDNN_OPTS", "TF_DETERMINISTIC_OPS", "TF_CUDNN_DETERMINISTIC", "TF_USE_LEGACY_KERAS"):
        env.pop(k, None)
    return env


KEEP_MARKER = "<!-- Generated above by scripts/bench/run.py; everything below this line is hand-written and kept on re-runs. -->"


def thread_env(threads, coretype_auto=False):
    env = base_env()
    t = str(threads)
    env.update(OPENBLAS_NUM_THREADS=t, OMP_NUM_THREADS=t, MKL_NUM_THREADS=t,
               TF_NUM_INTRAOP_THREADS=t, TF_NUM_INTEROP_THREADS="1")
    if coretype_auto:
        env.pop("OPENBLAS_CORETYPE", None)
    return env


def machine_info(mp):
    lscpu = try_sh(["lscpu"]) or ""
    f = {}
    for line in lscpu.splitlines():
        k, _, v = line.partition(":")
        f[k.strip()] = v.strip()
    blas_real = os.path.realpath("/lib/x86_64-linux-gnu/libopenblas.so.0")
    owner = try_sh(["dpkg", "-S", blas_real])
    blas_pkg = owner.split(":")[0] if owner else None
    blas_ver = try_sh(["dpkg-query", "-W", "-f=${Version}", blas_pkg]) if blas_pkg else None
    mem = None
    try:
        with open("/proc/meminfo") as fh:
            mem = round(int(fh.readline().split()[1]) / 1024 / 1024, 1)
    except Exception:
        pass
    pkgs = {}
    for p in ("tensorflow-cpu", "tensorflow", "keras", "tf-keras", "onnxruntime", "onnx", "tf2onnx",
              "numpy", "h5py", "protobuf"):
        try:
            pkgs[p] = md.version(p)
        except md.PackageNotFoundError:
            pass
    git = try_sh(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    dirty = try_sh(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no", "--", "Sources", "Package.swift"])
    return {
        "date_utc": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu_model": f.get("Model name"), "cpus": os.cpu_count(),
        "threads_per_core": f.get("Thread(s) per core"), "hypervisor": f.get("Hypervisor vendor"),
        "cpu_flags_avx512f": "avx512f" in f.get("Flags", ""),
        "mem_gib": mem, "kernel": platform.release(), "os": try_sh(["sh", "-c", ". /etc/os-release; echo $PRETTY_NAME"]),
        "loadavg_start": os.getloadavg(),
        "swift": (try_sh(["swift", "--version"]) or "").splitlines()[0] if try_sh(["swift", "--version"]) else None,
        "modelpress": try_sh([mp, "--version"]), "git": git, "git_dirty_sources": bool(dirty),
        "openblas_lib": blas_real, "openblas_package": blas_pkg, "openblas_version": blas_ver,
        "python": platform.python_version(), "python_packages": pkgs,
        "env": {k: v for k, v in os.environ.items() if k.startswith(("OPENBLAS_", "OMP_", "MKL_", "TF_ENABLE_ONEDNN"))},
    }


# ---------------------------------------------------------------------------- workers

class Worker:
    def __init__(self, kind, threads):
        self.kind, self.threads = kind, threads
        self.p = subprocess.Popen([sys.executable, str(HERE / "worker.py"), kind, str(threads)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr(),
                                  text=True, env=thread_env(threads), cwd=ROOT)

    def _stderr(self):
        self.errpath = Path(os.environ.get("BENCH_WORKDIR", "/tmp")) / f"worker-{self.kind}-{self.threads}.log"
        return open(self.errpath, "w")

    def ask(self, **req):
        self.p.stdin.write(json.dumps(req) + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.kind} worker ({self.threads} threads) died; see {self.errpath}")
        rep = json.loads(line)
        if not rep.get("ok"):
            raise RuntimeError(f"{self.kind} worker: {rep.get('error')} (see {self.errpath})")
        return rep

    def close(self):
        try:
            self.p.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
            self.p.stdin.close()
            self.p.wait(timeout=30)
        except Exception:
            self.p.kill()


# ---------------------------------------------------------------------------- measurements

def mp_bench(mp, model, batch, threads, seconds, warmup, coretype_auto=False):
    out = sh([mp, "bench", model, "--batch-size", str(batch), "--seconds", str(seconds),
              "--warmup", str(warmup), "--threads", str(threads), "--json"],
             env=thread_env(threads, coretype_auto), cwd=ROOT)
    d = json.loads(out)
    return {"samples_per_second": d["samples_per_second"], "ms_per_batch": d["ms_per_batch"],
            "batches": d["batches"], "seconds": d["seconds"], "threads_reported": d.get("threads")}


def sgemm(threads, seconds, coretype_auto=False):
    out = sh([sys.executable, str(HERE / "sgemm.py"), str(seconds)], env=thread_env(threads, coretype_auto))
    return json.loads(out)


def timed_process(cmd, env, cwd=ROOT):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    el = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"{shlex.join(cmd)} failed ({r.returncode}):\n{r.stderr[-3000:]}")
    return el


def export_times(cmd, env, out_file, max_reps=3, single_if_over=10.0):
    """Wall time of a whole process; repeated (median) unless one run takes > single_if_over s."""
    times = []
    for _ in range(max_reps):
        Path(out_file).unlink(missing_ok=True)
        times.append(timed_process(cmd, env))
        if times[0] > single_if_over:
            break
    return {"seconds": statistics.median(times), "runs": times, "bytes": Path(out_file).stat().st_size}


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


# ---------------------------------------------------------------------------- report

def fmt(x, nd=1):
    if x is None:
        return "–"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.{nd}f}"
    return f"{x:.{max(nd, 2)}f}"


def ratio(a, b):
    return a / b if a and b else None


def write_markdown(path, R):
    m, cfg = R["machine"], R["config"]
    pk = m["python_packages"]
    L = []
    a = L.append
    a("# ModelPress benchmarks")
    a("")
    a("Generated by `scripts/bench/run.py`; do not edit by hand (except `## Analysis`). "
      "Raw numbers: [`benchmarks.json`](benchmarks.json).")
    a("")
    a("Reproduce (from a fresh checkout; installs system packages, builds release, creates "
      "`fixtures/.venv` and the `--large` ResNet50 fixture when missing):")
    a("")
    a("```sh")
    a("bash scripts/benchmark.sh")
    a("# options: BENCH_SECONDS=3 (per measurement)  BENCH_REPEATS=3  BENCH_MODELS=cnn,mobilenetv2_96,resnet50")
    a("#          FIXTURE_VENV=/path/to/venv (reuse a venv that has fixtures/requirements.txt)")
    a("```")
    a("")
    a(f"This run: `{cfg['command']}`, {fmt(R['wall_seconds'] / 60, 1)} min wall for the measurements.")
    a("")
    a("## Machine and versions")
    a("")
    a("| | |")
    a("| --- | --- |")
    a(f"| date | {m['date_utc']} |")
    a(f"| CPU | {m['cpu_model']} — {m['cpus']} logical CPUs, {m['threads_per_core']} thread(s)/core"
      f"{', AVX-512' if m['cpu_flags_avx512f'] else ''}{', VM (' + m['hypervisor'] + ')' if m['hypervisor'] else ''} |")
    a(f"| memory / OS | {m['mem_gib']} GiB, {m['os']}, Linux {m['kernel']} |")
    la = m["loadavg_start"]
    le = m.get("loadavg_end") or (float("nan"),) * 3
    a(f"| load average (1/5/15 min) at start / end | {la[0]:.2f} {la[1]:.2f} {la[2]:.2f} / {le[0]:.2f} {le[1]:.2f} {le[2]:.2f} "
      "(anything above ~0 means other work shared the CPUs) |")
    a(f"| Swift | {m['swift']} |")
    a(f"| ModelPress | `{m['modelpress']}`, git {m['git']}{' + uncommitted changes in Sources/' if m['git_dirty_sources'] else ''} |")
    a(f"| OpenBLAS (linked by modelpress) | {m['openblas_package']} {m['openblas_version']} (`{m['openblas_lib']}`), "
      f"kernels: {R['sgemm_info']['system_corename']} |")
    a(f"| numpy's bundled OpenBLAS | {R['sgemm_info']['numpy_blas']}, kernels: {R['sgemm_info']['numpy_corename']} |")
    a(f"| Python | {m['python']}: " + ", ".join(f"{k} {v}" for k, v in pk.items()) + " |")
    env = m["env"]
    a(f"| BLAS/threading env inherited | {', '.join(f'`{k}={v}`' for k, v in sorted(env.items())) or 'none'} |")
    a("")
    a("## How it is measured")
    a("")
    a(f"* Each cell: warm-up ({cfg['warmup_small']} batches; {cfg['warmup_big']} when a batch is > "
      f"{BIG_CELL_MACS:.0e} MACs), then batches until ≥ {cfg['seconds']} s have passed; images/s = "
      f"batches·B / elapsed. Model loading is excluded. Inputs are seeded uniform [-1, 1) float32, "
      f"channels-last as the Keras model declares them.")
    a(f"* {cfg['repeats']} repetitions; every repetition measures every cell with all engines back to back "
      "(engine order rotates from cell to cell and repetition to repetition), so all engines see the "
      "same machine state. Tables show the **median** over repetitions.")
    a("* **ModelPress**: `modelpress bench MODEL --batch-size B --threads T --seconds S --warmup W --json` with "
      "`OPENBLAS_NUM_THREADS=T` (one process per measurement).")
    a("* **Keras**: Keras 3 with the TensorFlow backend loads the same `.h5` (`keras.models.load_model(compile=False)`); "
      "one long-lived process per thread count with `tf.config.threading` intra-op = T, inter-op = 1 (set before TF "
      "initialises), oneDNN at TF's default (on). In the first repetition three ways to run it are probed for S/4 s each "
      "(after warm-up): eager `model(x, training=False)` on a `tf.Tensor` then `.numpy()` (*call*), "
      "`model.predict_on_batch(x)` on a numpy array, and the same call wrapped in `tf.function` (*tf.function*, graph "
      "mode); the fastest is used for that cell in every repetition and the *Keras path* column says which "
      "(probe rates for all three are in `benchmarks.json`).")
    a("* **onnxruntime**: `InferenceSession` on the file `modelpress export` wrote (opset 13, NHWC input kept), "
      "`CPUExecutionProvider`, `intra_op_num_threads = T`, `inter_op_num_threads = 1`, sequential execution, "
      "`ORT_ENABLE_ALL`; one long-lived process per thread count.")
    a("* **GFLOP/s** (ModelPress) = 2 · MACs/image (`modelpress inspect --json` → `totals.macs`) · images/s.")
    a("")

    # ---- models
    a("## Models")
    a("")
    a("| model | file | params | MACs / image | ModelPress ONNX bytes | max \\|ORT(ModelPress ONNX) − Keras\\| |")
    a("| --- | --- | ---: | ---: | ---: | ---: |")
    for key, mi in R["models"].items():
        a(f"| {mi['title']} | `{mi['path']}` | {mi['parameters']:,} | {mi['macs']:,} | "
          f"{R['export'][key]['modelpress']['bytes']:,} | {mi.get('parity_max_abs_diff', float('nan')):.2e} |")
    a("")

    # ---- throughput
    a("## Inference throughput (images/s, higher is better)")
    a("")
    a("| model | batch | threads | ModelPress | Keras | onnxruntime | MP / Keras | MP / ORT | MP GFLOP/s | Keras path |")
    a("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for c in R["cells"]:
        s = c["summary"]
        a(f"| {R['models'][c['model']]['title']} | {c['batch']} | {c['threads']} | {fmt(s['modelpress'])} | "
          f"{fmt(s['keras'])} | {fmt(s['ort'])} | {fmt(ratio(s['modelpress'], s['keras']), 2)} | "
          f"{fmt(ratio(s['modelpress'], s['ort']), 2)} | {fmt(s['modelpress_gflops'])} | {c.get('keras_method', '–')} |")
    a("")
    a("Ratios > 1 mean ModelPress is faster. Per-repetition values and ms/batch are in `benchmarks.json`.")
    a("")
    if R.get("coretype_whatif"):
        ct = m["env"].get("OPENBLAS_CORETYPE")
        a(f"### What-if: ModelPress with OpenBLAS kernel auto-detection")
        a("")
        a(f"This environment sets `OPENBLAS_CORETYPE={ct}`, which pins OpenBLAS to those kernels "
          f"(auto-detection on this CPU picks `{R['sgemm_info'].get('system_corename_auto')}`). "
          "Keras (oneDNN/Eigen) and onnxruntime (MLAS) do not use OpenBLAS and are unaffected. "
          "Same cells, measured in the same repetitions with `OPENBLAS_CORETYPE` removed from ModelPress's environment:")
        a("")
        a("| model | batch | threads | ModelPress (env) | ModelPress (auto) | auto / env | auto / Keras | auto / ORT | GFLOP/s (auto) |")
        a("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for c in R["cells"]:
            s = c["summary"]
            a(f"| {R['models'][c['model']]['title']} | {c['batch']} | {c['threads']} | {fmt(s['modelpress'])} | "
              f"{fmt(s.get('modelpress_auto'))} | {fmt(ratio(s.get('modelpress_auto'), s['modelpress']), 2)} | "
              f"{fmt(ratio(s.get('modelpress_auto'), s['keras']), 2)} | {fmt(ratio(s.get('modelpress_auto'), s['ort']), 2)} | "
              f"{fmt(s.get('modelpress_auto_gflops'))} |")
        a("")

    # ---- sgemm
    a("## sgemm reference (GFLOP/s, float32, best you can get from one GEMM call)")
    a("")
    a("Measured in every repetition (median shown), row-major C = A·B, 2·M·N·K flops per call. "
      "*system* = the Debian `libopenblas.so.0` that modelpress links, called via ctypes `cblas_sgemm`; "
      "*numpy* = `numpy.matmul` on float32, which uses **numpy's own bundled OpenBLAS** "
      f"({R['sgemm_info']['numpy_blas']}), not the system library. Threads via `OPENBLAS_NUM_THREADS`.")
    a("")
    a("| library | kernels | threads | 1024×1024×1024 | 256×3136×2304 (ResNet 3×3 conv, 256 ch, 56×56) |")
    a("| --- | --- | ---: | ---: | ---: |")
    for row in R["sgemm_summary"]:
        a(f"| {row['library']} | {row['corename']} | {row['threads']} | {fmt(row['1024x1024x1024'])} | "
          f"{fmt(row['resnet_conv_256x3136x2304'])} |")
    a("")

    # ---- export
    a("## Export wall time (seconds, lower is better)")
    a("")
    a("Whole-process wall time, including process start and, for tf2onnx, Python start-up and the TensorFlow/tf2onnx "
      "imports, model load and conversion.")
    a("")
    a(f"* ModelPress: `modelpress export MODEL -o OUT.onnx --opset 13 --quiet`.")
    a(f"* tf2onnx: `{R['tf2onnx_cmd_example']}` (tf2onnx {pk.get('tf2onnx')} reads the Keras 3 `.h5` directly "
      "through `tf.keras`, which is Keras 3 here; no `TF_USE_LEGACY_KERAS`). TF default threading.")
    a("* Median of 3 runs, or 1 run when the first one takes more than 10 s.")
    a("")
    a("| model | ModelPress s | tf2onnx s | tf2onnx / ModelPress | ModelPress ONNX bytes | tf2onnx ONNX bytes |")
    a("| --- | ---: | ---: | ---: | ---: | ---: |")
    for key, e in R["export"].items():
        mpe, t2 = e["modelpress"], e.get("tf2onnx") or {}
        t2s = (f"{t2['seconds']:.2f} ({len(t2['runs'])}×)" if "seconds" in t2
               else ("failed (see JSON)" if "error" in t2 else "not run"))
        a(f"| {R['models'][key]['title']} | {mpe['seconds']:.2f} ({len(mpe['runs'])}×) | {t2s} | "
          f"{fmt(ratio(t2.get('seconds'), mpe['seconds']), 1)} | {mpe['bytes']:,} | "
          f"{format(t2['bytes'], ',') if 'bytes' in t2 else '–'} |")
    a("")
    # Everything from the marker on is written by people (analysis, sections other issues
    # add) and kept across re-runs; only the measured part above it is regenerated.
    a(KEEP_MARKER)
    kept = "\n## Analysis\n\n_To be written after a run on a quiet machine._\n"
    if Path(path).exists():
        old = Path(path).read_text()
        if KEEP_MARKER in old:
            kept = old.split(KEEP_MARKER, 1)[1]
    Path(path).write_text("\n".join(L) + kept)


# ---------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--modelpress")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--batches", default="1,32")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--workdir", default=str(ROOT / "out" / "bench"))
    ap.add_argument("--md", default=str(ROOT / "docs" / "benchmarks.md"))
    ap.add_argument("--json", default=str(ROOT / "docs" / "benchmarks.json"))
    ap.add_argument("--no-export", action="store_true", help="skip the tf2onnx export timing")
    ap.add_argument("--coretype-whatif", choices=("auto", "on", "off"), default="auto",
                    help="also bench ModelPress with OPENBLAS_CORETYPE removed (auto: when it is set)")
    ap.add_argument("--command", default=None, help="command line to print in the report")
    ap.add_argument("--render", metavar="JSON", help="only re-render --md from an existing benchmarks.json")
    args = ap.parse_args()
    if args.render:
        write_markdown(args.md, json.loads(Path(args.render).read_text()))
        return

    if not args.modelpress:
        ap.error("--modelpress is required")
    t_start = time.perf_counter()
    mp = os.path.abspath(args.modelpress)
    work = Path(args.workdir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    os.environ["BENCH_WORKDIR"] = str(work)
    keys = [k.strip() for k in args.models.split(",") if k.strip()]
    for k in keys:
        if k not in MODELS:
            sys.exit(f"unknown model {k!r}; choose from {', '.join(MODELS)}")
    batches = [int(b) for b in args.batches.split(",")]
    threads = [int(t) for t in args.threads.split(",")]
    whatif = args.coretype_whatif == "on" or (args.coretype_whatif == "auto" and os.environ.get("OPENBLAS_CORETYPE"))

    R = {"schema": 1, "config": {"seconds": args.seconds, "repeats": args.repeats, "models": keys,
                                  "batches": batches, "threads": threads, "warmup_small": 2, "warmup_big": 1,
                                  "command": args.command or "bash scripts/benchmark.sh"},
         "machine": machine_info(mp), "models": {}, "export": {}, "cells": [], "sgemm_runs": [],
         "coretype_whatif": bool(whatif)}

    # ---- models: MACs, export (timed)
    for k in keys:
        title, rel = MODELS[k]
        path = str(ROOT / rel)
        if not Path(path).exists():
            sys.exit(f"missing {rel} (run fixtures/make_fixtures.sh{' --large' if 'large' in rel else ''})")
        info = json.loads(sh([mp, "inspect", path, "--json"], cwd=ROOT))
        R["models"][k] = {"title": title, "path": rel, "macs": info["totals"]["macs"],
                          "parameters": info["totals"]["parameters"], "inputs": info["inputs"]}
        onnx_mp = work / f"{k}.modelpress.onnx"
        onnx_t2o = work / f"{k}.tf2onnx.onnx"
        log(f"export {k}: modelpress")
        e = {"modelpress": export_times([mp, "export", path, "-o", str(onnx_mp), "--opset", "13", "--quiet"],
                                        thread_env(os.cpu_count()), onnx_mp)}
        if not args.no_export:
            log(f"export {k}: tf2onnx")
            cmd = [sys.executable, "-m", "tf2onnx.convert", "--keras", path, "--output", str(onnx_t2o), "--opset", "13"]
            R["tf2onnx_cmd_example"] = "python -m tf2onnx.convert --keras MODEL.h5 --output OUT.onnx --opset 13"
            try:
                e["tf2onnx"] = export_times(cmd, base_env(), onnx_t2o)
            except RuntimeError as err:
                log(f"tf2onnx failed on {k}: {err}")
                e["tf2onnx"] = {"error": str(err)[-500:]}
            log(f"export {k}: modelpress {e['modelpress']['seconds']:.2f} s, tf2onnx {e['tf2onnx'].get('seconds', float('nan')):.2f} s")
        R["export"][k] = e
        R["models"][k]["onnx"] = str(onnx_mp)

    # ---- workers
    log("starting Keras and onnxruntime workers")
    workers = {}
    try:
        for t in threads:
            workers[("keras", t)] = Worker("keras", t)
            workers[("ort", t)] = Worker("ort", t)
        R["worker_info"] = {f"{kind}-{t}": w.ask(cmd="info") for (kind, t), w in workers.items()}

        # parity: ORT on ModelPress's ONNX vs Keras on the .h5 (guards against benchmarking a wrong graph)
        for k in keys:
            path, onnx_mp = str(ROOT / MODELS[k][1]), R["models"][k]["onnx"]
            yk = workers[("keras", threads[0])].ask(cmd="outputs", model=path, batch=2, seed=7)["outputs"]
            yo = workers[("ort", threads[0])].ask(cmd="outputs", model=onnx_mp, batch=2, seed=7)["outputs"]
            R["models"][k]["parity_max_abs_diff"] = max(abs(a - b) for a, b in zip(yk, yo))
            log(f"parity {k}: max |ORT - Keras| = {R['models'][k]['parity_max_abs_diff']:.2e}")

        cells = []
        for k in keys:
            for b in batches:
                for t in threads:
                    macs_batch = R["models"][k]["macs"] * b
                    cells.append({"model": k, "batch": b, "threads": t,
                                  "warmup": 1 if macs_batch > BIG_CELL_MACS else 2,
                                  "runs": {e: [] for e in ENGINES + (("modelpress_auto",) if whatif else ())}})
        R["cells"] = cells
        sgemm_seconds = max(0.3, min(args.seconds / 3, 0.75))
        for rep in range(args.repeats):
            log(f"repetition {rep + 1}/{args.repeats}: sgemm")
            for t in threads:
                R["sgemm_runs"].append({"rep": rep, "threads": t, "coretype_auto": False, **sgemm(t, sgemm_seconds)})
                if whatif:
                    R["sgemm_runs"].append({"rep": rep, "threads": t, "coretype_auto": True,
                                            **sgemm(t, sgemm_seconds, coretype_auto=True)})
            for ci, c in enumerate(cells):
                k, b, t, w = c["model"], c["batch"], c["threads"], c["warmup"]
                path = str(ROOT / MODELS[k][1])
                order = list(c["runs"])
                shift = (ci + rep) % len(order)
                order = order[shift:] + order[:shift]
                for eng in order:
                    if eng == "modelpress":
                        r = mp_bench(mp, path, b, t, args.seconds, w)
                    elif eng == "modelpress_auto":
                        r = mp_bench(mp, path, b, t, args.seconds, w, coretype_auto=True)
                    elif eng == "keras":
                        r = workers[("keras", t)].ask(cmd="bench", model=path, batch=b, seconds=args.seconds,
                                                      warmup=w, method=c.get("keras_method"))
                        c["keras_method"] = r["method"]
                        if r.get("probe"):
                            c["keras_probe"] = r["probe"]
                    else:
                        r = workers[("ort", t)].ask(cmd="bench", model=R["models"][k]["onnx"], batch=b,
                                                    seconds=args.seconds, warmup=w)
                    r["rep"] = rep
                    c["runs"][eng].append(r)
                log(f"  {k} b={b} t={t}: " + ", ".join(
                    f"{e} {c['runs'][e][-1]['samples_per_second']:.1f}" for e in c["runs"]) + " img/s")
    finally:
        for w in workers.values():
            w.close()

    # ---- summaries
    for c in R["cells"]:
        macs = R["models"][c["model"]]["macs"]
        s = {e: med([r["samples_per_second"] for r in runs]) for e, runs in c["runs"].items()}
        s["modelpress_gflops"] = 2 * macs * s["modelpress"] / 1e9 if s.get("modelpress") else None
        if s.get("modelpress_auto"):
            s["modelpress_auto_gflops"] = 2 * macs * s["modelpress_auto"] / 1e9
        s["mp_over_keras"] = ratio(s["modelpress"], s["keras"])
        s["mp_over_ort"] = ratio(s["modelpress"], s["ort"])
        c["summary"] = s
    rows = []
    for auto in ([False, True] if whatif else [False]):
        for t in threads:
            runs = [r for r in R["sgemm_runs"] if r["threads"] == t and r["coretype_auto"] == auto]
            for lib in ("system", "numpy"):
                label = "system OpenBLAS (modelpress)" if lib == "system" else "numpy (bundled OpenBLAS)"
                if whatif:
                    label += " — OPENBLAS_CORETYPE unset" if auto else " — env as is"
                rows.append({"library": label, "corename": runs[0][lib]["corename"], "threads": t, "coretype_auto": auto,
                             **{shape: med([r[lib]["gflops"][shape] for r in runs])
                                for shape in runs[0][lib]["gflops"]}})
    R["sgemm_summary"] = rows
    first = R["sgemm_runs"][0]
    auto_runs = [r for r in R["sgemm_runs"] if r["coretype_auto"]]
    R["sgemm_info"] = {"system_corename": first["system"]["corename"], "numpy_corename": first["numpy"]["corename"],
                       "numpy_blas": f"{first['numpy'].get('name')} {first['numpy'].get('version')}",
                       "system_corename_auto": auto_runs[0]["system"]["corename"] if auto_runs else None}
    R.setdefault("tf2onnx_cmd_example", "python -m tf2onnx.convert --keras MODEL.h5 --output OUT.onnx --opset 13")
    R["wall_seconds"] = time.perf_counter() - t_start
    R["machine"]["loadavg_end"] = os.getloadavg()
    Path(args.json).write_text(json.dumps(R, indent=1) + "\n")
    write_markdown(args.md, R)
    log(f"wrote {args.md} and {args.json} in {R['wall_seconds'] / 60:.1f} min")


if __name__ == "__main__":
    main()
