"""Keras layers ModelPress decodes by name are refused by name when the name is unknown:
a tf-keras TFOpLambda calling a TensorFlow function outside the decoded list, and a Keras 3
operation (`keras.src.ops.*` node) outside the decoded list, in `.keras` and `.h5`; and what
ModelPress does not run — deep nesting, out-of-vocabulary ids, masks, a keras-hub block, a
stateful LSTM, a dataset of the wrong shape for one of several inputs — with exit 2 naming it."""

from __future__ import annotations

import json
import shutil
import zipfile

import h5py
import numpy as np

from conftest import FIXTURES, run_modelpress


def test_unknown_tfoplambda_function_is_refused_naming_layer_and_function(tmp_path):
    model = tmp_path / "mnv3.h5"
    shutil.copyfile(FIXTURES / "models" / "keras2" / "apps" / "mobilenet_v3_small.h5", model)
    with h5py.File(model, "r+") as f:
        config = f.attrs["model_config"]
        config = config.decode() if isinstance(config, bytes) else config
        assert '"function": "math.multiply"' in config
        f.attrs["model_config"] = config.replace('"function": "math.multiply"', '"function": "math.bessel_i0"', 1)
    proc = run_modelpress("inspect", model, expect=2)
    assert "math.bessel_i0" in proc.stderr and "TFOpLambda" in proc.stderr and str(model) in proc.stderr, proc.stderr
    assert "tf.math.multiply" in proc.stderr, proc.stderr  # the layer's name


