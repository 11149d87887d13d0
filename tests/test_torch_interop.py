"""PyTorch round trips: Network.to_torch and deepmat.from_torch, both ways, and the promise
that a saved model's safetensors keys are what torch.nn.Sequential.load_state_dict expects."""

from __future__ import annotations

import numpy as np
import pytest
import safetensors.numpy
import safetensors.torch
import torch
from torch import nn

import deepmat
from deepmat import Activation, BatchNorm, Dense, Dropout, Network, from_torch
from deepmat.layers import torch_names
from deepmat.torch_interop import to_torch
from training_helpers import trained

STACKS = {
    "relu/softmax": lambda: [Dense(8, "relu"), Dense(3, "softmax")],
    "tanh/leaky_relu/sigmoid": lambda: [Dense(8, "tanh"), Dense(6, "leaky_relu"), Dense(2, "sigmoid")],
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
    "activation layers, an identity one among them": lambda: [
        Dense(6, "identity"),
        Activation("tanh"),
        Activation("identity"),
        Dense(5, "sigmoid"),
        Activation("leaky_relu"),
        Dropout(0.1),
        Dense(2, "identity"),
    ],
    "batch norm at the input": lambda: [BatchNorm(), Dense(4, "leaky_relu"), Dense(2, "softmax")],
}


def canonical(layers: list[dict]) -> list[dict]:
    """Layer configs as torch sees them: Dense(identity) + Activation(g) merged into Dense(g)
    (one module list for both) and identity Activations dropped (no module)."""
    out: list[dict] = []
    for layer in layers:
        if layer["type"] == "Activation" and layer["activation"] == "identity":
            continue
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


def inputs(n0: int, dtype: str | np.dtype, m: int = 13, scale: float = 1.0, seed: int = 1) -> np.ndarray:
    return (scale * np.random.default_rng(seed).standard_normal((m, n0))).astype(dtype)


def torch_out(seq: nn.Sequential, X: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return seq.eval()(torch.from_numpy(X)).numpy()


def assert_equivalent(net: Network, seq: nn.Sequential, scale: float = 1.0) -> None:
    """seq.eval()(x) equals net.forward(X) to the dtype's rounding."""
    X = inputs(net.layer_dims[0], net.dtype, scale=scale)
    out, expected = torch_out(seq, X), net.forward(X)
    assert out.dtype == expected.dtype == net.dtype
    if net.dtype == np.float64:
        np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-14)
    else:
        np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def assert_same_network(back: Network, net: Network) -> None:
    """Identical architecture (as torch sees it), dtype, arrays, BN counters and predictions."""
    assert canonical(back.get_config()["layers"]) == canonical(net.get_config()["layers"])
    assert back.dtype == net.dtype and back.layer_dims == net.layer_dims
    assert back.output_activation == net.output_activation and back.loss == net.loss
    assert set(back.state_arrays()) == set(net.state_arrays())
    for name, value in net.state_arrays().items():
        assert back.state_arrays()[name].dtype == value.dtype
        np.testing.assert_array_equal(back.state_arrays()[name], value, err_msg=name)
    bn = [layer.num_batches_tracked for layer in net.layers if isinstance(layer, BatchNorm)]
    assert [layer.num_batches_tracked for layer in back.layers if isinstance(layer, BatchNorm)] == bn
    X = inputs(net.layer_dims[0], net.dtype, m=20, seed=2)
    np.testing.assert_array_equal(back.forward(X), net.forward(X))
    np.testing.assert_array_equal(back.predict(X), net.predict(X))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("stack", STACKS)
def test_deepmat_to_torch_to_deepmat(stack, dtype):
    net = trained(Network(layers=STACKS[stack](), input_dim=5, seed=4, dtype=dtype))
    if any(isinstance(layer, BatchNorm) for layer in net.layers):  # trained running statistics
        assert all(layer.num_batches_tracked == 8 for layer in net.layers if isinstance(layer, BatchNorm))
        assert not any(np.allclose(v, 1) for k, v in net.buffers.items() if k.startswith("running_var"))
    seq = to_torch(net)
    assert isinstance(seq, nn.Sequential) and not seq.training
    assert {p.dtype for p in seq.parameters()} == {torch.float64 if dtype == "float64" else torch.float32}
    assert all(p.requires_grad and p.device.type == "cpu" for p in seq.parameters())
    assert_equivalent(net, seq)
    assert_same_network(from_torch(seq), net)


