#!/usr/bin/env bash
# Feature distillation in pruning fine-tuning against logit-only distillation from the unpruned
# model (docs/benchmarks.md, "Feature distillation"): AGP 4 steps × 2 epochs, seeds 1…SEEDS.
#
#   scripts/prune-feature-distillation-table.sh [SEEDS]     (default 3; MODELPRESS=path picks the binary)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/accuracy-lib.sh
seeds=${1:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "| model, sparsity, matched layers | logits only (seeds) | logits + features (seeds) |"
echo "| --- | --- | --- |"
row() {
    local model=$1 sparsity=$2 match=$3 weight=$4 plain=() features=()
    for seed in $(seq 1 "$seeds"); do
        for mode in plain features; do
            extra=()
            [[ $mode == features ]] && extra=(--match "$match" --feature-weight "$weight")
            "$binary" prune "fixtures/models/$model.h5" -o "$work/p.onnx" --sparsity "$sparsity" --schedule agp --steps 4 --epochs-per-step 2 \
                --fine-tune-data fixtures/data/digits_train.h5 --seed "$seed" --distill-from-original -q "${extra[@]}" 2>/dev/null
            a=$(accuracy "$work/p.onnx" fixtures/data/digits_test.h5)
            if [[ $mode == plain ]]; then plain+=("$a"); else features+=("$a"); fi
        done
    done
    local IFS=/
    echo "| $model, $sparsity, \`$match\`, weight $weight | ${plain[*]} | ${features[*]} |"
}
row keras3/functional 0.8 stem_relu,dw_relu,add_relu 1
row keras3/cnn 0.9 conv_1,conv_2 1
row keras3/cnn 0.9 conv_1,conv_2 0.1
