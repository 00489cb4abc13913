#!/usr/bin/env bash
# 4-bit weights with and without cross-layer equalization and bias correction
# (docs/quantization.md, "Bias correction", "Cross-layer equalization").
#
#   scripts/recovery-table.sh        (MODELPRESS=path picks the binary; default: release)
#
# For each trained digits fixture: float accuracy, then static quantization with int8 weights
# and with 4-bit weights (per channel and per tensor; uint8 activations, minmax calibration on
# digits_train.h5), plain, --cross-layer-equalization, --bias-correction and both; top-1 on digits_test.h5 by
# `modelpress eval` (Tests/python/test_quantize_recovery.py checks the same files in
# onnxruntime), and the time of the quantize command. Prints a Markdown table.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/accuracy-lib.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "| model | float | weights | granularity | plain | CLE | bias correction | CLE + bias correction | recovered by CLE / BC | quantize time plain / BC |"
echo "| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
for model in keras3/digits_mobilenetv2 keras3/cnn keras2/cnn keras3/mlp keras3/functional; do
    float=$(accuracy "fixtures/models/$model.h5" fixtures/data/digits_test.h5)
    for bits in 8 4; do
        for granularity in per-channel per-tensor; do
            row=()
            for correction in "" --cross-layer-equalization --bias-correction "--cross-layer-equalization --bias-correction"; do
                start=$(date +%s.%N)
                "$binary" quantize "fixtures/models/$model.h5" -o "$work/q.onnx" --calibration fixtures/data/digits_train.h5 \
                    --weight-bits "$bits" --weights "$granularity" $correction -q   # shellcheck disable=SC2086
                seconds=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$start" "$(date +%s.%N)")
                row+=("$(accuracy "$work/q.onnx" fixtures/data/digits_test.h5)" "$seconds")
            done
            recovered=$(python3 -c '
import sys
f, p, e, c = map(float, sys.argv[1:])
print("—" if f - p <= 0.3 else "%.0f%% / %.0f%%" % (100 * (e - p) / (f - p), 100 * (c - p) / (f - p)))' "$float" "${row[0]}" "${row[2]}" "${row[4]}")
            echo "| $model | $float | int$bits | $granularity | ${row[0]} | ${row[2]} | ${row[4]} | ${row[6]} | $recovered | ${row[1]} / ${row[5]} s |"
        done
    done
done
