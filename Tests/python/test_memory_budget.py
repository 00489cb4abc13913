"""Work that cannot fit in the memory the process may use is refused up front (exit 2, the
file and the limit named, nothing written) instead of being killed half-way: under
`MODELPRESS_MEMORY_LIMIT` and under a real address-space limit (`ulimit -v`)."""

from __future__ import annotations

import os
import resource
import subprocess

from onnx import TensorProto, helper

from conftest import BINARY, FIXTURES, run_modelpress

MOBILENET = FIXTURES / "models" / "keras3" / "mobilenetv2_96.h5"


def run(*args, env_extra: dict[str, str], limit_bytes: int | None = None) -> subprocess.CompletedProcess:
    def limit():
        if limit_bytes is not None:
            resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))

    env = dict(os.environ, **env_extra)
    return subprocess.run([BINARY, *map(str, args)], capture_output=True, text=True, timeout=300, env=env, preexec_fn=limit)


def test_a_command_that_does_not_fit_the_budget_is_refused_before_it_writes(tmp_path):
    out = tmp_path / "m.onnx"
    # MobileNetV2-0.35 holds 1,691,208 float32 weights = 6.45 MiB: reading it needs that much.
    proc = run("export", MOBILENET, "-o", out, env_extra={"MODELPRESS_MEMORY_LIMIT": "4M"})
    assert proc.returncode == 2, proc.stderr
    assert str(MOBILENET) in proc.stderr and "MODELPRESS_MEMORY_LIMIT=4M" in proc.stderr and "MODELPRESS_MEMORY_CHECK=0" in proc.stderr
    assert "needs about 7 MiB more memory" in proc.stderr, proc.stderr
    assert not out.exists()
    # Turning the check off runs it; a budget that fits runs it too.
    assert run("export", MOBILENET, "-o", out, "-q", env_extra={"MODELPRESS_MEMORY_LIMIT": "4M", "MODELPRESS_MEMORY_CHECK": "0"}).returncode == 0
    assert run("export", MOBILENET, "-o", tmp_path / "n.onnx", "-q", env_extra={"MODELPRESS_MEMORY_LIMIT": "2G"}).returncode == 0
    assert (tmp_path / "n.onnx").read_bytes() == out.read_bytes()


def test_external_data_larger_than_the_address_space_limit_is_refused_before_reading(tmp_path):
    # A 2 GiB weight in external data (a sparse file: nothing is read) under a 1.5 GiB limit.
    rows, cols = 1 << 15, 1 << 14
    weight = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[rows, cols])
    weight.data_location = TensorProto.EXTERNAL
    for key, value in [("location", "big.onnx.data"), ("offset", "0"), ("length", str(rows * cols * 4))]:
        weight.external_data.add(key=key, value=value)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "big",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", rows])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", cols])], initializer=[weight])
    model = tmp_path / "big.onnx"
    model.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8).SerializeToString())
    with open(tmp_path / "big.onnx.data", "wb") as f:
        f.truncate(rows * cols * 4)
    proc = run("inspect", model, env_extra={}, limit_bytes=3 << 29)
    assert proc.returncode == 2, proc.stderr
    assert "reading its 2.0 GiB of weights" in proc.stderr and "ulimit -v" in proc.stderr, proc.stderr


def test_the_small_models_of_every_test_are_not_affected():
    # A budget far above the need changes nothing: the same bytes as without a budget.
    a = run_modelpress("inspect", MOBILENET, "--json").stdout
    b = run("inspect", MOBILENET, "--json", env_extra={"MODELPRESS_MEMORY_LIMIT": "64G"})
    assert b.returncode == 0 and b.stdout == a
