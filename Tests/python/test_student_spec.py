"""JSON student specs (`--student spec.json`): a spec trains, and the exported ONNX runs in
onnxruntime with the outputs the ModelPress engine predicts; bad specs exit 2 naming the key."""

from __future__ import annotations

import json

import h5py
import numpy as np
import onnx
import pytest

from conftest import FIXTURES, max_abs_diff, read_predictions, run_modelpress
from ort_helpers import run_ort

TRAIN = FIXTURES / "data" / "digits_train.h5"
TEST = FIXTURES / "data" / "digits_test.h5"

SPECS = {
    # The example: conv → pool → flatten → dense → dropout → logits.
    "conv_stack": {"input": [8, 8, 1], "layers": [
        {"conv": {"filters": 8, "kernel": 3, "strides": 1, "padding": "same", "activation": "relu"}},
        {"maxpool": 2}, {"flatten": {}}, {"dense": {"units": 32, "activation": "relu"}},
        {"dropout": 0.1}, {"dense": {"units": 10}}]},
    # Every other image layer: padding, valid/strided conv, depthwise, separable, BN, activation,
    # average pooling with same padding, global pooling, and a final softmax.
    "mobile_stack": {"input": [8, 8, 1], "layers": [
        {"zero_padding": 1},
        {"conv": {"filters": 6, "kernel": [3, 3], "padding": "valid", "use_bias": False}},
        {"batchnorm": {"momentum": 0.9}}, {"activation": "relu6"},
        {"depthwise_conv": {"kernel": 3, "depth_multiplier": 2, "activation": "swish"}},
        {"separable_conv": {"filters": 12, "kernel": 3, "strides": 2, "activation": "relu"}},
        {"avgpool": {"pool": 2, "strides": 1, "padding": "same"}},
        {"batchnorm": {"momentum": 0.9}},
        {"global_avgpool": {}},
        {"dense": {"units": 16, "activation": "gelu"}}, {"dropout": {"rate": 0.2}},
        {"dense": {"units": 10, "activation": "softmax"}}]},
    # A flat input reshaped to an image by the declared input shape.
    "flat_to_image": {"input": [8, 8, 1], "layers": [
        {"conv": {"filters": 16, "kernel": 3, "activation": "tanh"}}, {"global_maxpool": {}},
        {"batchnorm": {}}, {"dense": {"units": 10}}]},
}

MIN_ACCURACY = {"conv_stack": 0.8, "mobile_stack": 0.5, "flat_to_image": 0.15}


def x_of(path, key):
    with h5py.File(path, "r") as f:
        return f[key][()].astype(np.float32)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_spec_trains_and_its_onnx_matches_the_engine(name, tmp_path):
    spec = tmp_path / f"{name}.json"
    spec.write_text(json.dumps(SPECS[name]))
    out, log = tmp_path / "student.onnx", tmp_path / "log.json"
    x_key = "x_flat" if name == "flat_to_image" else "x"
    run_modelpress("distill", "--teacher", FIXTURES / "models" / "keras3" / "mlp.h5", "--student", spec,
                   "--data", TRAIN, "--student-x-key", x_key, "--validation", TEST, "--epochs", "3",
                   "--seed", "3", "-o", out, "--log", log, "-q")
    model = onnx.load(str(out))
    onnx.checker.check_model(model, full_check=True)
    history = json.loads(log.read_text())
    # Learned something in 3 epochs: the loss fell and accuracy is above the 0.1 of chance
    # (flat_to_image, one conv then global max pooling, learns slowly: 0.63 after 10 epochs).
    assert history["epochs"][-1]["loss"] < history["epochs"][0]["loss"]
    assert history["val_accuracy"] > MIN_ACCURACY[name], history["val_accuracy"]
    # The engine's predictions of the written file equal onnxruntime's.
    pred = tmp_path / "pred.h5"
    run_modelpress("predict", out, "--data", TEST, "--x-key", x_key, "-o", pred, "-q")
    # The ONNX input is the spec's declared shape (the engine reshaped x_flat row-major to it).
    sample = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim[1:]]
    ours, theirs = read_predictions(pred), run_ort(out, x_of(TEST, x_key).reshape([-1] + sample))
    assert ours.shape == theirs.shape == (360, 10)
    assert max_abs_diff(ours, theirs) < 1e-4
    # The accuracy the log reports is the written model's (onnxruntime's argmax).
    y = x_of(TEST, "y").astype(np.int64)
    assert abs(float(np.mean(theirs.argmax(1) == y)) - history["val_accuracy"]) < 1e-9
    # A final softmax in the spec is written back (the output is probabilities); and the same
    # seed gives the same bytes (dropout masks, BN statistics and initial weights all seeded).
    if name == "mobile_stack":
        again = tmp_path / "again.onnx"
        run_modelpress("distill", "--teacher", FIXTURES / "models" / "keras3" / "mlp.h5", "--student", spec,
                       "--data", TRAIN, "--student-x-key", x_key, "--validation", TEST, "--epochs", "3",
                       "--seed", "3", "-o", again, "-q")
        assert again.read_bytes() == out.read_bytes()
        assert model.graph.node[-1].op_type == "Softmax"
        assert np.allclose(theirs.sum(1), 1, atol=1e-5)


