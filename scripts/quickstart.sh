#!/usr/bin/env bash
# The main job on the shipped fixtures, from a fresh machine: installs what it needs, builds
# modelpress (release), then inspects and evaluates a real Keras model, exports it to ONNX,
# compresses it to int8, verifies the shipped file against the original (exit 1 if the gate
# fails) and writes the reports.
# Artifacts go to ${OUT:-out/quickstart}.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-system-packages.sh
echo "== building modelpress (release)"
swift build -c release --product modelpress 2>&1 | grep -E "error|warning: unre|Compiling modelpress|Build complete" || true
mp=$(swift build -c release --show-bin-path)/modelpress
[ -x "$mp" ] || { echo "error: build failed" >&2; exit 3; }
out=${OUT:-out/quickstart}
mkdir -p "$out"
model=fixtures/models/keras3/cnn.h5
data=fixtures/data/digits_test.h5

echo "== inspect $model"
"$mp" inspect "$model"
echo "== eval (ModelPress engine)"
"$mp" eval "$model" --data "$data"
echo "== export (float ONNX) → $out/digits_cnn.onnx"
"$mp" export "$model" -o "$out/digits_cnn.onnx"
echo "== compress: static int8 quantization (QDQ), calibrated on the training set → $out/digits_cnn.int8.onnx"
"$mp" quantize "$model" -o "$out/digits_cnn.int8.onnx" --calibration fixtures/data/digits_train.h5
echo "== verify the file that ships against the original (gate: drop ≤ 0.5 points, agreement ≥ 98%)"
"$mp" verify --reference "$model" --candidate "$out/digits_cnn.int8.onnx" --data "$data" \
  --max-drop 0.005 --min-agreement 0.98 \
  --report "$out/verify.json" --markdown "$out/verify.md" --junit "$out/verify.xml"
ls -l "$out/digits_cnn.onnx" "$out/digits_cnn.int8.onnx" | awk '{print $5, $9}'
echo "== predict → $out/predictions.h5"
"$mp" predict "$model" --data "$data" -o "$out/predictions.h5"
echo "done: artifacts in $out/"
