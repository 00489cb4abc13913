"""Keras layers ModelPress decodes by name are refused by name when the name is unknown:
a tf-keras TFOpLambda calling a TensorFlow function outside the decoded list."""

from __future__ import annotations

import shutil

import h5py

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
