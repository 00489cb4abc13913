#!/usr/bin/env bash
# Benchmark ModelPress against Keras 3 (TF backend) and onnxruntime, plus raw sgemm and
# export wall time vs tf2onnx; writes docs/benchmarks.md and docs/benchmarks.json.
#
#   bash scripts/benchmark.sh
#
# From a fresh machine it installs the Debian packages, builds modelpress (release),
# creates fixtures/.venv from fixtures/requirements.txt (first time ~600 MB from PyPI) and
# generates the gitignored ResNet50 fixture (fixtures/large/). ~15 min at the defaults on
# a 2-core machine. Run it on a quiet machine: the engines are interleaved so they see
# the same load, but anything else running makes all numbers noisy.
#
# Environment:
#   BENCH_SECONDS   seconds per measurement (default 3)
#   BENCH_REPEATS   repetitions; tables show the median (default 3)
#   BENCH_MODELS    comma-separated subset of: cnn,mobilenetv2_96,resnet50 (default all)
#   BENCH_BATCHES   default 1,32          BENCH_THREADS   default 1,2
#   BENCH_OUT       report directory (default docs/)   BENCH_WORKDIR (default out/bench)
#   BENCH_CORETYPE_WHATIF auto|on|off   also bench ModelPress with OPENBLAS_CORETYPE unset
#                   (auto = only when the environment sets OPENBLAS_CORETYPE)
#   BENCH_NO_TF2ONNX=1  skip the tf2onnx export timing
#   FIXTURE_VENV    reuse an existing venv that has fixtures/requirements.txt installed
#   SWIFT_BUILD_LOCK  flock file wrapped around `swift build` (default /tmp/swift-build.lock)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

scripts/install-system-packages.sh

echo "== building modelpress (release)"
lock=${SWIFT_BUILD_LOCK:-/tmp/swift-build.lock}
build() { if command -v flock >/dev/null; then flock "$lock" "$@"; else "$@"; fi; }
buildlog="$(mktemp)"
if ! build swift build -c release --product modelpress >"$buildlog" 2>&1; then
    grep -E "error:" "$buildlog" | head -20 >&2 || tail -20 "$buildlog" >&2
    echo "error: release build failed (full log: $buildlog)" >&2; exit 3
fi
grep -E "Build complete|Compiling modelpress" "$buildlog" || true
rm -f "$buildlog"
mp="$(swift build -c release --show-bin-path)/modelpress"
[[ -x "$mp" ]] || { echo "error: $mp missing after the build" >&2; exit 3; }

# --- fixture venv: $FIXTURE_VENV, else fixtures/.venv created/updated like make_fixtures.sh does
if [[ -n "${FIXTURE_VENV:-}" ]]; then
    venv="$FIXTURE_VENV"
    [[ -x "$venv/bin/python" ]] || { echo "FIXTURE_VENV=$venv has no bin/python" >&2; exit 1; }
else
    venv="$root/fixtures/.venv"
    # make_fixtures.sh owns venv creation; --summary-only makes it create/update the venv
    # (requirements stamp) and then just check the committed files.
    echo "== fixture venv ($venv)"
    fixtures/make_fixtures.sh --summary-only >/dev/null
fi
py="$venv/bin/python"
"$py" -c "import tensorflow, keras, onnxruntime, tf2onnx, onnx, h5py, numpy" 2>/dev/null || {
    echo "error: $venv lacks the fixture requirements (fixtures/requirements.txt)" >&2; exit 1; }

# --- ResNet50 (gitignored, --large). Generated into a scratch directory so the committed
# fixtures are not rewritten, then only large/ is moved into place.
models=${BENCH_MODELS:-cnn,mobilenetv2_96,resnet50}
if [[ ",$models," == *",resnet50,"* && ! -s fixtures/large/resnet50.h5 ]]; then
    echo "== generating fixtures/large/ (ResNet50, ~100 MB; a few minutes)"
    scratch="$(mktemp -d "${TMPDIR:-/tmp}/modelpress-large.XXXXXX")"
    trap 'rm -rf "$scratch"' EXIT
    FIXTURE_VENV="$venv" fixtures/make_fixtures.sh --large --out "$scratch" >/dev/null
    mkdir -p fixtures/large
    for f in resnet50.h5 imagenet_like_224.h5 expected_resnet50.h5; do
        mv -f "$scratch/large/$f" fixtures/large/
    done
fi

echo "== benchmarking (BENCH_SECONDS=${BENCH_SECONDS:-3}, BENCH_REPEATS=${BENCH_REPEATS:-3}, models $models)"
out=${BENCH_OUT:-docs}
mkdir -p "$out"
args=(--modelpress "$mp" --seconds "${BENCH_SECONDS:-3}" --repeats "${BENCH_REPEATS:-3}"
      --models "$models" --batches "${BENCH_BATCHES:-1,32}" --threads "${BENCH_THREADS:-1,2}"
      --workdir "${BENCH_WORKDIR:-out/bench}" --md "$out/benchmarks.md" --json "$out/benchmarks.json"
      --coretype-whatif "${BENCH_CORETYPE_WHATIF:-auto}")
[[ "${BENCH_NO_TF2ONNX:-}" == 1 ]] && args+=(--no-export)
cmdline="bash scripts/benchmark.sh"
for v in BENCH_SECONDS BENCH_REPEATS BENCH_MODELS BENCH_BATCHES BENCH_THREADS BENCH_CORETYPE_WHATIF BENCH_NO_TF2ONNX; do
    [[ -n "${!v:-}" ]] && cmdline="$v=${!v} $cmdline"
done
"$py" scripts/bench/run.py "${args[@]}" --command "$cmdline"
echo "done: $out/benchmarks.md"