def test_module_list_and_state_dict_keys_follow_io_torch_names():
    net = Network(layers=STACKS["batch norm, activation and dropout layers"](), input_dim=5)
    seq = net.to_torch()  # the Network method is the same function
    assert [type(m).__name__ for m in seq] == [
        "Linear",
        "BatchNorm1d",
        "ReLU",
        "Dropout",
        "Linear",
        "Tanh",
        "BatchNorm1d",
        "Linear",
        "Softmax",
    ]
    assert seq[1].momentum == 0.2 and seq[1].eps == 1e-4 and seq[3].p == 0.3 and seq[8].dim == 1
    names = {key for _, key, _ in torch_names(net.get_config())}
    assert set(seq.state_dict()) == names | {"1.num_batches_tracked", "6.num_batches_tracked"}
    arrays = net.state_arrays()
    for name, key, kind in torch_names(net.get_config()):
        expected = arrays[name] if kind == "W" else arrays[name][:, 0]
        np.testing.assert_array_equal(seq.state_dict()[key].numpy(), expected, err_msg=key)
    leaky = to_torch(Network(layers=[Dense(3, "leaky_relu"), Dense(1, "sigmoid")], input_dim=2))
    assert [type(m).__name__ for m in leaky] == ["Linear", "LeakyReLU", "Linear", "Sigmoid"]
    assert leaky[1].negative_slope == deepmat.activations.LEAKY_RELU_SLOPE


def test_cat_and_fashion_architectures():
    cat = trained(Network([12288, 20, 7, 5, 1], init="scaled", seed=1), epochs=1)
    seq = to_torch(cat)
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU"] * 3 + ["Linear", "Sigmoid"]
    assert_equivalent(cat, seq, scale=0.3)
    assert_same_network(from_torch(seq), cat)

    fashion = trained(
        Network([784, 512, 256, 10], "relu", "softmax", dropout=0.3, init="he", dtype="float32", seed=0),
        epochs=1,
    )
    seq = to_torch(fashion)
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Dropout"] * 2 + ["Linear", "Softmax"]
    assert next(seq.parameters()).dtype == torch.float32
    assert_equivalent(fashion, seq)
    assert_same_network(from_torch(seq), fashion)


def hand_built(dtype: torch.dtype) -> nn.Sequential:
    """A torch model with every supported module kind, nesting and an Identity, its batch-norm
    running statistics trained a few steps."""
    torch.manual_seed(0)
    seq = nn.Sequential(
        nn.Linear(6, 10),
        nn.BatchNorm1d(10, momentum=0.3),
        nn.ReLU(),
        nn.Dropout(0.25),
        nn.Sequential(nn.Linear(10, 8), nn.Tanh()),  # nested: flattened
        nn.Identity(),  # skipped
        nn.Linear(8, 7),
        nn.LeakyReLU(0.01),
        nn.Sigmoid(),  # after an activation: an Activation layer
        nn.Linear(7, 4),
        nn.Softmax(dim=-1),
    ).to(dtype)
    optimizer = torch.optim.SGD(seq.parameters(), lr=0.1)
    seq.train()
    for _ in range(5):  # running statistics (and weights) that are not the defaults
        optimizer.zero_grad()
        seq(torch.randn(32, 6, dtype=dtype)).log().mean().neg().backward()
        optimizer.step()
    return seq.eval()


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_torch_to_deepmat_to_torch(dtype):
    seq = hand_built(dtype)
    assert int(seq[1].num_batches_tracked) == 5 and not torch.allclose(
        seq[1].running_var, torch.ones(10, dtype=dtype)
    )
    net = from_torch(seq, seed=0)
    assert [repr(layer) for layer in net.layers] == [
        "Dense(units=10, activation='identity', init=None, l2=None)",
        "BatchNorm(momentum=0.3, eps=1e-05)",
        "Activation(activation='relu')",
        "Dropout(rate=0.25)",
        "Dense(units=8, activation='tanh', init=None, l2=None)",
        "Dense(units=7, activation='leaky_relu', init=None, l2=None)",
        "Activation(activation='sigmoid')",
        "Dense(units=4, activation='softmax', init=None, l2=None)",
    ]
    assert net.dtype == (np.float64 if dtype == torch.float64 else np.float32)
    assert net.layer_dims[0] == 6 and net.output_activation == "softmax" and net.loss == "cross_entropy"
    assert net.layers[1].num_batches_tracked == 5
    assert_equivalent(net, seq)
    again = to_torch(net)
    expected, got = seq.state_dict(), again.state_dict()
    # the same tensors in the same module order; keys renumbered (the nested Sequential and the
    # Identity are gone: the nested Linear "4.0" is module 4 of one flat Sequential)
    assert "4.0.weight" in expected and "4.weight" in got and len(got) == len(expected)
    for (k1, v1), (k2, v2) in zip(expected.items(), got.items(), strict=True):
        assert k1.rsplit(".", 1)[1] == k2.rsplit(".", 1)[1] and v1.dtype == v2.dtype, (k1, k2)
        torch.testing.assert_close(v2, v1, rtol=0, atol=0)
    X = torch.from_numpy(inputs(6, net.dtype))
    with torch.no_grad():
        torch.testing.assert_close(again(X), seq(X), rtol=0, atol=0)


