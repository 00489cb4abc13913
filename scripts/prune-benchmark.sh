#!/usr/bin/env bash
# Gradual (AGP) pruning benchmark on the digits fixtures (docs/pruning.md, docs/benchmarks.md).
#
#   scripts/prune-benchmark.sh [OUT.json]
#
# For the tf-keras MLP and CNN fixtures (models/keras2/{mlp,cnn}.h5, the models tfmot prunes in
# fixtures/make_pruning_reference.py) at 50/80/90% sparsity, scope layer and global, seeds 1-3:
# `modelpress prune --schedule agp --steps 5 --epochs-per-step 2` (Adam 1e-3, batch 32: the
# fine-tuning budget tfmot gets), then `modelpress eval` on digits_test.h5. Prints a Markdown
# table beside tfmot's numbers (fixtures/reference/pruning_tfmot.json) and writes all numbers to
# OUT.json (default: a temporary file). MODELPRESS=path overrides the binary (default: release).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
binary=${MODELPRESS:-.build/release/modelpress}
[[ -x $binary ]] || { echo "build first: flock /tmp/swift-build.lock swift build -c release --product modelpress" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=${1:-$work/prune-benchmark.json}
results=$work/results.tsv
: > "$results"
for model in mlp cnn; do
    base=$("$binary" eval "fixtures/models/keras2/$model.h5" --data fixtures/data/digits_test.h5 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["accuracy"])')
    printf '%s\tbaseline\t-\t-\t%s\t-\n' "$model" "$base" >> "$results"
    for sparsity in 0.5 0.8 0.9; do
        for scope in layer global; do
            for seed in 1 2 3; do
                file="$work/$model-$sparsity-$scope-$seed.onnx"
                "$binary" prune "fixtures/models/keras2/$model.h5" -o "$file" --sparsity "$sparsity" --scope "$scope" \
                    --schedule agp --steps 5 --epochs-per-step 2 --fine-tune-data fixtures/data/digits_train.h5 \
                    --learning-rate 1e-3 --batch-size 32 --optimizer adam --seed "$seed" --json > "$work/report.json" 2>/dev/null
                acc=$("$binary" eval "$file" --data fixtures/data/digits_test.h5 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["accuracy"])')
                achieved=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(1 - r["prunedNonzeros"] / r["prunedParameters"])' "$work/report.json")
                printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$model" "$sparsity" "$scope" "$seed" "$acc" "$achieved" >> "$results"
            done
        done
    done
done
python3 - "$results" fixtures/reference/pruning_tfmot.json "$out" <<'PY'
import json, statistics, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
tfmot = json.load(open(sys.argv[2]))["models"]
result = {}
for model, level, scope, seed, acc, achieved in rows:
    entry = result.setdefault(model, {"levels": {}})
    if level == "baseline":
        entry["baseline_accuracy"] = float(acc)
        continue
    runs = entry["levels"].setdefault(f"{float(level):.2f}", {}).setdefault(scope, [])
    runs.append({"seed": int(seed), "accuracy": float(acc), "sparsity": float(achieved)})
json.dump(result, open(sys.argv[3], "w"), indent=2, sort_keys=True)
print("| model | sparsity | unpruned | tfmot (layer) | ModelPress layer | ModelPress global |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for model, entry in result.items():
    for level, scopes in entry["levels"].items():
        t = tfmot[model]["levels"][level]["mean_accuracy"]
        cells = []
        for scope in ("layer", "global"):
            accs = [r["accuracy"] for r in scopes[scope]]
            cells.append(f"{statistics.mean(accs):.4f} ({', '.join(f'{a:.4f}' for a in accs)})")
        print(f"| {model} | {float(level):.0%} | {entry['baseline_accuracy']:.4f} | {t:.4f} | {cells[0]} | {cells[1]} |")
print(f"\nwrote {sys.argv[3]}")
PY
