#!/usr/bin/env bash
# The robustness table of docs/robustness.md: each trained digits fixture against its int8 file
# (static, per-channel, minmax) and its 80%-pruned file (AGP, 4 steps × 3 fine-tuning epochs,
# each layer to 80%), measured by `verify --robustness` at σ ∈ {0.05, 0.1, 0.2} (relative to each
# pixel's std) and FGSM ε ∈ {0.01, 0.03} (gradients of the float original), seed 0.
# Usage: bash scripts/robustness_table.sh [OUT_DIR]   (MODELPRESS=path/to/binary to pick a build)
set -euo pipefail
cd "$(dirname "$0")/.."
MP=${MODELPRESS:-.build/release/modelpress}
OUT=${1:-out/robustness}
PY=${PYTHON:-.test-venv/bin/python}
mkdir -p "$OUT"
TRAIN=fixtures/data/digits_train.h5
# model, test data
MODELS=(
  "keras3/cnn fixtures/data/digits_test.h5"
  "keras3/mlp fixtures/data/digits_test.h5"
  "keras3/functional fixtures/data/digits_test.h5"
  "keras2/cnn fixtures/data/digits_test.h5"
  "keras3/digits_lstm fixtures/data/digits_rows_test.h5"
  "keras3/digits_gru fixtures/data/digits_rows_test.h5"
  "keras3/digits_transformer fixtures/data/digits_rows_test.h5"
)
for entry in "${MODELS[@]}"; do
  read -r model test <<<"$entry"
  source=fixtures/models/$model.h5
  name=${model//\//_}
  echo "== $name" >&2
  "$MP" quantize "$source" -o "$OUT/$name.int8.onnx" --calibration "$TRAIN" -q
  "$MP" prune "$source" -o "$OUT/$name.pruned80.onnx" --sparsity 0.8 --scope layer --schedule agp --steps 4 \
    --epochs-per-step 3 --fine-tune-data "$TRAIN" --seed 7 -q
  for kind in int8 pruned80; do
    "$MP" verify --reference "$source" --candidate "$OUT/$name.$kind.onnx" --data "$test" --robustness \
      --report "$OUT/$name.$kind.json" --robustness-svg "$OUT/$name.$kind.svg" -q >/dev/null
  done
done
"$PY" - "$OUT" "${MODELS[@]}" <<'PY'
import json, sys
out, models = sys.argv[1], [m.split()[0].replace("/", "_") for m in sys.argv[2:]]
names = ["gaussian_sigma_0.05", "gaussian_sigma_0.1", "gaussian_sigma_0.2", "salt_and_pepper_0.05", "fgsm_eps_0.01", "fgsm_eps_0.03"]
head = ["σ 0.05", "σ 0.1", "σ 0.2", "s&p 0.05", "FGSM ε 0.01", "FGSM ε 0.03"]
print("| model | candidate | clean | " + " | ".join(head) + " |")
print("|---|---|---:|" + "---:|" * len(head))
for model in models:
    for kind in ("int8", "pruned80"):
        r = json.load(open(f"{out}/{model}.{kind}.json"))["robustness"]
        by = {c["name"]: c for c in r["conditions"]}
        def cell(ref, cand):
            return f"{ref * 100:.1f} / {cand * 100:.1f}"
        cells = [cell(r["clean_reference_accuracy"], r["clean_candidate_accuracy"])]
        for n in names:
            c = by[n]
            drop = c["robustness_drop"] * 100 + 0.0  # no "-0.0"
            drop = 0.0 if abs(drop) < 0.05 else drop
            lo, hi = c["drop_interval"]["ci_lower"] * 100, c["drop_interval"]["ci_upper"] * 100
            mark = " **↓**" if lo > 0 else ""
            cells.append(f"{cell(c['reference_accuracy'], c['candidate_accuracy'])} ({drop:+.1f}{mark})")
        print(f"| {model} | {kind} | " + " | ".join(cells) + " |")
PY
