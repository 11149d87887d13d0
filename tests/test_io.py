"""Saving and loading: safetensors arrays under torch.nn.Sequential names plus a JSON config.

- save → load round trips (float32/float64; plain, batch-norm and dropout networks);
- the file is PyTorch's state_dict of the equivalent Sequential (``load_state_dict(strict=True)``);
- writes are atomic and refuse non-finite parameters;
- loading never executes code and refuses malformed or hostile files with a clear error.
"""

from __future__ import annotations

import json
import os
import pickle
import tracemalloc

import numpy as np
import pytest
import safetensors.numpy
import torch
from safetensors import safe_open
from torch import nn

import deepmat
from deepmat import Activation, BatchNorm, Dense, Dropout, Network
from deepmat.network import save_model

# -- helpers ------------------------------------------------------------------------------


def plain_net(dtype: str) -> Network:
    return Network([4, 6, 5, 3], "tanh", "softmax", seed=1, dtype=dtype)


def bn_net(dtype: str) -> Network:
    layers = [
        Dense(6, "identity"),
        BatchNorm(),
        Activation("relu"),
        Dense(5, "leaky_relu"),
        BatchNorm(momentum=0.2, eps=1e-3),
        Dense(3, "softmax"),
    ]
    return Network(layers=layers, input_dim=4, seed=2, dtype=dtype, init="he")


def dropout_net(dtype: str) -> Network:
    layers = [Dense(6, "relu", l2=0.01), Dropout(0.3), Dense(5, "sigmoid"), Dropout(0.1), Dense(3, "softmax")]
    return Network(layers=layers, input_dim=4, seed=3, dtype=dtype, l2=0.001)


NETS = {"plain": plain_net, "batchnorm": bn_net, "dropout": dropout_net}


def data(m: int = 24, seed: int = 0):
    rng = np.random.RandomState(seed)
    X = rng.randn(m, 4)
    return X, np.argmax(X[:, :3] + 0.3 * rng.randn(m, 3), axis=1)


def trained(kind: str, dtype: str) -> Network:
    """A network a few Adam epochs away from its initialisation (running statistics moved)."""
    net = NETS[kind](dtype)
    X, y = data()
    net.fit(X, y, epochs=3, batch_size=8, optimizer="adam", learning_rate=0.01, verbose=0)
    return net


def read(path) -> tuple[dict[str, str], dict[str, np.ndarray]]:
    with safe_open(os.fspath(path), "numpy") as f:
        return f.metadata(), {k: f.get_tensor(k) for k in f.keys()}


def torch_sequential(config: dict) -> nn.Sequential:
    """The torch.nn.Sequential a deepmat config describes, freshly initialised."""
    activations = {
        "relu": nn.ReLU,
        "tanh": nn.Tanh,
        "sigmoid": nn.Sigmoid,
        "leaky_relu": lambda: nn.LeakyReLU(0.01),
        "softmax": lambda: nn.Softmax(dim=1),
    }
    dtype = getattr(torch, config["dtype"])
    modules: list[nn.Module] = []
    n = config["input_dim"]
    for layer in config["layers"]:
        kind = layer["type"]
        if kind == "Dense":
            modules.append(nn.Linear(n, layer["units"], dtype=dtype))
            n = layer["units"]
            if layer["activation"] != "identity":
                modules.append(activations[layer["activation"]]())
        elif kind == "BatchNorm":
            modules.append(nn.BatchNorm1d(n, momentum=layer["momentum"], eps=layer["eps"], dtype=dtype))
        elif kind == "Activation":
            if layer["activation"] != "identity":
                modules.append(activations[layer["activation"]]())
        elif kind == "Dropout":
            modules.append(nn.Dropout(layer["rate"]))
    return nn.Sequential(*modules)


