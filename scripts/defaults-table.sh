#!/usr/bin/env bash
# The measurements behind ModelPress's defaults (docs/defaults.md).
#
#   scripts/defaults-table.sh        (MODELPRESS=path picks the binary; default: release)
#
# 1. Pruning scope: AGP (4 steps × 2 epochs, Adam 1e-3, batch 32, seeds 1-3) to 50% and 80%,
#    --scope layer vs global vs lamp, on the trained digits fixtures.
# 2. Calibration method: static int8 (per-channel weights, uint8 activations) and 4-bit weights,
#    --method minmax / percentile / entropy / mse, on every trained classifier fixture.
# 3. PTQ recipe: per-channel vs per-tensor weights, uint8 vs int8 activations, bias correction
#    off vs on, int8, minmax.
# Top-1 % on the fixture's test set by `modelpress eval`. Prints Markdown tables.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/accuracy-lib.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
train=fixtures/data/digits_train.h5
mean() { python3 -c 'import statistics,sys; v=[float(a) for a in sys.argv[1:]]; print("%.2f (%s)" % (statistics.mean(v), ", ".join(sys.argv[1:])))' "$@"; }

echo "### Pruning scope (AGP 4 × 2 epochs, mean of seeds 1–3)"
echo
echo "| model | unpruned | 50% layer | 50% global | 50% lamp | 80% layer | 80% global | 80% lamp |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for model in keras2/mlp keras2/cnn keras3/mlp keras3/cnn keras3/functional keras2/functional; do
    test=fixtures/data/digits_test.h5
    row=("$(accuracy "fixtures/models/$model.h5" "$test")")
    for sparsity in 0.5 0.8; do
        for scope in layer global lamp; do
            runs=()
            for seed in 1 2 3; do
                "$binary" prune "fixtures/models/$model.h5" -o "$work/p.onnx" --sparsity "$sparsity" --scope "$scope" --schedule agp \
                    --steps 4 --epochs-per-step 2 --fine-tune-data "$train" --seed "$seed" -q
                runs+=("$(accuracy "$work/p.onnx" "$test")")
            done
            row+=("$(mean "${runs[@]}")")
        done
    done
    echo "| $model | ${row[0]} | ${row[1]} | ${row[2]} | ${row[3]} | ${row[4]} | ${row[5]} | ${row[6]} |"
done

echo
echo "### Calibration method (static, per-channel weights, uint8 activations)"
echo
echo "| model | float | weights | minmax | percentile | entropy | mse |"
echo "| --- | ---: | --- | ---: | ---: | ---: | ---: |"
for entry in "keras3/mlp digits_test" "keras3/cnn digits_test" "keras2/cnn digits_test" "keras3/functional digits_test" \
    "keras3/digits_mobilenetv2 digits_test" "keras3/digits_lstm digits_rows_test" "keras3/digits_transformer digits_rows_test" \
    "keras3/digits_outlier_transformer digits_rows_test"; do
    read -r model test <<<"$entry"
    test=fixtures/data/$test.h5
    float=$(accuracy "fixtures/models/$model.h5" "$test")
    for bits in 8 4; do
        row=()
        for method in minmax percentile entropy mse; do
            if "$binary" quantize "fixtures/models/$model.h5" -o "$work/q.onnx" --calibration "$train" --method "$method" --weight-bits "$bits" -q 2>/dev/null; then
                row+=("$(accuracy "$work/q.onnx" "$test")")
            else
                row+=("refused")
            fi
        done
        echo "| $model | $float | int$bits | ${row[0]} | ${row[1]} | ${row[2]} | ${row[3]} |"
    done
done

echo
echo "### PTQ recipe (int8, minmax)"
echo
echo "| model | float | per-channel, uint8 (default) | per-tensor weights | int8 activations | + bias correction |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for entry in "keras3/mlp digits_test" "keras3/cnn digits_test" "keras2/cnn digits_test" "keras3/functional digits_test" \
    "keras3/digits_mobilenetv2 digits_test" "keras3/digits_lstm digits_rows_test" "keras3/digits_transformer digits_rows_test" \
    "keras3/digits_outlier_transformer digits_rows_test"; do
    read -r model test <<<"$entry"
    test=fixtures/data/$test.h5
    row=("$(accuracy "fixtures/models/$model.h5" "$test")")
    for options in "" "--weights per-tensor" "--activations int8" "--bias-correction"; do
        # shellcheck disable=SC2086
        "$binary" quantize "fixtures/models/$model.h5" -o "$work/q.onnx" --calibration "$train" $options -q
        row+=("$(accuracy "$work/q.onnx" "$test")")
    done
    echo "| $model | ${row[0]} | ${row[1]} | ${row[2]} | ${row[3]} | ${row[4]} |"
done
