"""PyTorch round trips: Network.to_torch and deepmat.from_torch, both ways, and the promise
that a saved model's safetensors keys are what torch.nn.Sequential.load_state_dict expects."""

from __future__ import annotations

import numpy as np
import pytest
import safetensors.torch
import torch
from torch import nn

import deepmat
from deepmat import Activation, BatchNorm, Dense, Dropout, Network
from training_helpers import trained

STACKS = {
    "relu/softmax": lambda: [Dense(8, "relu"), Dense(3, "softmax")],
    "tanh/sigmoid": lambda: [Dense(8, "tanh"), Dense(6, "leaky_relu"), Dense(2, "sigmoid")],
    "sigmoid/identity": lambda: [Dense(8, "sigmoid"), Dense(1, "identity")],
    "batch norm, activation and dropout layers": lambda: [
        Dense(8, "identity"),
        BatchNorm(momentum=0.2, eps=1e-4),
        Activation("relu"),
        Dropout(0.3),
        Dense(6, "tanh"),
        BatchNorm(),
        Dense(3, "identity"),
        Activation("softmax"),
    ],
    "batch norm at the input": lambda: [BatchNorm(), Dense(4, "leaky_relu"), Dense(2, "softmax")],
}


def canonical(layers: list[dict]) -> list[dict]:
    """Layer configs with Dense(identity) + Activation(g) merged into Dense(g): torch has one
    module list for both, so from_torch gives the merged form."""
    out: list[dict] = []
    for layer in layers:
        if (
            layer["type"] == "Activation"
            and out
            and out[-1]["type"] == "Dense"
            and out[-1]["activation"] == "identity"
        ):
            out[-1] = {**out[-1], "activation": layer["activation"]}
        else:
            out.append(dict(layer))
    return out


def assert_equivalent(net: Network, seq: nn.Sequential, n0: int, scale: float = 1.0) -> None:
    X = scale * np.random.default_rng(1).standard_normal((13, n0))
    X = X.astype(net.dtype)
    with torch.no_grad():
        out = seq.eval()(torch.from_numpy(X)).numpy()
    expected = net.forward(X)
    if net.dtype == np.float64:
        np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-14)
    else:
        np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("stack", STACKS)
def test_deepmat_to_torch_to_deepmat(stack, dtype):
    net = trained(Network(layers=STACKS[stack](), input_dim=5, seed=4, dtype=dtype))
    seq = net.to_torch()
    assert not seq.training
    assert next(seq.parameters()).dtype == (torch.float64 if dtype == "float64" else torch.float32)
    assert_equivalent(net, seq, 5)
    back = deepmat.from_torch(seq)
    assert canonical(back.get_config()["layers"]) == canonical(net.get_config()["layers"])
    assert back.dtype == net.dtype
    for name, value in net.state_arrays().items():
        np.testing.assert_array_equal(back.state_arrays()[name], value, err_msg=name)
    X = np.random.default_rng(2).standard_normal((20, 5))
    np.testing.assert_array_equal(back.forward(X), net.forward(X))
    np.testing.assert_array_equal(back.predict(X), net.predict(X))
    bn = [layer.num_batches_tracked for layer in net.layers if isinstance(layer, BatchNorm)]
    assert [layer.num_batches_tracked for layer in back.layers if isinstance(layer, BatchNorm)] == bn


def test_cat_and_fashion_architectures():
    cat = trained(Network([12288, 20, 7, 5, 1], init="scaled", seed=1), epochs=1)
    assert_equivalent(cat, cat.to_torch(), 12288, scale=0.3)
    fashion = trained(
        Network([784, 512, 256, 10], "relu", "softmax", dropout=0.3, init="he", dtype="float32", seed=0),
        epochs=1,
    )
    seq = fashion.to_torch()
    assert [type(m).__name__ for m in seq] == [
        "Linear",
        "ReLU",
        "Dropout",
        "Linear",
        "ReLU",
        "Dropout",
        "Linear",
        "Softmax",
    ]
    assert_equivalent(fashion, seq, 784)
    X = np.random.default_rng(3).random((30, 784)).astype(np.float32)
    np.testing.assert_array_equal(deepmat.from_torch(seq).predict(X), fashion.predict(X))