# -- round trips --------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind", list(NETS))
def test_save_load_gives_identical_predictions(kind, dtype, tmp_path):
    net = trained(kind, dtype)
    path = tmp_path / "model.safetensors"
    net.save(path)
    loaded = deepmat.load(path)
    X, y = data(m=10, seed=5)
    assert loaded.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(loaded.forward(X), net.forward(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), net.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), net.predict(X))
    assert loaded.get_config() == net.get_config()
    assert loaded.layer_dims == net.layer_dims
    for name, array in net.state_arrays().items():
        assert loaded.state_arrays()[name].dtype == array.dtype
        np.testing.assert_array_equal(loaded.state_arrays()[name], array, err_msg=name)
    bns = [
        (a.num_batches_tracked, b.num_batches_tracked)
        for a, b in zip(net.layers, loaded.layers, strict=True)
        if isinstance(a, BatchNorm)
    ]
    assert all(a == b for a, b in bns)
    if kind == "batchnorm":
        assert bns == [(9, 9), (9, 9)]
    # the loaded network trains on like the same architecture with the same state (a model
    # file carries no random-generator state: both generators start from the config's seed)
    twin = NETS[kind](dtype)
    twin.load_state_arrays(net.state_arrays())
    twin.fit(X, y, epochs=1, batch_size=5, learning_rate=0.1, verbose=0)
    loaded.fit(X, y, epochs=1, batch_size=5, learning_rate=0.1, verbose=0)
    np.testing.assert_array_equal(loaded.forward(X), twin.forward(X))


def test_saved_config_holds_architecture_and_version(tmp_path):
    net = trained("batchnorm", "float64")
    path = tmp_path / "model.safetensors"
    net.save(path)
    metadata, _ = read(path)
    assert metadata["format"] == "deepmat"
    assert metadata["deepmat_version"] == deepmat.__version__
    assert "training" not in metadata
    config = json.loads(metadata["config"])
    assert config == net.get_config()
    assert config["input_dim"] == 4
    assert config["dtype"] == "float64"
    assert [layer["type"] for layer in config["layers"]] == [
        "Dense",
        "BatchNorm",
        "Activation",
        "Dense",
        "BatchNorm",
        "Dense",
    ]
    assert config["layers"][0] == {
        "type": "Dense",
        "units": 6,
        "activation": "identity",
        "init": None,
        "l2": None,
    }
    assert config["layers"][4] == {"type": "BatchNorm", "momentum": 0.2, "eps": 1e-3}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind", list(NETS))
def test_file_is_the_torch_sequential_state_dict(kind, dtype, tmp_path):
    net = trained(kind, dtype)
    path = tmp_path / "model.safetensors"
    net.save(path)
    metadata, arrays = read(path)
    model = torch_sequential(json.loads(metadata["config"]))
    assert set(arrays) == set(model.state_dict())
    for key, tensor in model.state_dict().items():
        assert arrays[key].shape == tuple(tensor.shape), key
    model.load_state_dict({k: torch.from_numpy(v) for k, v in arrays.items()}, strict=True)
    model.eval()
    X, _ = data(m=10, seed=6)
    with torch.no_grad():
        out = model(torch.from_numpy(X.astype(dtype))).numpy()
    rtol = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(out, net.forward(X), rtol=rtol, atol=rtol)
    # the biases are flattened columns and the weights are stored as they are
    np.testing.assert_array_equal(arrays["0.weight"], net.params["W1"])
    np.testing.assert_array_equal(arrays["0.bias"], net.params["b1"][:, 0])


def test_batchnorm_keys_follow_torch_module_numbering(tmp_path):
    net = trained("batchnorm", "float64")
    path = tmp_path / "model.safetensors"
    net.save(path)
    _, arrays = read(path)
    # 0 Linear, 1 BatchNorm1d, 2 ReLU, 3 Linear, 4 LeakyReLU, 5 BatchNorm1d, 6 Linear, 7 Softmax
    np.testing.assert_array_equal(arrays["1.weight"], net.params["gamma1"][:, 0])
    np.testing.assert_array_equal(arrays["1.running_var"], net.buffers["running_var1"][:, 0])
    np.testing.assert_array_equal(arrays["5.running_mean"], net.buffers["running_mean2"][:, 0])
    np.testing.assert_array_equal(arrays["6.weight"], net.params["W3"])
    assert arrays["1.num_batches_tracked"].dtype == np.int64
    assert int(arrays["1.num_batches_tracked"]) == 9


# -- atomic writes ------------------------------------------------------------------------


def test_saving_over_an_existing_file_leaves_no_temp_files(tmp_path):
    path = tmp_path / "model.safetensors"
    first = trained("plain", "float64")
    first.save(path)
    old = path.read_bytes()
    second = plain_net("float64")
    second.save(path)
    assert path.read_bytes() != old
    assert os.listdir(tmp_path) == ["model.safetensors"]
    X, _ = data(m=5)
    np.testing.assert_array_equal(deepmat.load(path).forward(X), second.forward(X))