def test_options_and_input_dim():
    seq = nn.Sequential(nn.Linear(3, 2), nn.Sigmoid()).double()
    assert from_torch(seq).loss == "binary_cross_entropy"
    assert from_torch(seq, loss="mse").loss == "mse"
    assert from_torch(seq, input_dim=3).layer_dims == [3, 2]
    with pytest.raises(ValueError, match=r"module 0: Linear\(in_features=3\) receives 4 features"):
        from_torch(seq, input_dim=4)
    # n[0] from a leading BatchNorm1d, or past a leading activation / dropout
    bn_first = from_torch(nn.Sequential(nn.BatchNorm1d(4), nn.Linear(4, 1)))
    assert bn_first.layer_dims == [4, 1] and isinstance(bn_first.layers[0], BatchNorm)
    assert from_torch(nn.Sequential(nn.Dropout(0.1), nn.Tanh(), nn.Linear(5, 2))).layer_dims == [5, 2]
    only_sigmoid = from_torch(nn.Sequential(nn.Linear(2, 2), nn.Sigmoid()), input_dim=2)
    assert only_sigmoid.dtype == np.float32  # torch's default dtype comes back as float32


def test_arrays_are_copies_and_torch_rng_is_untouched():
    net = trained(Network(layers=STACKS["batch norm at the input"](), input_dim=5, seed=0))
    W1 = net.params["W1"].copy()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    seq = to_torch(net)  # building the modules draws no random initial weights
    torch.testing.assert_close(torch.rand(3), expected, rtol=0, atol=0)
    with torch.no_grad():
        seq[1].weight.add_(1.0)
        seq[0].running_mean.add_(1.0)
    np.testing.assert_array_equal(net.params["W1"], W1)
    back = from_torch(seq)
    with torch.no_grad():
        seq[1].weight.zero_()
    np.testing.assert_array_equal(back.params["W1"], W1 + 1)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("stack", STACKS)
def test_saved_model_keys_are_the_sequential_state_dict(tmp_path, stack, dtype):
    net = trained(Network(layers=STACKS[stack](), input_dim=5, seed=0, dtype=dtype))
    path = str(tmp_path / "model.safetensors")
    net.save(path)
    file_arrays = safetensors.numpy.load_file(path)
    state = to_torch(net).state_dict()
    assert set(file_arrays) == set(state)
    for key, tensor in state.items():
        assert file_arrays[key].shape == tuple(tensor.shape), key
        np.testing.assert_array_equal(file_arrays[key], tensor.numpy(), err_msg=key)
    # a deepmat file into a plain torch model of that architecture (weights from another seed)
    seq = to_torch(Network(layers=STACKS[stack](), input_dim=5, seed=9, dtype=dtype))
    seq.load_state_dict(safetensors.torch.load_file(path), strict=True)
    assert_equivalent(net, seq)
    np.testing.assert_array_equal(
        torch_out(seq, inputs(5, dtype)), torch_out(to_torch(net), inputs(5, dtype))
    )


class Doubled(nn.Linear):
    def forward(self, x):
        return 2 * super().forward(x)


