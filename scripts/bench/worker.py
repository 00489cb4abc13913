#!/usr/bin/env python3
"""Long-lived benchmark worker for one framework at one thread count.

    worker.py keras THREADS      Keras 3 (TensorFlow backend) on the .h5 file
    worker.py ort THREADS        onnxruntime (CPUExecutionProvider) on an .onnx file

run.py starts one worker per (framework, thread count) so that TensorFlow's thread pools
are configured before TF initialises, and so that models are loaded once and reused across
repetitions. Protocol: one JSON request per line on stdin, one JSON reply per line on the
original stdout (everything the frameworks print goes to stderr).

Requests:
    {"cmd": "bench", "model": PATH, "batch": B, "seconds": S, "warmup": W, "method": M?}
        Keras methods: "call" = model(x, training=False) on a tf.Tensor (eager), then .numpy();
        "predict_on_batch" = model.predict_on_batch(x) on a numpy array;
        "tf.function" = tf.function(lambda t: model(t, training=False)) on a tf.Tensor, then
        .numpy() (graph mode, how one serves a Keras model in a loop). Without "method" all
        three are probed (W warm-up batches each, then ~S/4 s each) and the fastest is
        measured; the reply names it and carries the probe rates.
    {"cmd": "outputs", "model": PATH, "batch": B, "seed": K}   first output, as a list
    {"cmd": "info"}                                             versions, thread settings
    {"cmd": "quit"}
"""
import json
import os
import sys
import time

KIND = sys.argv[1]
THREADS = int(sys.argv[2])

# Keep the protocol channel clean: frameworks may print to stdout.
_proto = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
sys.stdout = sys.stderr

import numpy as np  # noqa: E402

if KIND == "keras":
    import tensorflow as tf  # noqa: E402
    # Must run before TF creates its thread pools (i.e. before any op executes).
    tf.config.threading.set_intra_op_parallelism_threads(THREADS)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.set_visible_devices([], "GPU")
    import keras  # noqa: E402
elif KIND == "ort":
    import onnxruntime as ort  # noqa: E402
else:
    raise SystemExit(f"unknown worker kind {KIND!r}")

_models = {}
KERAS_METHODS = ("call", "predict_on_batch", "tf.function")


def inputs_for(shape, batch, seed):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1.0, 1.0, size=(batch,) + tuple(shape)).astype(np.float32)


def load(path):
    if path in _models:
        return _models[path]
    t0 = time.perf_counter()
    if KIND == "keras":
        m = keras.models.load_model(path, compile=False)
        shape = tuple(int(d) for d in m.inputs[0].shape[1:])
        entry = {"model": m, "shape": shape}
    else:
        so = ort.SessionOptions()
        so.intra_op_num_threads = THREADS
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sess = ort.InferenceSession(path, sess_options=so, providers=["CPUExecutionProvider"])
        inp = sess.get_inputs()[0]
        shape = tuple(int(d) for d in inp.shape[1:])
        entry = {"sess": sess, "input": inp.name, "shape": shape}
    entry["load_seconds"] = time.perf_counter() - t0
    _models[path] = entry
    return entry


def runner(entry, batch, method, seed=0):
    x = inputs_for(entry["shape"], batch, seed)
    if KIND == "ort":
        sess, name = entry["sess"], entry["input"]
        feed = {name: x}
        return lambda: sess.run(None, feed)[0]
    model = entry["model"]
    if method == "call":
        xt = tf.constant(x)
        return lambda: model(xt, training=False).numpy()
    if method == "predict_on_batch":
        return lambda: model.predict_on_batch(x)
    if method == "tf.function":
        fn = entry.get("tf_function")
        if fn is None:
            fn = entry["tf_function"] = tf.function(lambda t: model(t, training=False), reduce_retracing=True)
        xt = tf.constant(x)
        return lambda: fn(xt).numpy()
    raise ValueError(f"unknown method {method!r}")


def timed(fn, seconds, warmup):
    """Same rule as `modelpress bench`: warm-up batches, then batches until ≥ seconds."""
    for _ in range(warmup):
        fn()
    n = 0
    t0 = time.perf_counter()
    while True:
        fn()
        n += 1
        el = time.perf_counter() - t0
        if el >= seconds:
            return n, el


def bench(req):
    entry = load(req["model"])
    batch, seconds, warmup = int(req["batch"]), float(req["seconds"]), int(req["warmup"])
    method = req.get("method")
    probe = None
    if KIND == "keras" and not method:
        probe = {}
        for m in KERAS_METHODS:
            n, el = timed(runner(entry, batch, m), seconds / 4, warmup)
            probe[m] = n * batch / el
        method = max(probe, key=probe.get)
        warmup = 1  # the chosen path is already warm
    if KIND == "ort":
        method = "session.run"
    fn = runner(entry, batch, method)
    n, el = timed(fn, seconds, warmup)
    return {"samples_per_second": n * batch / el, "ms_per_batch": 1000 * el / n, "batches": n,
            "seconds": el, "method": method, "probe": probe, "load_seconds": entry["load_seconds"]}


def info():
    d = {"kind": KIND, "threads": THREADS, "numpy": np.__version__}
    if KIND == "keras":
        d.update(tensorflow=tf.__version__, keras=keras.__version__,
                 intra_op=tf.config.threading.get_intra_op_parallelism_threads(),
                 inter_op=tf.config.threading.get_inter_op_parallelism_threads(),
                 onednn=os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on)"))
    else:
        d.update(onnxruntime=ort.__version__, providers=ort.get_available_providers())
    return d


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        try:
            cmd = req["cmd"]
            if cmd == "quit":
                break
            if cmd == "bench":
                rep = bench(req)
            elif cmd == "outputs":
                entry = load(req["model"])
                y = runner(entry, int(req["batch"]), "predict_on_batch" if KIND == "keras" else None,
                           seed=int(req.get("seed", 0)))()
                rep = {"outputs": np.asarray(y, dtype=np.float64).ravel().tolist()}
            elif cmd == "info":
                rep = info()
            else:
                raise ValueError(f"unknown cmd {cmd!r}")
            rep["ok"] = True
        except Exception as e:  # report, keep serving
            import traceback
            traceback.print_exc()
            rep = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        _proto.write(json.dumps(rep) + "\n")
        _proto.flush()


if __name__ == "__main__":
    main()
