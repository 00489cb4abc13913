#!/usr/bin/env bash
# Feature distillation against logit-only distillation of the same student (docs/benchmarks.md,
# "Distillation"), paired seeds.
#
#   scripts/feature-distillation-table.sh [SEEDS]     (default 10; MODELPRESS=path picks the binary)
#
# Teacher: the digits CNN (fixtures/models/keras3/cnn.h5). Student: `conv:8,16` (8 and 16 filters).
# Each seed trains the student twice with the same initialisation and shuffling (30 epochs,
# Adam 1e-3, batch 32, T 4, α 0.9): logits only, and with --match pool_1:pool_1,pool_2:pool_2
# (L2, weight 1; learned projections 8 → 16 and 16 → 32). Top-1 on digits_test.h5; the paired
# difference's mean with a 95% bootstrap interval over seeds (10,000 resamples, numpy).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/accuracy-lib.sh
py=${PYTHON:-.test-venv/bin/python}
seeds=${1:-10}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
results=$work/results.tsv
: > "$results"
for seed in $(seq 1 "$seeds"); do
    for mode in logits features; do
        extra=()
        [[ $mode == features ]] && extra=(--match pool_1:pool_1,pool_2:pool_2)
        "$binary" distill --teacher fixtures/models/keras3/cnn.h5 --student conv:8,16 --data fixtures/data/digits_train.h5 \
            -o "$work/s.onnx" --epochs 30 --seed "$seed" -q "${extra[@]}"
        printf '%s\t%s\t%s\n' "$seed" "$mode" "$(accuracy "$work/s.onnx" fixtures/data/digits_test.h5)" >> "$results"
    done
done
"$py" - "$results" <<'PY'
import sys
import numpy as np
rows = [l.split("\t") for l in open(sys.argv[1]).read().split("\n") if l]
acc = {}
for seed, mode, a in rows:
    acc.setdefault(mode, {})[int(seed)] = float(a)
seeds = sorted(acc["logits"])
lo, fe = np.array([acc["logits"][s] for s in seeds]), np.array([acc["features"][s] for s in seeds])
d = fe - lo
rng = np.random.default_rng(0)
boot = rng.choice(d, size=(10000, d.size), replace=True).mean(axis=1)
print("| student conv:8,16 from the digits CNN | logits only | logits + features | paired difference (95% CI) |")
print("| --- | ---: | ---: | ---: |")
print(f"| mean of {len(seeds)} seeds | {lo.mean():.2f} | {fe.mean():.2f} | {d.mean():+.2f} ({np.percentile(boot, 2.5):+.2f} … {np.percentile(boot, 97.5):+.2f}) |")
print()
print("per seed (logits / features): " + ", ".join(f"{s}: {acc['logits'][s]:.2f} / {acc['features'][s]:.2f}" for s in seeds))
PY