def test_unknown_keras3_operation_is_refused_naming_layer_and_operation(tmp_path):
    # .h5: no module recorded; the op is known by class name and a config without `trainable`.
    def rename_sqrt(config):
        next(layer for layer in config["config"]["layers"] if layer["class_name"] == "Sqrt")["class_name"] = "Cumsum"
        return config

    model = _with_config(tmp_path, "keras3/operations.h5", "operations.h5", rename_sqrt)
    proc = run_modelpress("inspect", model, expect=2)
    assert str(model) in proc.stderr and "'sqrt'" in proc.stderr and "Cumsum" in proc.stderr, proc.stderr

    # .keras: the module says it is an operation, so an unknown one is refused as such.
    archive = tmp_path / "operations.keras"
    with zipfile.ZipFile(FIXTURES / "models" / "keras3" / "operations.keras") as source, zipfile.ZipFile(archive, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "config.json":
                config = json.loads(data)
                op = next(layer for layer in config["config"]["layers"] if layer["class_name"] == "Sqrt")
                assert op["module"] == "keras.src.ops.numpy"
                op["class_name"] = op["registered_name"] = "Cumsum"
                data = json.dumps(config).encode()
            target.writestr(item, data)
    proc = run_modelpress("inspect", archive, expect=2)
    assert "keras.src.ops.numpy.Cumsum" in proc.stderr and "'sqrt'" in proc.stderr and "Sqrt" in proc.stderr, proc.stderr  # the list of decoded ones


def _with_config(tmp_path, source: str, name: str, edit):
    """A copy of fixture model `source` (under fixtures/models) named `name`, its
    `model_config` replaced by `edit(config)` (the parsed JSON; a string result is written as is)."""
    model = tmp_path / name
    shutil.copyfile(FIXTURES / "models" / source, model)
    with h5py.File(model, "r+") as f:
        config = edit(json.loads(f.attrs["model_config"]))
        f.attrs["model_config"] = config if isinstance(config, str) else json.dumps(config)
    return model


def test_models_nested_past_the_depth_limit_are_refused_naming_the_layer(tmp_path):
    # The fixture's Sequential wrapped in 40 more Sequentials, each holding the one before.
    def wrap(config):
        for level in range(40):
            inner = dict(config, config=dict(config["config"], name=f"wrap{level}"))
            config = {"class_name": "Sequential", "config": {"name": f"wrap{level + 1}", "layers": [
                {"class_name": "InputLayer", "config": {"batch_shape": [None, 16, 16, 3], "name": f"in{level}"}},
                inner]}}
        return config

    model = _with_config(tmp_path, "keras3/nested_seq.h5", "deep.h5", wrap)
    proc = run_modelpress("inspect", model, expect=2)
    assert "nests models more than 32 deep" in proc.stderr and str(model) in proc.stderr and "wrap" in proc.stderr, proc.stderr


def test_a_config_nested_a_million_deep_is_refused_without_a_crash(tmp_path):
    model = _with_config(tmp_path, "keras3/nested_seq.h5", "brackets.h5", lambda _: "[" * 1_000_000 + "]" * 1_000_000)
    proc = run_modelpress("inspect", model, expect=2)
    assert str(model) in proc.stderr and "JSON" in proc.stderr, proc.stderr


def test_a_token_id_outside_the_vocabulary_is_refused_naming_the_layer(tmp_path):
    with h5py.File(FIXTURES / "data" / "token_inputs.h5", "r") as f:
        x = f["x"][()]
    x[1, 3] = 50  # the tables have 50 rows
    data = tmp_path / "tokens.h5"
    with h5py.File(data, "w") as f:
        f["x"] = x
    proc = run_modelpress("predict", FIXTURES / "models" / "keras3" / "text.h5", "--data", data, "-o", tmp_path / "p.h5", expect=2)
    assert "layer 'embed" in proc.stderr and "token id 50" in proc.stderr and "0 to 49" in proc.stderr, proc.stderr
    assert not (tmp_path / "p.h5").exists()


def test_a_mask_reaching_a_layer_that_would_read_it_differently_is_refused(tmp_path):
    """The per-step Dense after the masked GRU replaced by a Softmax, which reads the mask in Keras
    (ModelPress does not model how): refused naming the layer and the mask's source."""
    def softmax(config):
        layer = next(layer for layer in config["config"]["layers"] if layer["config"]["name"] == "per_step")
        layer.update(class_name="Softmax", config={"name": "per_step", "trainable": True, "dtype": "float32", "axis": -1})
        return config

    model = _with_config(tmp_path, "keras2/masked_text.h5", "softmax.h5", softmax)
    proc = run_modelpress("inspect", model, expect=2)
    assert "'per_step'" in proc.stderr and "receives a mask" in proc.stderr and str(model) in proc.stderr, proc.stderr


def test_a_mask_of_the_wrong_shape_is_refused_naming_the_layer(tmp_path):
    """Keras 3 records the mask it passes to a recurrent layer (`mask=`); pointed at the N×12×4
    input instead of the N×12 step mask, the GRU is refused with both shapes."""
    def wrong_mask(config):
        layer = next(layer for layer in config["config"]["layers"] if layer["config"]["name"] == "gru_before")
        layer["inbound_nodes"][0]["kwargs"]["mask"]["config"]["keras_history"] = ["sequence", 0, 0]
        return config

    model = _with_config(tmp_path, "keras3/masked_sequence.h5", "wrong_mask.h5", wrong_mask)
    proc = run_modelpress("inspect", model, expect=2)
    assert "'gru_before'" in proc.stderr and "mask of 12×4" in proc.stderr and str(model) in proc.stderr, proc.stderr


def test_a_keras_hub_class_it_does_not_read_is_refused_as_a_custom_class(tmp_path):
    """keras-hub's RotaryEmbedding (`keras_hub>RotaryEmbedding`, as a Keras 3 `.h5` names it) in
    place of the fixture's MultiHeadAttention: refused naming the layer and the class, with the
    keras-hub blocks it does read; never imported."""
    def hub(config):
        layer = next(layer for layer in config["config"]["layers"] if layer["class_name"] == "MultiHeadAttention")
        layer.update(class_name="keras_hub>RotaryEmbedding")
        return config

    model = _with_config(tmp_path, "keras3/transformer.h5", "hub.h5", hub)
    proc = run_modelpress("inspect", model, expect=2)
    assert "keras_hub>RotaryEmbedding" in proc.stderr and "'self_attention'" in proc.stderr and str(model) in proc.stderr, proc.stderr
    assert "TransformerEncoder" in proc.stderr, proc.stderr  # the keras-hub blocks it reads


def test_a_stateful_lstm_and_an_attention_mask_of_the_wrong_shape_are_refused(tmp_path):
    def stateful(config):
        next(layer for layer in config["config"]["layers"] if layer["class_name"] == "LSTM")["config"]["stateful"] = True
        return config

    model = _with_config(tmp_path, "keras3/lstm_text.h5", "stateful.h5", stateful)
    proc = run_modelpress("inspect", model, expect=2)
    assert "'lstm_seq'" in proc.stderr and "stateful" in proc.stderr, proc.stderr

    # The multi-input model fed the features where its mask goes (names not the inputs', so in
    # order): the shape check names the dataset.
    data = FIXTURES / "data" / "multi_inputs.h5"
    proc = run_modelpress("predict", FIXTURES / "models" / "keras3" / "multi_input.h5", "--data", data,
                          "--x-key", "tokens,features,features", "-o", tmp_path / "p.h5", expect=2)
    assert "features" in proc.stderr and "expects" in proc.stderr, proc.stderr
    assert not (tmp_path / "p.h5").exists()


def test_a_variable_length_keras_input_is_refused_without_data_and_sized_by_it(tmp_path):
    """`Input(shape=(None,))` (variable-length text): refused by `inspect` with the way out, sized
    by the data otherwise — the model with its input opened predicts what the fixed one does."""
    def open_length(config):
        layer = next(layer for layer in config["config"]["layers"] if layer["class_name"] == "InputLayer")
        layer["config"]["batch_input_shape"] = [None, None]
        return config

    model = _with_config(tmp_path, "keras2/masked_text.h5", "open.h5", open_length)
    proc = run_modelpress("inspect", model, expect=2)
    assert "'tokens'" in proc.stderr and "--dim tokens.1=SIZE" in proc.stderr and str(model) in proc.stderr, proc.stderr
    data = FIXTURES / "data" / "padded_tokens.h5"
    fixed, opened = tmp_path / "fixed.h5", tmp_path / "opened.h5"
    run_modelpress("predict", FIXTURES / "models" / "keras2" / "masked_text.h5", "--data", data, "-o", fixed, "-q")
    run_modelpress("predict", model, "--data", data, "-o", opened, "-q")
    with h5py.File(fixed, "r") as a, h5py.File(opened, "r") as b:
        assert np.array_equal(a["y_pred"][()], b["y_pred"][()])
    proc = run_modelpress("inspect", model, "--dim", "tokens.1=8", "--json")
    assert json.loads(proc.stdout)["inputs"][0]["shape"][1:] == [8], proc.stdout
