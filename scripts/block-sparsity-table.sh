#!/usr/bin/env bash
# Block vs unstructured pruning at the same sparsity (docs/pruning.md, "Block sparsity").
#
#   scripts/block-sparsity-table.sh [SPARSITY]    (default 0.8; MODELPRESS=path picks the binary)
#
# For each digits fixture: AGP 5 steps × 2 fine-tuning epochs (Adam 1e-3, batch 32) to SPARSITY,
# unstructured and block:4x1, scope layer and global, seeds 1-3; test accuracy on digits_test.h5
# with `modelpress eval`, and the pruned kernels' bytes: COO as `--sparse-storage` writes it
# (unstructured), BSR with int32 indices (block), dense float32. Prints a Markdown table.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
binary=${MODELPRESS:-.build/release/modelpress}
sparsity=${1:-0.8}
[[ -x $binary ]] || { echo "build first: swift build -c release --product modelpress" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
results=$work/results.tsv
: > "$results"
for model in keras2/mlp keras2/cnn keras3/cnn keras3/functional; do
    base=$("$binary" eval "fixtures/models/$model.h5" --data fixtures/data/digits_test.h5 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["accuracy"])')
    for structure in unstructured block:4x1; do
        for scope in layer global; do
            for seed in 1 2 3; do
                file="$work/pruned.onnx"
                "$binary" prune "fixtures/models/$model.h5" -o "$file" --sparsity "$sparsity" --scope "$scope" --structure "$structure" \
                    --sparse-storage --schedule agp --steps 5 --epochs-per-step 2 --fine-tune-data fixtures/data/digits_train.h5 \
                    --learning-rate 1e-3 --batch-size 32 --optimizer adam --seed "$seed" --json > "$work/report.json" 2>/dev/null
                acc=$("$binary" eval "$file" --data fixtures/data/digits_test.h5 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["accuracy"])')
                bytes=$(python3 -c '
import json, sys
layers = [l for l in json.load(open(sys.argv[1]))["layers"] if l["skipped"] is None]
stored = sum((l.get("blockSparse") or l["storage"])["bytes"] for l in layers)
print(stored, sum(l["storage"]["denseBytes"] for l in layers))' "$work/report.json")
                printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$model" "$base" "$structure" "$scope" "$seed" "$acc" "$bytes" >> "$results"
            done
        done
    done
done
python3 - "$results" "$sparsity" <<'PY'
import statistics, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
groups = {}
for model, base, structure, scope, seed, acc, stored in rows:
    nbytes, dense = map(int, stored.split())
    groups.setdefault((model, base, structure, scope), []).append((float(acc), nbytes, dense))
print(f"| model | unpruned | structure | scope | accuracy at {float(sys.argv[2]):.0%} (seeds 1, 2, 3) | pruned kernels' bytes (dense) |")
print("| --- | ---: | --- | --- | ---: | ---: |")
for (model, base, structure, scope), runs in groups.items():
    accs = [a for a, _, _ in runs]
    fmt = "COO" if structure == "unstructured" else "BSR"
    print(f"| {model} | {float(base):.4f} | {structure} | {scope} | {statistics.mean(accs):.4f} ({', '.join(f'{a:.4f}' for a in accs)}) "
          f"| {runs[0][1]:,} {fmt} ({runs[0][2]:,}) |")
PY