BAD = [
    ({"layers": [{"dense": {"units": 10, "size": 3}}]}, "layers[0].dense", "unknown key 'size'"),
    ({"layers": [{"dense": {"units": 0}}]}, "layers[0].dense.units", "must be an integer"),
    ({"layers": [{"conv": {"filters": 4, "padding": "full"}}, {"flatten": {}}, {"dense": {"units": 10}}]},
     "layers[0].conv.padding", "\"same\" or \"valid\""),
    ({"layers": [{"dense": {"units": 10, "activation": "mish"}}]}, "layers[0].dense.activation", "must be one of"),
    ({"layers": [{"lstm": {"units": 4}}]}, "layers[0]", "unknown layer kind 'lstm'"),
    ({"input": [64], "layers": [{"dense": {"units": 7}}]}, "layers[0]", "must end with"),
    ({"input": [8, 8, 1], "layers": [{"conv": {"filters": 4}}, {"dense": {"units": 10}}]}, "layers[1]", "add {\"flatten\""),
    ({"input": [64], "layers": [{"maxpool": 2}, {"dense": {"units": 10}}]}, "layers[0]", "needs image samples"),
    ({"input": [9, 9, 1], "layers": [{"flatten": {}}, {"dense": {"units": 10}}]}, "input", "81 values"),
    ({"layers": [{"dropout": 1.5}, {"dense": {"units": 10}}]}, "layers[0].dropout", "upper bound excluded"),
    ({"layers": [], "optimizer": "adam"}, "(top level)", "unknown key 'optimizer'"),
    ({"input": [8, 8, 1], "layers": [{"conv": {"filters": 2}}, {"batchnorm": {"momentum": 0.9}}, {"batchnorm": {}},
                                     {"flatten": {}}, {"dense": {"units": 10}}]}, "layers[2].batchnorm.momentum", "earlier batchnorm"),
]


@pytest.mark.parametrize("spec,key,message", BAD, ids=[b[1] + ":" + b[2][:12] for b in BAD])
def test_bad_spec_exits_2_naming_the_file_and_key(spec, key, message, tmp_path):
    path = tmp_path / "bad_student.json"
    path.write_text(json.dumps(spec))
    out = tmp_path / "s.onnx"
    proc = run_modelpress("train", "--student", path, "--data", TRAIN, "-o", out, "--epochs", "1", expect=2)
    assert str(path) in proc.stderr and key in proc.stderr and message in proc.stderr, proc.stderr
    assert not out.exists()


def test_malformed_json_exits_2(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"layers": [{"dense": {"units": 10}}')
    proc = run_modelpress("train", "--student", path, "--data", TRAIN, "-o", tmp_path / "s.onnx", expect=2)
    assert str(path) in proc.stderr and "not valid JSON" in proc.stderr, proc.stderr
