#!/bin/bash
# Transformer teacher → LSTM student vs the same student on hard labels (issue 14): paired
# seeds, test accuracy on digits rows. Usage: scripts/bench/distill_sequence.sh [BINARY] [SEEDS]
set -euo pipefail
mp=${1:-.build/release/modelpress}
seeds=${2:-"1 2 3 4 5"}
out=$(mktemp -d)
common=(--student fixtures/models/keras3/digits_lstm_student.h5 --data fixtures/data/digits_train.h5 --epochs 30 --learning-rate 0.01 -q)
for s in $seeds; do
  "$mp" train "${common[@]}" --seed "$s" -o "$out/hard-$s.onnx" > /dev/null
  "$mp" distill --teacher fixtures/models/keras3/digits_transformer.keras "${common[@]}" --seed "$s" --temperature 2 --alpha 0.5 \
    -o "$out/distilled-$s.onnx" > /dev/null
  hard=$("$mp" eval "$out/hard-$s.onnx" --data fixtures/data/digits_test.h5 | head -1 | awk '{print $2}')
  soft=$("$mp" eval "$out/distilled-$s.onnx" --data fixtures/data/digits_test.h5 | head -1 | awk '{print $2}')
  echo "seed $s: hard labels $hard, distilled $soft"
done
rm -rf "$out"
