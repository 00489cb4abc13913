#!/usr/bin/env python3
"""Writes the crafted inputs of the regression corpus (fixtures/fuzz/regressions/): files
that reach a failure class directly instead of waiting for the fuzzer to find it again.
The corpus's other files are mutants the fuzzer found (cases.json says which seed, strategy
and failure). Run with the test venv: .test-venv/bin/python scripts/fuzz/make_regressions.py"""

import struct
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "fixtures/fuzz/regressions"


def huge_dataspace() -> None:
    """digits16.h5 with dataset x's dataspace (dims and max dims) declaring 2^40 × 8 × 8 × 1
    float32s, 256 TiB (and y 2^40 labels): the allocation that trapped HDF5Dataset before HDF5Limits."""
    data = bytearray((ROOT / "fixtures/fuzz/seeds/digits16.h5").read_bytes())
    dims = b"".join(struct.pack("<Q", d) for d in (16, 8, 8, 1))
    at = data.find(dims)
    assert at >= 0 and data.find(dims, at + 1) == at + len(dims), "the seed's dataspace layout changed"
    for offset in (at, at + len(dims)):  # dims, then max dims
        data[offset: offset + 8] = struct.pack("<Q", 1 << 40)
    labels = struct.pack("<QQ", 16, 16)  # y's dims and max dims, so the sample counts agree
    at = data.find(labels)
    assert at >= 0, "the seed's label dataspace layout changed"
    data[at: at + 16] = struct.pack("<QQ", 1 << 40, 1 << 40)
    (OUT / "dataset-huge-dataspace.h5").write_bytes(bytes(data))


def huge_kernel() -> None:
    """cnn.h5 (Keras 3) with every (128, 64) dataspace (the dense kernel and its optimizer
    slots, dims and max dims) declaring 2^40 × 64 float32s: Keras weights are read whole,
    so this is the path that asked for terabytes and trapped."""
    data = (ROOT / "fixtures/models/keras3/cnn.h5").read_bytes()
    dims = struct.pack("<QQ", 128, 64)
    assert data.count(dims) == 6, "the fixture's dataspace layout changed"
    data = data.replace(dims, struct.pack("<QQ", 1 << 40, 64))
    (OUT / "keras3-huge-kernel-dataspace.h5").write_bytes(data)


def yaml_bombs() -> None:
    """A pipeline whose aliases expand to 9^9 strings ("billion laughs"), and one nested
    100,000 lists deep."""
    lines = ["version: 1", "name: bomb", "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    lines.append("model: *a9")
    (OUT / "yaml-alias-bomb.yaml").write_text("\n".join(lines) + "\n")
    (OUT / "yaml-deep-nesting.yaml").write_text("version: 1\nname: deep\nmodel: " + "[" * 100_000 + "]" * 100_000 + "\n")


def onnx_attacks() -> None:
    """ONNX files declaring absurd sizes, and one whose external data leaves its folder."""
    import onnx
    from onnx import TensorProto, helper

    def model(initializer, input_dims=(1, 4)):
        graph = helper.make_graph(
            [helper.make_node("Add", ["x", "w"], ["y"])], "attack",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(input_dims))],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [initializer])
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="fuzz")

    huge = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[1 << 31, 1 << 31, 1 << 31], raw_data=b"\0" * 16)
    onnx.save(model(huge), OUT / "onnx-absurd-initializer-dims.onnx")
    small = helper.make_tensor("w", TensorProto.FLOAT, [1], [1])
    onnx.save(model(small, input_dims=(1 << 62, 1 << 62)), OUT / "onnx-absurd-input-dims.onnx")
    external = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[4], data_location=TensorProto.EXTERNAL)
    for key, value in (("location", "../../../../etc/passwd"), ("offset", "0"), ("length", "16")):
        external.external_data.add(key=key, value=value)
    onnx.save(model(external), OUT / "onnx-external-data-escape.onnx")


def zip_dotdot() -> None:
    """zoo_norm.keras with its weights entry renamed ../model.weights.h5."""
    import io
    import zipfile
    source = zipfile.ZipFile(ROOT / "fixtures/models/keras3/zoo_norm.keras")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            name = "../model.weights.h5" if info.filename == "model.weights.h5" else info.filename
            entry = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(entry, source.read(info))
    (OUT / "keras-archive-dotdot-entry.keras").write_bytes(buffer.getvalue())


if __name__ == "__main__":
    huge_dataspace()
    huge_kernel()
    yaml_bombs()
    onnx_attacks()
    zip_dotdot()
