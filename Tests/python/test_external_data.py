"""ONNX external data: `export --external-data` files that onnx and onnxruntime read, files
saved with external data by onnx itself read back, and hostile locations refused."""

from __future__ import annotations

import json
import os

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from conftest import FIXTURES, run_modelpress
from ort_helpers import run_ort

CNN = FIXTURES / "models" / "keras3" / "cnn.h5"
TEST = FIXTURES / "data" / "digits_test.h5"


def test_written_external_data_is_read_by_onnx_and_onnxruntime(tmp_path):
    inline, external = tmp_path / "inline.onnx", tmp_path / "external.onnx"
    run_modelpress("export", CNN, "-o", inline, "-q")
    run_modelpress("export", CNN, "-o", external, "--external-data", "-q")
    data = tmp_path / "external.onnx.data"
    assert data.is_file() and external.stat().st_size < inline.stat().st_size / 4
    onnx.checker.check_model(str(external), full_check=True)
    model = onnx.load(str(external), load_external_data=False)
    moved = [t for t in model.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
    assert moved and all(len(t.raw_data) == 0 for t in moved)
    for t in moved:
        info = {e.key: e.value for e in t.external_data}
        assert info["location"] == "external.onnx.data" and int(info["offset"]) % 4096 == 0
    kept = [t for t in model.graph.initializer if t.data_location != onnx.TensorProto.EXTERNAL]
    assert all(len(t.raw_data) < 1024 for t in kept)
    # Same tensors as the inline file, and the same outputs in onnxruntime.
    a = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(inline)).graph.initializer}
    b = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(external)).graph.initializer}
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    import h5py
    with h5py.File(TEST, "r") as f:
        x = f["x"][:64].astype(np.float32)
    assert np.array_equal(run_ort(inline, x), run_ort(external, x))
    # ModelPress reads it back: the same accuracy, and exporting it again inline gives the inline file.
    accuracies = [json.loads(run_modelpress("eval", m, "--data", TEST, "--json").stdout)["accuracy"] for m in (inline, external)]
    assert accuracies[0] == accuracies[1]
    again = tmp_path / "again.onnx"
    run_modelpress("export", external, "-o", again, "-q")
    run_modelpress("export", inline, "-o", tmp_path / "inline-again.onnx", "-q")
    assert again.read_bytes() == (tmp_path / "inline-again.onnx").read_bytes()


def test_onnx_saved_external_data_reads_back(tmp_path):
    inline = tmp_path / "inline.onnx"
    run_modelpress("export", CNN, "-o", inline, "-q")
    folder = tmp_path / "saved"
    folder.mkdir()
    model = onnx.load(str(inline))
    onnx.save_model(model, str(folder / "m.onnx"), save_as_external_data=True, all_tensors_to_one_file=False, size_threshold=0)
    assert len(list(folder.iterdir())) > 2  # one file per tensor
    out = [json.loads(run_modelpress("eval", m, "--data", TEST, "--json").stdout)["accuracy"] for m in (inline, folder / "m.onnx")]
    assert out[0] == out[1]


def external_model(tmp_path, location: str, offset: int = 0, length: int | None = None):
    """The CNN with its first large initializer pointing at `location`."""
    inline = tmp_path / "inline.onnx"
    run_modelpress("export", CNN, "-o", inline, "-q")
    model = onnx.load(str(inline))
    tensor = next(t for t in model.graph.initializer if len(t.raw_data) >= 1024)
    size = len(tensor.raw_data)
    tensor.ClearField("raw_data")
    tensor.data_location = onnx.TensorProto.EXTERNAL
    entries = {"location": location, "offset": str(offset), "length": str(size if length is None else length)}
    for k, v in entries.items():
        e = tensor.external_data.add()
        e.key, e.value = k, v
    folder = tmp_path / "m"
    folder.mkdir(exist_ok=True)
    path = folder / "m.onnx"
    path.write_bytes(model.SerializeToString())
    return path, size


@pytest.mark.parametrize("case", ["dotdot", "absolute", "symlink_out", "missing", "past_end", "wrong_length"])
def test_hostile_external_data_exits_2_naming_the_file(case, tmp_path):
    outside = tmp_path / "outside.data"
    outside.write_bytes(bytes(1 << 16))
    location = {"dotdot": "../outside.data", "absolute": str(outside), "symlink_out": "link.data", "missing": "nope.data",
                "past_end": "short.data", "wrong_length": "short.data"}[case]
    path, size = external_model(tmp_path, location, length=size_for(case))
    if case == "symlink_out":
        os.symlink(outside, path.parent / "link.data")
    if case in ("past_end", "wrong_length"):
        (path.parent / "short.data").write_bytes(bytes(16))
    proc = run_modelpress("eval", path, "--data", TEST, expect=2)
    assert "m.onnx" in proc.stderr, proc.stderr
    expected = {"dotdot": "outside the model's folder", "absolute": "outside the model's folder", "symlink_out": "leads outside",
                "missing": "not a readable file", "past_end": "truncated", "wrong_length": "bytes by its shape"}[case]
    assert expected in proc.stderr, proc.stderr


def size_for(case: str) -> int | None:
    # past_end: the right length, from a 16-byte file; wrong_length: a length that disagrees with the shape.
    return {"wrong_length": 8}.get(case)
