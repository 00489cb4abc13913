#!/usr/bin/env python3
"""ModelPress `quantize --precision int4-weights` vs onnxruntime's `MatMulNBitsQuantizer`
(block 32), on the same float ONNX files (issue 15).

For every trained fixture with Dense layers: export the float ONNX with ModelPress (opset 21;
its Gemm nodes rewritten as MatMul + Add for onnxruntime's quantizer, which quantizes MatMul
only), then quantize the weights to 4 bits in blocks of 32 along K with
  * ModelPress: symmetric and asymmetric, round-to-nearest and MSE-clipped scales, and the
    activation-aware option (`--calibration digits_train.h5 --activation-aware`);
  * onnxruntime 1.32: `DefaultWeightOnlyQuantConfig(block_size=32, is_symmetric=…)`, MatMulNBits.
Reports test top-1 and output MSE against float in onnxruntime (graph optimizations off: with
them onnxruntime runs DequantizeLinear → MatMul through its own MatMulNBits kernels), and the
bytes of the quantized kernels (codes, scales, zero points) against their float32 bytes.

Usage: int4_vs_onnxruntime.py MODELPRESS_BINARY REPO_ROOT [WORKDIR]   (in .test-venv)
"""
import logging
import subprocess
import sys
import tempfile
from pathlib import Path

import h5py
import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper
from onnxruntime.quantization import QuantFormat
from onnxruntime.quantization.matmul_nbits_quantizer import DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer

MODELS = {"keras3/mlp": "digits_test", "keras3/digits_transformer": "digits_rows_test", "keras3/digits_lstm": "digits_rows_test"}


def gemm_as_matmul(model):
    nodes = []
    for n in model.graph.node:
        if n.op_type == "Gemm":
            nodes += [helper.make_node("MatMul", list(n.input[:2]), [n.output[0] + "/mm"], name=n.name + "/mm"),
                      helper.make_node("Add", [n.output[0] + "/mm", n.input[2]], [n.output[0]], name=n.name)]
        else:
            nodes.append(n)
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    return model


def run(path, x):
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    s = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return s.run(None, {s.get_inputs()[0].name: x})[0]


def kernel_bytes(path):
    """Initializers of two or more dimensions or of 4 / 8-bit codes: the kernels and their blocks."""
    small = {onnx.TensorProto.INT4, onnx.TensorProto.UINT4, onnx.TensorProto.UINT8, onnx.TensorProto.INT8}
    return sum(t.ByteSize() - len(t.name) for t in onnx.load(path).graph.initializer
               if t.data_type in small or (len(t.dims) >= 2 and t.dims[0] > 1))


def main() -> int:
    logging.getLogger("onnxruntime.quantization").setLevel(logging.WARNING)
    binary, root = sys.argv[1], Path(sys.argv[2])
    work = Path(sys.argv[3]) if len(sys.argv) > 3 else Path(tempfile.mkdtemp())
    fixtures = root / "fixtures"
    print("| model | method | top-1 | output MSE vs float | kernel bytes (× float32) |")
    print("|---|---|---:|---:|---:|")
    for model, data in MODELS.items():
        stem = model.replace("/", "-")
        source = fixtures / "models" / f"{model}.h5"
        flt = work / f"{stem}.onnx"
        subprocess.run([binary, "export", source, "-o", flt, "--opset", "21", "-q"], check=True)
        onnx.save(gemm_as_matmul(onnx.load(flt)), work / f"{stem}-matmul.onnx")
        with h5py.File(fixtures / "data" / f"{data}.h5", "r") as f:
            x, y = f["x"][()].astype(np.float32), f["y"][()]
        reference = run(flt, x)
        float_kernels = kernel_bytes(flt)
        rows = [("float32", flt)]
        for symmetric in (True, False):
            out = work / f"{stem}-ort-{symmetric}.onnx"
            q = MatMulNBitsQuantizer(onnx.load(work / f"{stem}-matmul.onnx"),
                                     algo_config=DefaultWeightOnlyQuantConfig(block_size=32, is_symmetric=symmetric, quant_format=QuantFormat.QOperator))
            q.process()
            q.model.save_model_to_file(str(out))
            rows.append((f"onnxruntime, {'symmetric' if symmetric else 'asymmetric'}", out))
        for scheme in ("symmetric", "asymmetric"):
            for scales in ("rtn", "mse"):
                out = work / f"{stem}-{scheme}-{scales}.onnx"
                subprocess.run([binary, "quantize", source, "-o", out, "-q", "--precision", "int4-weights",
                                "--weight-scheme", scheme, "--block-scales", scales], check=True)
                rows.append((f"ModelPress, {scheme}, {scales}", out))
        out = work / f"{stem}-aware.onnx"
        subprocess.run([binary, "quantize", source, "-o", out, "-q", "--precision", "int4-weights", "--activation-aware",
                        "--calibration", fixtures / "data" / "digits_train.h5"], check=True)
        rows.append(("ModelPress, symmetric, mse, activation-aware", out))
        for name, path in rows:
            p = run(path, x)
            print(f"| {model} | {name} | {100 * np.mean(np.argmax(p, 1) == y):.2f} % | {np.mean((p - reference) ** 2):.2e} | "
                  f"{kernel_bytes(path):,} ({kernel_bytes(path) / float_kernels:.3f}×) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
