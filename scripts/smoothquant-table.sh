#!/usr/bin/env bash
# SmoothQuant on the Transformer fixtures (docs/quantization.md, "SmoothQuant").
#
#   scripts/smoothquant-table.sh        (MODELPRESS=path picks the binary; default: release)
#
# Static int8 (uint8 activations, per-channel weights, minmax calibration on digits_train.h5)
# without and with --smoothquant at α ∈ {0.25, 0.5, 0.75, 1}; top-1 % on digits_rows_test.h5.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/accuracy-lib.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "| model | float | int8 | SmoothQuant α 0.25 | α 0.5 (default) | α 0.75 | α 1 |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
for model in keras3/digits_outlier_transformer keras3/digits_transformer keras2/digits_transformer; do
    source=fixtures/models/$model.h5
    row=("$(accuracy "$source" fixtures/data/digits_rows_test.h5)")
    "$binary" quantize "$source" -o "$work/q.onnx" --calibration fixtures/data/digits_train.h5 -q
    row+=("$(accuracy "$work/q.onnx" fixtures/data/digits_rows_test.h5)")
    for alpha in 0.25 0.5 0.75 1; do
        "$binary" quantize "$source" -o "$work/q.onnx" --calibration fixtures/data/digits_train.h5 --smoothquant --smoothquant-alpha "$alpha" -q
        row+=("$(accuracy "$work/q.onnx" fixtures/data/digits_rows_test.h5)")
    done
    echo "| $model | ${row[0]} | ${row[1]} | ${row[2]} | ${row[3]} | ${row[4]} | ${row[5]} |"
done
