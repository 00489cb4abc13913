#!/usr/bin/env bash
# Engine speed of this checkout against another commit, interleaved on the same machine:
# `modelpress bench` (one thread) of both release builds on the same exported ONNX files,
# median samples/s over repeats. For "figures within noise" checks of refactors.
#
#   bash scripts/bench-compare.sh BASE_COMMIT        # e.g. 80fa5e9
#
# Environment: COMPARE_MODELS (default keras3/cnn,keras3/mobilenetv2_96), COMPARE_BATCHES
# (default 1,32), COMPARE_REPEATS (default 5), COMPARE_SECONDS (default 1.5), COMPARE_BASE_TREE
# (a checkout to build BASE_COMMIT in, default out/bench-compare/base-tree),
# SWIFT_BUILD_LOCK (flock file around each build, default /tmp/swift-build.lock).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
base=${1:?usage: bench-compare.sh BASE_COMMIT}
work=${COMPARE_WORKDIR:-out/bench-compare}
mkdir -p "$work"
lock=${SWIFT_BUILD_LOCK:-/tmp/swift-build.lock}
build() { (cd "$1" && flock "$lock" swift build -c release --product modelpress >/dev/null) && echo "$1/.build/release/modelpress"; }

tree=${COMPARE_BASE_TREE:-$work/base-tree}   # an existing checkout of BASE_COMMIT may be reused
[[ -d "$tree" ]] || git worktree add -f --detach "$tree" "$base" >/dev/null
git -C "$tree" checkout -q --detach "$base"
echo "== building $base and this checkout (release)"
before=$(build "$tree")
after=$(build .)

IFS=, read -ra models <<< "${COMPARE_MODELS:-keras3/cnn,keras3/mobilenetv2_96}"
IFS=, read -ra batches <<< "${COMPARE_BATCHES:-1,32}"
repeats=${COMPARE_REPEATS:-5}
seconds=${COMPARE_SECONDS:-1.5}
rate() { OPENBLAS_NUM_THREADS=1 "$1" bench "$2" --batch-size "$3" --threads 1 --seconds "$seconds" --json \
           | python3 -c 'import json, sys; print(json.load(sys.stdin)["samples_per_second"])'; }
results="$work/results.txt"
: > "$results"
for m in "${models[@]}"; do
  onnx="$work/$(basename "$m").onnx"
  "$after" export "fixtures/models/$m.h5" -o "$onnx" -q
  for b in "${batches[@]}"; do
    for ((r = 1; r <= repeats; r++)); do
      echo "$m $b before $(rate "$before" "$onnx" "$b")" >> "$results"
      echo "$m $b after $(rate "$after" "$onnx" "$b")" >> "$results"
    done
  done
done
python3 - "$results" "$base" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    model, batch, which, value = line.split()
    runs[(model, int(batch), which)].append(float(value))
print(f"| model | batch | {sys.argv[2]} (samples/s) | this checkout | ratio | spread of {sys.argv[2]} |")
print("|---|---:|---:|---:|---:|---:|")
for model, batch in sorted({(m, b) for m, b, _ in runs}):
    before, after = runs[(model, batch, "before")], runs[(model, batch, "after")]
    mb, ma = statistics.median(before), statistics.median(after)
    print(f"| {model} | {batch} | {mb:.0f} | {ma:.0f} | {ma / mb:.3f} | {min(before) / mb:.2f}–{max(before) / mb:.2f} |")
PY
