#!/bin/bash
# Transformer teacher → LSTM student against the same student on hard labels (issue 14): paired
# seeds, test accuracy on the digits as 8 steps of 8 pixels. The teacher is trained here by
# ModelPress (transformer:2,32,4 with mixup); students are lstm:8, the last column with feature
# distillation of the teacher's last block into the LSTM's sequence (issue 16). Settings were chosen on a
# 300-sample validation split of digits_train (docs/benchmarks.md), then run once on the test set.
# Usage: scripts/bench/distill_sequence.sh [BINARY] [SEEDS]
set -euo pipefail
mp=${1:-.build/release/modelpress}
seeds=${2:-$(seq 1 20)}
train=fixtures/data/digits_train.h5 test=fixtures/data/digits_test.h5
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$mp" train --student transformer:2,32,4 --data $train --epochs 20 --learning-rate 0.002 --seed 1 --mixup -o "$out/teacher.onnx" -q
accuracy() { "$mp" eval "$1" --data $test | head -1 | awk '{print $2}'; }
echo "teacher (transformer:2,32,4, mixup): $(accuracy "$out/teacher.onnx")"
student=(--student lstm:8 --data $train --epochs 60 --learning-rate 0.01 -q)
echo "seed hard mixup_hard distilled function_matching features"
for s in $seeds; do
  "$mp" train "${student[@]}" --seed "$s" -o "$out/hard.onnx"
  "$mp" train "${student[@]}" --seed "$s" --mixup -o "$out/mixup.onnx"
  "$mp" distill --teacher "$out/teacher.onnx" "${student[@]}" --seed "$s" --temperature 2 --alpha 0.5 -o "$out/kd.onnx"
  "$mp" distill --teacher "$out/teacher.onnx" "${student[@]}" --seed "$s" --mixup --temperature 1 --alpha 0.5 -o "$out/fm.onnx"
  "$mp" distill --teacher "$out/teacher.onnx" "${student[@]}" --seed "$s" --temperature 2 --alpha 0.5 \
    --match block_2/norm2:lstm_1 --feature-weight 0.1 -o "$out/features.onnx"
  echo "$s $(accuracy "$out/hard.onnx") $(accuracy "$out/mixup.onnx") $(accuracy "$out/kd.onnx") $(accuracy "$out/fm.onnx") $(accuracy "$out/features.onnx")"
done | tee "$out/rows"
# Means, and the paired comparisons: mean difference, 95% t interval, wins / losses.
awk '
  function compare(d, h,   i, x, m, ss, w, l, half) {
    m = 0; w = 0; l = 0
    for (i = 1; i <= n; i++) { x = v[i, d] - v[i, h]; m += x; w += x > 0; l += x < 0 }
    m /= n; ss = 0
    for (i = 1; i <= n; i++) { x = v[i, d] - v[i, h]; ss += (x - m) ^ 2 }
    half = t * sqrt(ss / (n - 1) / n)
    printf "%s − %s: %+.4f [%+.4f, %+.4f], %d wins, %d losses\n", name[d - 1], name[h - 1], m, m - half, m + half, w, l
  }
  { n++; for (c = 2; c <= 6; c++) { v[n, c] = $c; sum[c] += $c } }
  END {
    split("hard mixup_hard distilled function_matching features", name, " ")
    for (c = 2; c <= 6; c++) printf "mean %s %.4f\n", name[c - 1], sum[c] / n
    t = (n == 20 ? 2.093 : n == 10 ? 2.262 : n == 5 ? 2.776 : 2.0)
    compare(4, 2); compare(4, 3); compare(5, 2); compare(5, 3); compare(6, 4)
  }' "$out/rows"
