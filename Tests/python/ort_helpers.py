"""onnxruntime and onnx helpers for the cross-checks."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import onnx
from onnx import numpy_helper
import onnxruntime as ort


def _has_vnni() -> bool:
    """Whether the CPU has VNNI (AVX-512 VNNI or AVX-VNNI) integer dot products."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return True
    return any(f in flags for f in ("avx512_vnni", "avx_vnni"))


# Without VNNI, onnxruntime's fused uint8×int8 kernels (the QLinearConv it makes of a QDQ
# Conv) add product pairs in int16 and saturate (2·255·127 > 32767), so they differ from the
# file's defined QDQ meaning; there, graph optimizations stay off and onnxruntime computes
# the QDQ graph as written (DequantizeLinear → float op → QuantizeLinear). See
# docs/quantization.md, "onnxruntime on CPUs without VNNI".
ORT_FUSES_EXACTLY = _has_vnni()


_ORT_TYPES = {"tensor(int64)": np.int64, "tensor(int32)": np.int32, "tensor(float)": np.float32}


def _feeds(inputs, x, rows=slice(None)) -> dict:
    """onnxruntime feeds for `x` (one array for the first input, or input name → array), rows
    `rows`; token ids cast to the integer type the file declares (datasets hold them as numbers)."""
    arrays = x if isinstance(x, dict) else {inputs[0].name: x}
    return {i.name: arrays[i.name][rows].astype(_ORT_TYPES.get(i.type, arrays[i.name].dtype)) for i in inputs if i.name in arrays}


def run_ort(path: Path | bytes, x, threads: int = 1) -> np.ndarray:
    """The first output of the model for input `x` (an array, or input name → array for several
    inputs), in onnxruntime's CPU provider."""
    options = ort.SessionOptions()
    if not ORT_FUSES_EXACTLY:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    source = str(path) if isinstance(path, Path) else path
    if not ORT_FUSES_EXACTLY:
        model = onnx.load(source) if isinstance(source, str) else onnx.load_from_string(source)
        if any(n.op_type in ("QLinearConv", "QLinearMatMul") for n in model.graph.node):
            # onnxruntime's QLinearConv saturates here too: onnx's reference evaluator computes
            # the operators as the specification defines them.
            # Its Quantize/DequantizeLinear start at opset 19, whose meaning for 8-bit tensors
            # with scalar or per-axis scales is opset 13's.
            from onnx.reference import ReferenceEvaluator
            for entry in model.opset_import:
                if entry.domain in ("", "ai.onnx"):
                    entry.version = max(entry.version, 19)
            evaluator = ReferenceEvaluator(model)
            return evaluator.run(None, {model.graph.input[0].name: x})[0]
    session = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
    return session.run(None, _feeds(session.get_inputs(), x))[0]


