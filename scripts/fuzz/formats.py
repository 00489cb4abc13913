"""The input formats the fuzz harness covers: for each, its seeds (in the repository), how a
seed is mutated (binary, text or zip) and the command that reads a mutant.

A command is a list of arguments after the binary; `{file}` is the mutant, `{out}` a fresh
output folder, `{root}` the repository. Text seeds may hold `@ROOT@`, replaced by the
repository's absolute path before mutation (so a mutant in a temporary folder still names
real models and data)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Format:
    """One fuzzed input format."""

    name: str
    kind: str                    # "binary", "text" or "zip": which mutators apply
    seeds: tuple[str, ...]       # paths relative to the repository
    command: tuple[str, ...]     # arguments after the binary
    suffix: str                  # the mutant's file name ends with this
    companions: dict[str, str] = field(default_factory=dict)  # file name -> seed path copied beside the mutant


KERAS_EXPORT = ("export", "{file}", "-o", "{out}/model.onnx", "-q")
ONNX_EVAL = ("eval", "{file}", "--data", "{root}/fixtures/fuzz/seeds/digits16.h5", "-q")

FORMATS = [
    Format("keras3-h5", "binary", ("fixtures/models/keras3/cnn.h5", "fixtures/models/keras3/functional.h5",
                                   "fixtures/models/keras3/zoo_norm.h5"), KERAS_EXPORT, ".h5"),
    Format("keras2-h5", "binary", ("fixtures/models/keras2/cnn.h5", "fixtures/models/keras2/functional.h5",
                                   "fixtures/models/keras2/zoo_misc.h5"), KERAS_EXPORT, ".h5"),
    Format("keras2-old-h5", "binary", ("fixtures/models/legacy/cnn_fixedlen.h5",), KERAS_EXPORT, ".h5"),
    Format("keras-archive", "zip", ("fixtures/models/keras3/cnn.keras", "fixtures/models/keras3/zoo_norm.keras"),
           KERAS_EXPORT, ".keras"),
    Format("weights-h5", "binary", ("fixtures/models/keras3/functional.weights.h5",), KERAS_EXPORT, ".weights.h5",
           {"model.json": "fixtures/models/keras3/functional.json"}),
    Format("architecture-json", "text", ("fixtures/models/keras3/functional.json",),
           ("export", "{dir}/model.weights.h5", "--architecture", "{file}", "-o", "{out}/model.onnx", "-q"), ".json",
           {"model.weights.h5": "fixtures/models/keras3/functional.weights.h5"}),
    Format("onnx-float", "binary", ("fixtures/fuzz/seeds/cnn.float.onnx",), ONNX_EVAL, ".onnx"),
    Format("onnx-qdq", "binary", ("fixtures/fuzz/seeds/cnn.qdq.onnx",), ONNX_EVAL, ".onnx"),
    Format("onnx-qoperator", "binary", ("fixtures/fuzz/seeds/cnn.qoperator.onnx",), ONNX_EVAL, ".onnx"),
    Format("onnx-sparse", "binary", ("fixtures/fuzz/seeds/cnn.sparse.onnx",), ONNX_EVAL, ".onnx"),
    Format("dataset-h5", "binary", ("fixtures/fuzz/seeds/digits16.h5",),
           ("eval", "{root}/fixtures/fuzz/seeds/cnn.float.onnx", "--data", "{file}", "-q"), ".h5"),
    Format("pipeline-yaml", "text", ("fixtures/fuzz/seeds/pipeline.yaml",),
           ("run", "{file}", "--dry-run", "--out", "{out}"), ".yaml"),
    Format("batch-manifest", "text", ("fixtures/fuzz/seeds/batch.yaml",),
           ("batch", "{file}", "--list", "--out", "{out}"), ".yaml"),
]

BY_NAME = {f.name: f for f in FORMATS}
