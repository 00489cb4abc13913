#!/usr/bin/env bash
# Runs every ModelPress test on a fresh machine: Debian packages, the Python test venv
# (onnx, onnxruntime, numpy, h5py, pytest — pinned in Tests/python/requirements.txt),
# swift format lint (.swift-format), a debug build, the Swift test suites, then the
# onnxruntime cross-checks in pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

scripts/install-system-packages.sh

venv="$root/.test-venv"
if [ ! -x "$venv/bin/pytest" ] || ! cmp -s Tests/python/requirements.txt "$venv/requirements.installed"; then
  echo "creating Python test venv in .test-venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q -r Tests/python/requirements.txt
  cp Tests/python/requirements.txt "$venv/requirements.installed"
fi

echo "== swift format lint"
# .swift-format holds the configuration; the generated ONNX protobuf code is left as generated.
find Sources Tests -name '*.swift' -not -path 'Sources/ONNXProto/*' -print0 | sort -z \
  | xargs -0 swift format lint --strict --configuration .swift-format --parallel

echo "== swift build"
swift build --build-tests 2>&1 | grep -vE "^\[[0-9]+/[0-9]+\] (Compiling|Emitting|Linking|Write)" || true
swift build --build-tests >/dev/null   # fail here if the build failed

echo "== swift test"
swift test --skip-build 2>&1 | tee .build/swift-test.log | grep -vE '^(◇|↳) ' 
grep -qE 'Test run with [0-9]+ tests? (in [0-9]+ suites? )?passed' .build/swift-test.log

echo "== onnxruntime cross-checks (pytest)"
# Two workers, one test file each at a time (a file's session caches stay in one process).
MODELPRESS="$root/.build/debug/modelpress" MODELPRESS_ROOT="$root" "$venv/bin/pytest" -q -n 2 --dist loadfile Tests/python
