"""Shared helpers for the onnxruntime cross-checks.

Environment (set by scripts/test.sh):
  MODELPRESS       path of the built `modelpress` binary
  MODELPRESS_ROOT  repository root (fixtures/ lives there)
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import pytest

ROOT = Path(os.environ.get("MODELPRESS_ROOT", Path(__file__).resolve().parents[2]))
FIXTURES = ROOT / "fixtures"
BINARY = os.environ.get("MODELPRESS", str(ROOT / ".build" / "debug" / "modelpress"))


@dataclass(frozen=True)
class Case:
    """One fixture model with the predictions Keras (or tf2onnx) made for it."""

    id: str            # e.g. keras3/cnn
    model: Path        # the model file
    expected: Path     # expected/<dir>/<name>.h5 (dataset y_pred)
    data: Path         # the input file named by its `input` attribute
    x_key: str

    def inputs(self):
        """The inputs: one float32 array, or input name → array for a model with several
        (`x_key` names one dataset per input, the input's own name)."""
        with h5py.File(self.data, "r") as f:
            if "," in self.x_key:
                return {k: f[k][()].astype(np.float32) for k in self.x_key.split(",")}
            return f[self.x_key][()].astype(np.float32)

    def y_pred(self) -> np.ndarray:
        with h5py.File(self.expected, "r") as f:
            return f["y_pred"][()]


def fixture_cases() -> list[Case]:
    """Every expected/<dir>/<name>.h5, paired with the model its `model` attribute names."""
    cases = []
    for expected in sorted((FIXTURES / "expected").glob("*/*.h5")):
        with h5py.File(expected, "r") as f:
            attrs = dict(f.attrs)
        model = FIXTURES / str(attrs["model"])
        case_id = f"{expected.parent.name}/{expected.stem}"
        cases.append(Case(case_id, model, expected, FIXTURES / str(attrs["input"]), str(attrs.get("x_key", "x"))))
    return cases


def run_modelpress(*args: str | Path, expect: int | None = 0) -> subprocess.CompletedProcess:
    """Runs the binary; asserts the exit code when `expect` is not None."""
    if not Path(BINARY).exists():
        pytest.fail(f"modelpress binary not found at {BINARY}; build it (swift build) or set MODELPRESS")
    proc = subprocess.run([BINARY, *map(str, args)], capture_output=True, text=True, timeout=600)
    if expect is not None:
        assert proc.returncode == expect, (
            f"modelpress {' '.join(map(str, args))} exited {proc.returncode}, expected {expect}\n"
            f"stdout: {proc.stdout}\nstderr: {proc.stderr}")
    return proc


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def max_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)))) if a.size else 0.0


def write_dataset(path: Path, x) -> Path:
    """`x` as dataset `x`, or each array of a dict (input name → array) under its name."""
    with h5py.File(path, "w") as f:
        for key, value in (x.items() if isinstance(x, dict) else [("x", x)]):
            f.create_dataset(key, data=value)
    return path


def x_key_args(x) -> list[str]:
    """`--x-key a,b` for inputs given as a dict (input name → array), nothing for one array."""
    return ["--x-key", ",".join(x)] if isinstance(x, dict) else []


def read_predictions(path: Path) -> np.ndarray:
    with h5py.File(path, "r") as f:
        return f["y_pred"][()]
