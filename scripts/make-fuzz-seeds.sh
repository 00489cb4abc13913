#!/usr/bin/env bash
# Regenerates the ONNX and dataset seeds of the fuzz corpus (fixtures/fuzz/seeds/) from the
# committed fixtures with the built binary; the YAML seeds are written by hand.
# Usage: scripts/make-fuzz-seeds.sh [path/to/modelpress]
set -euo pipefail
cd "$(dirname "$0")/.."
mp=${1:-.build/debug/modelpress}
seeds=fixtures/fuzz/seeds
model=fixtures/models/keras3/cnn.h5
"$mp" export "$model" -o "$seeds/cnn.float.onnx" -q
"$mp" quantize "$model" -o "$seeds/cnn.qdq.onnx" --calibration fixtures/data/digits_train.h5 --format qdq -q
"$mp" quantize "$model" -o "$seeds/cnn.qoperator.onnx" --calibration fixtures/data/digits_train.h5 --format qoperator -q
"$mp" prune "$model" -o "$seeds/cnn.sparse.onnx" --sparsity 0.9 --sparse-storage -q
.test-venv/bin/python - "$seeds/digits16.h5" <<'PY'
import sys, h5py
with h5py.File("fixtures/data/digits_test.h5") as src, h5py.File(sys.argv[1], "w") as dst:
    dst.create_dataset("x", data=src["x"][:16])
    dst.create_dataset("y", data=src["y"][:16])
PY
