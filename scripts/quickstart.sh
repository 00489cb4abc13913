#!/usr/bin/env bash
# The main job on the shipped fixtures, from a fresh machine: installs what it needs, builds
# modelpress (release), then inspects, evaluates, exports and checks a real Keras model.
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
if "$mp" help export >/dev/null 2>&1; then
  echo "== export → $out/digits_cnn.onnx"
  "$mp" export "$model" -o "$out/digits_cnn.onnx"
  echo "== eval the exported ONNX file (the bytes that ship)"
  "$mp" eval "$out/digits_cnn.onnx" --data "$data"
fi
echo "== predict → $out/predictions.h5"
"$mp" predict "$model" --data "$data" -o "$out/predictions.h5"
echo "done: artifacts in $out/"