def without_final_softmax(model: onnx.ModelProto) -> onnx.ModelProto:
    """The same model with its last Softmax removed, so that the output is the logits (the
    model unchanged when it already ends in logits, as the MobileNetV2 fixture does)."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    out = m.graph.output[0].name
    softmax = [n for n in m.graph.node if n.op_type == "Softmax" and n.output[0] == out]
    if not softmax:
        return m
    node = softmax[0]
    logits = node.input[0]
    m.graph.node.remove(node)
    for n in m.graph.node:
        n.input[:] = [out if i == logits else i for i in n.input]
        n.output[:] = [out if o == logits else o for o in n.output]
    kept = [v for v in m.graph.value_info if v.name != logits]
    del m.graph.value_info[:]
    m.graph.value_info.extend(kept)
    return m


def integer_engine_logit_steps(quantized: Path, x: np.ndarray, data: Path, tmp_path: Path) -> np.ndarray:
    """|Δ| in output quantization steps between `modelpress predict --integer` and onnxruntime on
    the logits of a quantized file (its final softmax removed), over every sample of `data`."""
    from conftest import run_modelpress

    logits_model = without_final_softmax(onnx.load(quantized))
    path = tmp_path / "logits.onnx"
    onnx.save(logits_model, path)
    inits = {t.name: numpy_helper.to_array(t) for t in logits_model.graph.initializer}
    out = logits_model.graph.output[0].name
    dq = next(n for n in logits_model.graph.node if n.output[0] == out)
    scale, zero_point = float(inits[dq.input[1]]), int(inits[dq.input[2]])
    theirs = np.rint(run_ort(path, x) / scale).astype(np.int64) + zero_point
    pred = tmp_path / "pred.h5"
    run_modelpress("predict", path, "--data", data, "-o", pred, "--integer", "-q")
    with h5py.File(pred, "r") as f:
        ours = np.rint(f["y_pred"][()] / scale).astype(np.int64) + zero_point
    return np.abs(ours - theirs)


def sqnr(reference: np.ndarray, test: np.ndarray) -> float:
    """Signal-to-quantization-noise ratio of `test` against `reference`, in dB."""
    noise = float(np.sum(np.square(test.astype(np.float64) - reference)))
    return 10 * np.log10(float(np.sum(np.square(reference.astype(np.float64)))) / max(noise, 1e-30))


def ort_quantize_static(float_model, quantized, x) -> None:
    """onnxruntime's own int8 of `float_model` (QDQ, per-channel, MinMax), calibrated on the rows
    of `x` (an array, or input name → array)."""
    from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static

    inputs = ort.InferenceSession(str(float_model), providers=["CPUExecutionProvider"]).get_inputs()
    count = len(next(iter(x.values())) if isinstance(x, dict) else x)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.rows = iter([_feeds(inputs, x, slice(i, i + 1)) for i in range(count)])

        def get_next(self):
            return next(self.rows, None)

    quantize_static(str(float_model), str(quantized), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax)


def ort_sqnr_floor(float_out: np.ndarray, quantized, x: np.ndarray, seeds: int = 6) -> float:
    """The lowest output SQNR (dB, against `float_out`) of onnxruntime's own int8 file
    `quantized` when every activation scale it stores moves by about one float32 ulp (×(1 ± 2e-7),
    the sign drawn per scale with seed 0…seeds−1), the unperturbed file included.

    Two quantizers that compute the same ranges in different float arithmetic end up one ulp
    apart; that flips a few roundings, and on 4–8 random-weight images the output SQNR moves by
    up to ~1.5 dB (measured: torchvision MobileNetV2 21.3–22.4 dB). SQNRs within that spread
    are level."""
    base = onnx.load(str(quantized))
    scales = {n.input[1] for n in base.graph.node if n.op_type == "QuantizeLinear"}
    lowest = sqnr(float_out, run_ort(Path(quantized), x))
    for seed in range(seeds):
        model = onnx.ModelProto()
        model.CopyFrom(base)
        rng = np.random.default_rng(seed)
        for init in model.graph.initializer:
            if init.name in scales:
                a = numpy_helper.to_array(init).astype(np.float32)
                a = (a * np.float32(1 + rng.choice([-1, 1]) * 2e-7)).astype(np.float32)
                init.CopyFrom(numpy_helper.from_array(a, init.name))
        lowest = min(lowest, sqnr(float_out, run_ort(model.SerializeToString(), x)))
    return lowest


def check_against_onnxruntime(tmp_path: Path, model: onnx.ModelProto, x: np.ndarray, atol: float, reexport: bool = True) -> float:
    """Saves `model`, and checks `modelpress predict` on it against onnxruntime on `x` (rtol 1e-5,
    `atol`) and, when `reexport`, onnxruntime on `modelpress export`'s file too. Returns the
    largest |ours − onnxruntime|."""
    from conftest import read_predictions, run_modelpress, write_dataset

    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    theirs = run_ort(path, x)
    out = tmp_path / "pred.h5"
    run_modelpress("predict", path, "--data", write_dataset(tmp_path / "x.h5", x), "-o", out, "-q")
    ours = read_predictions(out)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=atol)
    if reexport:
        exported = tmp_path / "re.onnx"
        run_modelpress("export", path, "-o", exported, "-q")
        np.testing.assert_allclose(run_ort(exported, x), theirs, rtol=1e-5, atol=atol)
    return float(np.max(np.abs(ours - theirs)))
