#!/usr/bin/env bash
# Distillation benchmark on the digits fixtures (docs/benchmarks.md, "Distillation").
#
#   scripts/distill-benchmark.sh THREADS SEEDS distill|train [extra modelpress flags…]
#
# Runs `modelpress distill` (teacher fixtures/models/keras3/mlp.h5) or `modelpress train` with
# student dense:64,32 on x_flat for seeds 1..SEEDS (release build, OPENBLAS_NUM_THREADS=THREADS),
# then prints test accuracy mean ± std (population std, as numpy) and the median seconds per
# epoch (epoch 1 excluded, as for Keras). The Keras side: fixtures/make_fixtures.sh --distill-reference.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
threads=$1 seeds=$2 command=$3
shift 3
binary=.build/release/modelpress
[[ -x $binary ]] || { echo "build first: flock /tmp/swift-build.lock swift build -c release --product modelpress" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
teacher=()
[[ $command == distill ]] && teacher=(--teacher fixtures/models/keras3/mlp.h5)
for seed in $(seq 1 "$seeds"); do
    OPENBLAS_NUM_THREADS=$threads "$binary" "$command" "${teacher[@]}" --student dense:64,32 \
        --data fixtures/data/digits_train.h5 --student-x-key x_flat --validation fixtures/data/digits_test.h5 \
        -o "$work/student.onnx" --seed "$seed" --log "$work/log$seed.json" -q "$@"
done
python3 - "$work" "$seeds" <<'PY'
import json, statistics, sys
work, seeds = sys.argv[1], int(sys.argv[2])
acc, times = [], []
for s in range(1, seeds + 1):
    log = json.load(open(f"{work}/log{s}.json"))
    acc.append(log["val_accuracy"])
    times += [e["seconds"] for e in log["epochs"][1:]]
print(f"test accuracy {statistics.mean(acc):.4f} ± {statistics.pstdev(acc):.4f} over seeds 1-{seeds} "
      f"(min {min(acc):.4f}, max {max(acc):.4f}); median {statistics.median(times) * 1000:.2f} ms/epoch")
PY