@pytest.mark.parametrize(
    ("seq", "error", "message"),
    [
        (
            nn.Sequential(nn.Linear(3, 4), nn.GELU(), nn.Linear(4, 2)),
            ValueError,
            r"module 1: GELU is not supported; supported: Linear \(with bias\), ReLU, Sigmoid, Tanh",
        ),
        (nn.Sequential(nn.Conv1d(1, 2, 3)), ValueError, "module 0: Conv1d is not supported; supported:"),
        (
            nn.Sequential(nn.Identity(), nn.Linear(3, 4), nn.Sequential(nn.ReLU(), nn.ELU())),
            ValueError,
            r"module 2\.1: ELU is not supported",  # named by its state_dict prefix
        ),
        (
            nn.Sequential(nn.Linear(3, 4), nn.LeakyReLU(0.2), nn.Linear(4, 1)),
            ValueError,
            r"module 1: LeakyReLU\(negative_slope=0.2\) is not supported .* LeakyReLU\(0.01\)",
        ),
        (nn.Sequential(nn.Linear(3, 4), nn.Softmax(dim=0)), ValueError, r"module 1: Softmax\(dim=0\)"),
        (nn.Sequential(nn.Linear(3, 4), nn.Softmax()), ValueError, r"module 1: Softmax\(dim=None\)"),
        (
            nn.Sequential(nn.Linear(3, 4, bias=False), nn.Linear(4, 1)),
            ValueError,
            r"module 0: Linear without bias \(bias=False\)",
        ),
        (
            nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4, affine=False), nn.Linear(4, 1)),
            ValueError,
            r"module 1: BatchNorm1d needs affine=True.*received affine=False",
        ),
        (
            nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4, track_running_stats=False), nn.Linear(4, 1)),
            ValueError,
            r"module 1: BatchNorm1d needs .*track_running_stats=False",
        ),
        (
            nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4, momentum=None), nn.Linear(4, 1)),
            ValueError,
            r"module 1: BatchNorm1d needs .*momentum=None",
        ),
        (
            nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(5), nn.Linear(5, 1)),
            ValueError,
            r"module 1: BatchNorm1d\(num_features=5\) receives 4 features",
        ),
        (
            nn.Sequential(nn.Linear(3, 4), nn.Linear(5, 1)),
            ValueError,
            r"module 1: Linear\(in_features=5\) receives 4 features",
        ),
        (
            nn.Sequential(nn.Linear(3, 4), nn.Dropout(1.0), nn.Linear(4, 1)),
            ValueError,
            r"module 1: dropout rate must be a number in \[0, 1\)",
        ),
        (
            nn.Sequential(nn.Linear(3, 4).half(), nn.Linear(4, 1).half()),
            ValueError,
            r"all float32 or all float64 .*received \['torch.float16'\]",
        ),
        (
            nn.Sequential(nn.Linear(3, 4).double(), nn.Linear(4, 1)),
            ValueError,
            r"all float32 or all float64 .*received \['torch.float32', 'torch.float64'\]",
        ),
        (
            nn.Sequential(nn.Linear(3, 4), nn.ReLU()),
            ValueError,
            r"module 1: the Sequential ends in ReLU; the output must be Linear \(identity output",
        ),
        (
            nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.1)),
            ValueError,
            "module 1: the Sequential ends in Dropout; the output must be",
        ),
        (nn.Sequential(Doubled(3, 1)), ValueError, "module 0: Doubled is not supported"),
        (
            nn.Sequential(nn.LazyLinear(4), nn.Linear(4, 1)),
            ValueError,
            "module 0: LazyLinear has no weights yet",
        ),
        (nn.Sequential(nn.Identity()), ValueError, "holds no layers"),
        (nn.Sequential(nn.Tanh(), nn.Sigmoid()), ValueError, "pass input_dim="),
        (nn.Linear(3, 4), TypeError, r"from_torch needs a torch\.nn\.Sequential; received Linear"),
    ],
)
def test_unsupported_modules_are_refused_by_name(seq, error, message):
    with pytest.raises(error, match=message):
        from_torch(seq)


def test_to_torch_needs_a_network():
    with pytest.raises(TypeError, match=r"to_torch needs a deepmat\.Network; received dict"):
        to_torch({})
