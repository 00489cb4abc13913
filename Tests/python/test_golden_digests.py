"""The exact bytes `modelpress export` and `quantize` write for every committed fixture.

Refactors must not change what ships: each command below runs on every fixture model and
the SHA-256 of the file it writes is compared with `golden/onnx_digests.json`, recorded by
the binary before the change. A deliberate change of the output re-records the file:

    MODELPRESS_RECORD_GOLDEN=1 MODELPRESS=.build/debug/modelpress .test-venv/bin/pytest -q Tests/python/test_golden_digests.py

OpenBLAS runs single-threaded and on its Haswell (AVX2) kernels here, so calibration ranges
(and hence scales) depend neither on how GEMMs were split across threads nor on which kernels
OpenBLAS picks for the CPU (AVX-512 kernels round sums differently, which moves the last bit
of a range and so a scale); the digests were recorded that way.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import BINARY, fixture_cases, sha256

GOLDEN = Path(__file__).parent / "golden" / "onnx_digests.json"
RECORD = os.environ.get("MODELPRESS_RECORD_GOLDEN") == "1"

# name → (command, extra arguments); calibration data is the fixture's own input file.
COMMANDS: dict[str, tuple[str, list[str]]] = {
    "export": ("export", []),
    "export-opset17": ("export", ["--opset", "17"]),
    "quantize-qdq": ("quantize", ["--samples", "64"]),
    "quantize-qoperator": ("quantize", ["--samples", "64", "--format", "qoperator"]),
    "quantize-pow2": ("quantize", ["--samples", "64", "--scheme", "pow2"]),
    "quantize-entropy": ("quantize", ["--samples", "64", "--method", "entropy"]),
    "quantize-dynamic": ("quantize", ["--dynamic"]),
}

CASES = fixture_cases()


def _run(case, command: str, extra: list[str], out: Path) -> subprocess.CompletedProcess:
    args = [BINARY, command, str(case.model), "-o", str(out), "-q", *extra]
    if command == "quantize":
        args += ["--calibration", str(case.data), "--x-key", case.x_key]
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OPENBLAS_CORETYPE="Haswell")
    return subprocess.run(args, capture_output=True, text=True, timeout=600, env=env)


def _digests(tmp_path: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for case in CASES:
        for name, (command, extra) in COMMANDS.items():
            out = tmp_path / f"{case.id.replace('/', '_')}-{name}.onnx"
            proc = _run(case, command, extra, out)
            # A command that refuses a fixture (exit 2) is recorded as such: the refusal is
            # behaviour too.
            found[f"{case.id} {name}"] = sha256(out) if proc.returncode == 0 else f"exit {proc.returncode}"
    return found


def test_export_and_quantize_bytes_are_unchanged(tmp_path):
    found = _digests(tmp_path)
    if RECORD:
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")
        pytest.skip(f"recorded {len(found)} digests in {GOLDEN}")
    expected = json.loads(GOLDEN.read_text())
    assert sorted(found) == sorted(expected), "the set of fixture × command cases changed; re-record deliberately"
    changed = [k for k in sorted(found) if found[k] != expected[k]]
    assert not changed, f"{len(changed)} of {len(found)} outputs changed bytes: {changed[:10]}"