def test_torch_to_deepmat_to_torch():
    torch.manual_seed(0)
    seq = nn.Sequential(
        nn.Linear(6, 10),
        nn.BatchNorm1d(10),
        nn.ReLU(),
        nn.Dropout(0.25),
        nn.Sequential(nn.Linear(10, 8), nn.Tanh()),  # nested: flattened
        nn.Identity(),
        nn.Linear(8, 4),
        nn.Softmax(dim=-1),
    ).double()
    seq.train()
    for _ in range(5):  # running statistics that are not the defaults
        seq(torch.randn(32, 6, dtype=torch.float64))
    seq.eval()
    net = deepmat.from_torch(seq, seed=0)
    assert [type(layer).__name__ for layer in net.layers] == [
        "Dense",
        "BatchNorm",
        "Activation",
        "Dropout",
        "Dense",
        "Dense",
    ]
    assert net.output_activation == "softmax" and net.loss == "cross_entropy"
    assert_equivalent(net, seq, 6)
    again = net.to_torch()
    expected = {k: v for k, v in seq.state_dict().items()}
    got = again.state_dict()
    assert len(got) == len(expected)
    # the same tensors in the same module order (keys renumbered: the nested Sequential and
    # the Identity are gone, Linear+Tanh are modules 4 and 5 of one flat Sequential)
    assert list(got)[7:9] == ["4.weight", "4.bias"] and list(expected)[7:9] == ["4.0.weight", "4.0.bias"]
    for v1, v2 in zip(expected.values(), got.values(), strict=True):
        assert v1.shape == v2.shape
        torch.testing.assert_close(v1, v2, rtol=0, atol=0)


def test_saved_model_keys_are_the_sequential_state_dict(tmp_path):
    net = trained(Network(layers=STACKS["batch norm, activation and dropout layers"](), input_dim=5, seed=0))
    path = tmp_path / "model.safetensors"
    net.save(path)
    file_arrays = safetensors.torch.load_file(str(path))
    seq = Network(
        layers=STACKS["batch norm, activation and dropout layers"](), input_dim=5, seed=9
    ).to_torch()
    assert set(file_arrays) == set(seq.state_dict())
    seq.load_state_dict(file_arrays, strict=True)  # a deepmat file into a plain torch model
    assert_equivalent(net, seq, 5)


@pytest.mark.parametrize(
    ("seq", "error", "message"),
    [
        (
            nn.Sequential(nn.Linear(3, 4), nn.GELU(), nn.Linear(4, 2)),
            ValueError,
            r"module 1: GELU is not supported; supported: Linear",
        ),
        (nn.Sequential(nn.Conv1d(1, 2, 3)), ValueError, "module 0: Conv1d is not supported"),
        (
            nn.Sequential(nn.Linear(3, 4), nn.LeakyReLU(0.2), nn.Linear(4, 1)),
            ValueError,
            r"LeakyReLU\(negative_slope=0.2\)",
        ),
        (nn.Sequential(nn.Linear(3, 4), nn.Softmax(dim=0)), ValueError, r"Softmax\(dim=0\)"),
        (nn.Sequential(nn.Linear(3, 4, bias=False), nn.Linear(4, 1)), ValueError, "Linear without bias"),
        (
            nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4, affine=False), nn.Linear(4, 1)),
            ValueError,
            "affine=True",
        ),
        (nn.Sequential(nn.Linear(3, 4).half(), nn.Linear(4, 1)), ValueError, "all float32 or all float64"),
        (nn.Sequential(nn.Linear(3, 4), nn.ReLU()), ValueError, "unknown output activation 'relu'"),
        (nn.Linear(3, 4), TypeError, "needs a torch.nn.Sequential; received Linear"),
    ],
)
def test_unsupported_modules_are_refused_by_name(seq, error, message):
    with pytest.raises(error, match=message):
        deepmat.from_torch(seq)


def test_to_torch_needs_a_network():
    from deepmat.torch_interop import to_torch

    with pytest.raises(TypeError, match=r"to_torch needs a deepmat\.Network; received dict"):
        to_torch({})