def test_a_failing_write_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "model.safetensors"
    plain_net("float64").save(path)
    old = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(deepmat.io.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        trained("plain", "float64").save(path)
    monkeypatch.undo()
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == ["model.safetensors"]


@pytest.mark.parametrize(
    ("name", "value"), [("W1", np.nan), ("b2", np.inf), ("gamma1", -np.inf), ("running_var2", np.nan)]
)
def test_save_refuses_non_finite_state_and_keeps_the_old_file(name, value, tmp_path):
    net = bn_net("float64")
    path = tmp_path / "model.safetensors"
    net.save(path)
    old = path.read_bytes()
    net.state_arrays()[name].reshape(-1)[0] = value  # the live array
    with pytest.raises(ValueError, match=f"{name} must be finite"):
        net.save(path)
    with pytest.raises(ValueError, match="finite"):
        save_model(net, tmp_path / "new.safetensors")
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == ["model.safetensors"]


# -- refusing bad files -------------------------------------------------------------------


@pytest.fixture
def valid(tmp_path):
    """A valid model file: its path, metadata, arrays and config."""
    net = trained("batchnorm", "float64")
    path = tmp_path / "valid.safetensors"
    net.save(path)
    metadata, arrays = read(path)
    return path, metadata, arrays, json.loads(metadata["config"])


def write(tmp_path, arrays, metadata, name="bad.safetensors"):
    path = tmp_path / name
    safetensors.numpy.save_file(arrays, os.fspath(path), metadata=metadata)
    return path


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no model file"):
        deepmat.load(tmp_path / "nothing.safetensors")
    with pytest.raises(FileNotFoundError):
        deepmat.load(tmp_path)  # a folder is not a model file


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\x00" * 7,
        "first half",
        "random",
        b'\x10\x00\x00\x00\x00\x00\x00\x00{"a": 1}       ',
        b"\xff" * 8 + b"{}",  # a header length of 2**64 - 1
        "pickle",
    ],
    ids=["empty", "short", "truncated", "random", "bad-header", "huge-header", "pickle"],
)
def test_unreadable_bytes_raise_value_error(content, valid, tmp_path):
    path, *_ = valid
    if content == "first half":
        data_ = path.read_bytes()
        content = data_[: len(data_) // 2]
    elif content == "random":
        content = np.random.RandomState(0).bytes(500)
    elif content == "pickle":
        content = pickle.dumps(Exploit(os.fspath(tmp_path / "pwned")))
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(content)
    with pytest.raises(ValueError, match=r"bad\.safetensors"):
        deepmat.load(bad)
    assert not (tmp_path / "pwned").exists()


class Exploit:
    """Unpickling this would create a file: loading must never unpickle."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_valid_safetensors_without_deepmat_metadata(valid, tmp_path):
    _, _, arrays, _ = valid
    for metadata in (None, {"format": "pt"}, {"config": "{}"}):
        path = write(tmp_path, arrays, metadata)
        with pytest.raises(ValueError, match="not a deepmat model"):
            deepmat.load(path)


@pytest.mark.parametrize("config", ["{not json", "", "[1, 2]", "null", '"a string"'])
def test_config_that_is_not_a_json_object(config, valid, tmp_path):
    _, metadata, arrays, _ = valid
    path = write(tmp_path, arrays, {**metadata, "config": config})
    with pytest.raises(ValueError, match="config"):
        deepmat.load(path)


def edit_config(config: dict, edit: str) -> dict:
    config = json.loads(json.dumps(config))
    if edit == "extra key":
        config["evil"] = "__import__('os').system('true')"
    elif edit == "missing key":
        del config["loss"]
    elif edit == "extra layer key":
        config["layers"][0]["evil"] = 1
    elif edit == "unknown layer type":
        config["layers"][1]["type"] = "Conv2d"
    elif edit == "layer not an object":
        config["layers"][1] = "BatchNorm"
    elif edit == "layers not a list":
        config["layers"] = {"0": config["layers"][0]}
    elif edit == "unknown activation":
        config["layers"][2]["activation"] = "swish"
    elif edit == "unknown loss":
        config["loss"] = "hinge"
    elif edit == "unknown dtype":
        config["dtype"] = "int8"
    elif edit == "seed not an integer":
        config["seed"] = "abc"
    elif edit == "units not an integer":
        config["layers"][0]["units"] = "6"
    elif edit == "input_dim not an integer":
        config["input_dim"] = 4.0
    else:
        raise AssertionError(edit)
    return config


CONFIG_EDITS = [
    "extra key",
    "missing key",
    "extra layer key",
    "unknown layer type",
    "layer not an object",
    "layers not a list",
    "unknown activation",
    "unknown loss",
    "unknown dtype",
    "seed not an integer",
    "units not an integer",
    "input_dim not an integer",
]


@pytest.mark.parametrize("edit", CONFIG_EDITS)
def test_bad_config_raises_value_error(edit, valid, tmp_path):
    _, metadata, arrays, config = valid
    path = write(tmp_path, arrays, {**metadata, "config": json.dumps(edit_config(config, edit))})
    with pytest.raises(ValueError):
        deepmat.load(path)


def test_config_with_unexpected_keys_names_them(valid, tmp_path):
    _, metadata, arrays, config = valid
    path = write(tmp_path, arrays, {**metadata, "config": json.dumps(edit_config(config, "extra key"))})
    with pytest.raises(ValueError, match="evil"):
        deepmat.load(path)


def test_shapes_disagreeing_with_the_config(valid, tmp_path):
    _, metadata, arrays, config = valid
    wider = json.loads(json.dumps(config))
    wider["layers"][0]["units"] = 7
    path = write(tmp_path, arrays, {**metadata, "config": json.dumps(wider)})
    with pytest.raises(ValueError, match=r"'0.weight' is \(6, 4\) but the config implies \(7, 4\)"):
        deepmat.load(path)
    transposed = {**arrays, "3.weight": np.ascontiguousarray(arrays["3.weight"].T)}
    with pytest.raises(ValueError, match=r"3\.weight"):
        deepmat.load(write(tmp_path, transposed, metadata, "transposed.safetensors"))
    column_bias = {**arrays, "0.bias": arrays["0.bias"].reshape(-1, 1)}
    with pytest.raises(ValueError, match=r"0\.bias"):
        deepmat.load(write(tmp_path, column_bias, metadata, "column.safetensors"))


def test_missing_array(valid, tmp_path):
    _, metadata, arrays, _ = valid
    del arrays["1.running_var"]
    with pytest.raises(ValueError, match=r"1\.running_var"):
        deepmat.load(write(tmp_path, arrays, metadata))


def test_wrong_dtype_versus_config(valid, tmp_path):
    _, metadata, arrays, _ = valid
    as32 = {k: v.astype(np.float32) if v.dtype == np.float64 else v for k, v in arrays.items()}
    with pytest.raises(ValueError, match="float32 but the config says float64"):
        deepmat.load(write(tmp_path, as32, metadata))
    as_int = {**arrays, "0.weight": arrays["0.weight"].astype(np.int64)}
    with pytest.raises(ValueError, match="int64"):
        deepmat.load(write(tmp_path, as_int, metadata, "int.safetensors"))


def test_non_finite_arrays_in_the_file(valid, tmp_path):
    _, metadata, arrays, _ = valid
    arrays["3.bias"] = arrays["3.bias"].copy()
    arrays["3.bias"][2] = np.nan
    with pytest.raises(ValueError, match="finite"):
        deepmat.load(write(tmp_path, arrays, metadata))


@pytest.mark.parametrize("where", ["units", "input_dim"])
def test_huge_declared_units_raise_without_allocating(where, valid, tmp_path):
    _, metadata, arrays, config = valid
    huge = json.loads(json.dumps(config))
    if where == "units":
        huge["layers"][0]["units"] = 10**12
    else:
        huge["input_dim"] = 10**12
    path = write(tmp_path, arrays, {**metadata, "config": json.dumps(huge)})
    # refused from the config alone: trying to allocate (10**12, 4) would raise MemoryError
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="layer sizes must be integers"):
            deepmat.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2**20


def test_extra_unknown_arrays(valid, tmp_path):
    _, metadata, arrays, _ = valid
    arrays["evil"] = np.zeros(3)
    with pytest.raises(ValueError, match=r"unexpected arrays \['evil'\]"):
        deepmat.load(write(tmp_path, arrays, metadata))


def test_loading_a_checkpoint_gives_its_model(tmp_path):
    X, y = data()
    net = bn_net("float32")
    path = tmp_path / "ckpt.safetensors"
    net.fit(X, y, epochs=2, batch_size=8, optimizer="adam", checkpoint=path, verbose=0)
    metadata, arrays = read(path)
    assert "training" in metadata
    assert any(k.startswith("optimizer.") for k in arrays)
    loaded = deepmat.load(path)
    np.testing.assert_array_equal(loaded.forward(X), net.forward(X))
    assert loaded.forward(X).dtype == np.float32
