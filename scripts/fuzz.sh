#!/usr/bin/env bash
# The long fuzz run: N mutants of each input format (default 10000), on the release build,
# both cores; prints counts by format and outcome, saves every finding's input under
# .build/fuzz-findings/ (add it to fixtures/fuzz/regressions/cases.json once fixed).
# Usage: scripts/fuzz.sh [N] [extra scripts/fuzz/run.py options, e.g. --seed 2 --formats onnx-qdq]
set -euo pipefail
cd "$(dirname "$0")/.."
per_format=${1:-10000}
shift || true
[ -x .test-venv/bin/python ] || { echo "run scripts/test.sh once first (it makes .test-venv)"; exit 2; }
swift build -c release --product modelpress >/dev/null
exec .test-venv/bin/python scripts/fuzz/run.py --binary .build/release/modelpress \
  --per-format "$per_format" --jobs "$(nproc)" --save .build/fuzz-findings --json .build/fuzz-results.json "$@"
