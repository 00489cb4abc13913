#!/usr/bin/env bash
# Quantization-aware training against post-training quantization and TFMOT (docs/quantization.md,
# "Quantization-aware training").
#
#   scripts/qat-table.sh        (MODELPRESS=path picks the binary; default: release)
#
# 1. int8 on the tf-keras digits CNN and MLP: ModelPress PTQ, ModelPress `--qat` (Adam 1e-4,
#    batch 32, 3 epochs on digits_train.h5, seeds 1-3) and TFMOT `quantize_model` with the same
#    recipe (fixtures/reference/qat_tfmot.json, made by fixtures/make_qat_reference.py).
# 2. 4-bit weights on the digits MobileNetV2-0.35: PTQ, bias correction, QAT, QAT + bias
#    correction, per channel and per tensor (seed 0).
# Top-1 % on digits_test.h5 by `modelpress eval`; seconds of the quantize command.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/accuracy-lib.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
train=fixtures/data/digits_train.h5
timed() {   # timed OUT ARGS…: runs quantize, prints "accuracy seconds"
    local out=$1; shift
    local start; start=$(date +%s.%N)
    "$binary" quantize "$@" -o "$out" --calibration "$train" -q
    echo "$(accuracy "$out" fixtures/data/digits_test.h5) $(python3 -c "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$start" "$(date +%s.%N)")"
}
echo "| model | float | PTQ int8 | ModelPress QAT int8 (seeds 1, 2, 3) | TFMOT QAT int8 (seeds 1, 2, 3) | QAT time ModelPress / TFMOT fit |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for model in cnn mlp; do
    source=fixtures/models/keras2/$model.h5
    float=$(accuracy "$source" fixtures/data/digits_test.h5)
    read -r ptq _ <<<"$(timed "$work/ptq.onnx" "$source")"
    qat=(); seconds=()
    for seed in 1 2 3; do
        read -r a s <<<"$(timed "$work/qat.onnx" "$source" --qat --train "$train" --epochs 3 --learning-rate 1e-4 --train-batch-size 32 --seed "$seed")"
        qat+=("$a"); seconds+=("$s")
    done
    python3 - "$model" "$float" "$ptq" "${qat[*]}" "${seconds[*]}" <<'PY'
import json, statistics, sys
model, float_, ptq, qat, seconds = sys.argv[1:]
qat, seconds = [float(a) for a in qat.split()], [float(s) for s in seconds.split()]
ref = json.load(open("fixtures/reference/qat_tfmot.json"))["models"][model]
tf = [100 * r["accuracy"] for r in ref]
print(f"| keras2/{model} | {float_} | {ptq} | {statistics.mean(qat):.2f} ({', '.join(f'{a:.2f}' for a in qat)}) "
      f"| {statistics.mean(tf):.2f} ({', '.join(f'{a:.2f}' for a in tf)}) "
      f"| {statistics.mean(seconds):.1f} s (whole command) / {statistics.mean(r['seconds'] for r in ref):.1f} s |")
PY
done
echo
echo "| digits MobileNetV2-0.35, 4-bit weights | float | PTQ | bias correction | QAT (3 epochs) | QAT + bias correction |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
source=fixtures/models/keras3/digits_mobilenetv2.h5
float=$(accuracy "$source" fixtures/data/digits_test.h5)
for granularity in per-channel per-tensor; do
    row=()
    for extra in "" "--bias-correction" "--qat --train $train --epochs 3" "--qat --train $train --epochs 3 --bias-correction"; do
        # shellcheck disable=SC2086
        read -r a s <<<"$(timed "$work/m.onnx" "$source" --weight-bits 4 --weights "$granularity" $extra)"
        row+=("$a ($s s)")
    done
    echo "| $granularity | $float | ${row[0]} | ${row[1]} | ${row[2]} | ${row[3]} |"
done
