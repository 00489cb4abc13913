#!/usr/bin/env bash
# The main job on the shipped fixtures, from a fresh machine: installs what it needs, builds
# modelpress (release), then runs the example pipeline pipelines/digits-cnn-int8.yaml —
# int8-quantize the digits CNN (entropy calibration), export the ONNX file, and verify the
# shipped file against the original (exit 1 if a gate fails) — and prints its report.
# Artifacts go to ${OUT:-out}/digits-cnn-int8/. A second run finds every stage in the cache.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-system-packages.sh
echo "== building modelpress (release)"
swift build -c release --product modelpress 2>&1 | grep -E "error|warning: unre|Compiling modelpress|Build complete" || true
mp=$(swift build -c release --show-bin-path)/modelpress
[ -x "$mp" ] || { echo "error: build failed" >&2; exit 3; }
out=${OUT:-out}

echo "== the model: fixtures/models/keras3/cnn.h5"
"$mp" inspect fixtures/models/keras3/cnn.h5
echo "== modelpress run pipelines/digits-cnn-int8.yaml --out $out"
status=0
"$mp" run pipelines/digits-cnn-int8.yaml --out "$out" || status=$?
echo "== $out/digits-cnn-int8/report.md"
cat "$out/digits-cnn-int8/report.md"
exit $status
