#!/usr/bin/env bash
# Distillation benchmark on the digits fixtures (docs/benchmarks.md, "Distillation").
#
#   scripts/distill-benchmark.sh THREADS SEEDS MODE [extra modelpress flags…]
#
# MODE:
#   distill | train                 student dense:64,32 initialised by ModelPress from --seed S
#   distill-paired | train-paired   student fixtures/reference/distill_init/seedS.h5: the Keras-initialised
#                                   weights the Keras runs of seed S start from (made by
#                                   fixtures/make_fixtures.sh --distill-reference)
# Runs `modelpress distill` (teacher fixtures/models/keras3/mlp.h5) or `modelpress train` on x_flat for
# seeds 1..SEEDS (release build, OPENBLAS_NUM_THREADS=THREADS, test set as --validation), prints test
# accuracy mean ± std (population std, as numpy) and the median seconds per epoch (epoch 1 excluded,
# as for Keras), and compares with the Keras accuracies in fixtures/reference/distill_keras.json:
# paired modes against Keras trained from the same weights on ModelPress's batch order (paired
# difference, 95% t interval), the others against Keras's own initialisation and shuffling
# (difference of means, 95% Welch interval). Write the per-seed results as JSON with OUT_JSON=FILE.
# STUDENT=SPEC replaces dense:64,32 in the unpaired modes (e.g. a JSON spec file); a JSON spec equal
# to distill_keras.json's conv_student.spec is compared with Keras's runs of that network.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
threads=$1 seeds=$2 mode=$3
shift 3
binary=.build/release/modelpress
[[ -x $binary ]] || { echo "build first: flock /tmp/swift-build.lock swift build -c release --product modelpress" >&2; exit 2; }
case $mode in
    distill|train|distill-paired|train-paired) ;;
    *) echo "MODE must be distill, train, distill-paired or train-paired, not '$mode'" >&2; exit 2 ;;
esac
command=${mode%-paired}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
teacher=()
[[ $command == distill ]] && teacher=(--teacher fixtures/models/keras3/mlp.h5)
for seed in $(seq 1 "$seeds"); do
    student=${STUDENT:-dense:64,32}
    if [[ $mode == *-paired ]]; then
        student=fixtures/reference/distill_init/seed$seed.h5
        [[ -f $student ]] || { echo "no $student: the paired runs need the Keras initial weights of seeds 1..$seeds" >&2; exit 2; }
    fi
    OPENBLAS_NUM_THREADS=$threads "$binary" "$command" "${teacher[@]}" --student "$student" \
        --data fixtures/data/digits_train.h5 --student-x-key x_flat --validation fixtures/data/digits_test.h5 \
        -o "$work/student.onnx" --seed "$seed" --log "$work/log$seed.json" -q "$@"
done
python3 - "$work" "$seeds" "$mode" "${OUT_JSON:-}" "${STUDENT:-}" <<'PY'
import json, math, statistics, sys
work, seeds, mode, out, student = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
acc, times = [], []
for s in range(1, seeds + 1):
    log = json.load(open(f"{work}/log{s}.json"))
    acc.append(log["val_accuracy"])
    times += [e["seconds"] for e in log["epochs"][1:]]
print(f"test accuracy {statistics.mean(acc):.4f} ± {statistics.pstdev(acc):.4f} over seeds 1-{seeds} "
      f"(min {min(acc):.4f}, max {max(acc):.4f}); median {statistics.median(times) * 1000:.2f} ms/epoch")

def t975(df):
    """Two-sided 95% Student t quantile (table to df 30, normal beyond)."""
    table = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
             2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]
    return table[int(df) - 1] if df < 31 else 1.96

reference = json.load(open("fixtures/reference/distill_keras.json"))
name = "distill" if mode.startswith("distill") else "hard_label"
result = {"mode": mode, "seeds": list(range(1, seeds + 1)), "modelpress": acc}
if mode.endswith("-paired"):
    keras = reference["paired"][name]["accuracies"][:seeds]
    if len(keras) == seeds and seeds >= 2:
        d = [m - k for m, k in zip(acc, keras)]
        mean, sd = statistics.mean(d), statistics.stdev(d)
        half = t975(seeds - 1) * sd / math.sqrt(seeds)
        wins = sum(x > 0 for x in d), sum(x == 0 for x in d), sum(x < 0 for x in d)
        print(f"Keras, same initial weights and batch order: {statistics.mean(keras):.4f} ± {statistics.pstdev(keras):.4f}; "
              f"paired difference ModelPress − Keras {mean:+.4f}, 95% CI [{mean - half:+.4f}, {mean + half:+.4f}] "
              f"(ModelPress higher/equal/lower on {wins[0]}/{wins[1]}/{wins[2]} seeds)")
        result.update(keras=keras, difference=mean, ci95=[mean - half, mean + half])
else:
    keras = reference[name]["accuracies"]
    if student:
        try:
            spec = json.load(open(student))
        except (OSError, ValueError):
            spec = None
        conv = reference.get("conv_student", {})
        keras = conv[name]["accuracies"] if spec is not None and spec == conv.get("spec") else []
        if not keras:
            print("no Keras reference for this student")
    if seeds >= 2 and len(keras) >= 2:
        mean = statistics.mean(acc) - statistics.mean(keras)
        va, vb = statistics.variance(acc) / len(acc), statistics.variance(keras) / len(keras)
        se = math.sqrt(va + vb)
        df = (va + vb) ** 2 / ((va ** 2) / (len(acc) - 1) + (vb ** 2) / (len(keras) - 1)) if se > 0 else 1e9
        half = t975(df) * se
        print(f"Keras, its own initialisation and shuffling: {statistics.mean(keras):.4f} ± {statistics.pstdev(keras):.4f}; "
              f"difference of means {mean:+.4f}, 95% Welch CI [{mean - half:+.4f}, {mean + half:+.4f}]")
        result.update(keras=keras, difference=mean, ci95=[mean - half, mean + half])
if out:
    with open(out, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
PY
