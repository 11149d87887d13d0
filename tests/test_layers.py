"""Layers (Dense with L2, Dropout, BatchNorm, Activation) inside a Network.

- gradient checks of every mix against central differences, in training and inference mode;
- parity with the equivalent ``torch.nn.Sequential`` in float64 — forward outputs in training
  and eval mode, batch norm's running statistics, and every gradient of the cost plus L2;
- Dropout and BatchNorm on their own (scaling, statistics, dtype, argument checks);
- a contract every layer type × activation keeps (shapes, dtype, save/load, seeding, errors).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from torch import nn

import deepmat
from deepmat import Activation, BatchNorm, Dense, Dropout, Network
from deepmat.activations import ACTIVATIONS

OUTPUT_LOSS = [
    ("sigmoid", "binary_cross_entropy"),
    ("softmax", "cross_entropy"),
    ("identity", "mse"),
    ("sigmoid", "mse"),
    ("softmax", "mse"),
    ("softmax", "binary_cross_entropy"),
]
CANONICAL = OUTPUT_LOSS[:3]
HIDDEN = ["relu", "leaky_relu", "tanh", "sigmoid", "identity"]


# -- helpers ------------------------------------------------------------------------------


def targets(output: str, n_out: int, m: int, rng: np.random.RandomState) -> np.ndarray:
    """Targets in the row layout a network of this output accepts."""
    if output == "softmax":
        return rng.randint(0, n_out, size=m)
    if output == "sigmoid":
        return rng.randint(0, 2, size=(m, n_out)).astype(float)
    return rng.randn(m, n_out)


def randomise(net: Network, rng: np.random.RandomState, scale: float = 0.3) -> None:
    """Non-trivial biases, γ and β, so that their gradients are not tested at a special point."""
    new = {}
    for name, value in net.params.items():
        if name.startswith("gamma"):
            new[name] = 1 + scale * rng.randn(*value.shape)
        elif name.startswith(("b", "beta")):
            new[name] = scale * rng.randn(*value.shape)
        else:
            new[name] = value
    net.params = new


def to_torch(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(array).copy())


class Mask(nn.Module):
    """Multiplies by a given dropout mask (deepmat's, transposed to rows) in training mode."""

    def __init__(self) -> None:
        super().__init__()
        self.mask: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.mask if self.training and self.mask is not None else x


def torch_activation(name: str) -> nn.Module:
    return {
        "relu": nn.ReLU,
        "tanh": nn.Tanh,
        "sigmoid": nn.Sigmoid,
        "leaky_relu": lambda: nn.LeakyReLU(0.01),
        "softmax": lambda: nn.Softmax(dim=1),
    }[name]()


def torch_model(net: Network) -> tuple[nn.Sequential, dict[str, torch.Tensor], list[Mask]]:
    """The equivalent Sequential with deepmat's parameters and buffers copied in; the map
    deepmat name → torch tensor; the Mask modules standing for the Dropout layers."""
    dtype = torch.float64 if net.dtype == np.float64 else torch.float32
    modules: list[nn.Module] = []
    tensors: dict[str, torch.Tensor] = {}
    masks: list[Mask] = []
    n = net.layer_dims[0]
    for layer in net.layers:
        l = layer.index
        if isinstance(layer, Dense):
            linear = nn.Linear(n, layer.units, dtype=dtype)
            with torch.no_grad():
                linear.weight.copy_(to_torch(net.params[f"W{l}"]))
                linear.bias.copy_(to_torch(net.params[f"b{l}"][:, 0]))
            tensors[f"W{l}"], tensors[f"b{l}"] = linear.weight, linear.bias
            modules.append(linear)
            if layer.activation != "identity":
                modules.append(torch_activation(layer.activation))
            n = layer.units
        elif isinstance(layer, BatchNorm):
            bn = nn.BatchNorm1d(n, momentum=layer.momentum, eps=layer.eps, dtype=dtype)
            with torch.no_grad():
                bn.weight.copy_(to_torch(net.params[f"gamma{l}"][:, 0]))
                bn.bias.copy_(to_torch(net.params[f"beta{l}"][:, 0]))
                bn.running_mean.copy_(to_torch(net.buffers[f"running_mean{l}"][:, 0]))
                bn.running_var.copy_(to_torch(net.buffers[f"running_var{l}"][:, 0]))
            tensors[f"gamma{l}"], tensors[f"beta{l}"] = bn.weight, bn.bias
            tensors[f"running_mean{l}"], tensors[f"running_var{l}"] = bn.running_mean, bn.running_var
            modules.append(bn)
        elif isinstance(layer, Activation):
            if layer.activation != "identity":
                modules.append(torch_activation(layer.activation))
        elif isinstance(layer, Dropout):
            masks.append(Mask())
            modules.append(masks[-1])
    return nn.Sequential(*modules), tensors, masks


def copy_masks(net: Network, masks: list[Mask]) -> None:
    """Give the torch model the masks deepmat's last training forward drew."""
    dropouts = [layer for layer in net.layers if isinstance(layer, Dropout)]
    assert len(dropouts) == len(masks)
    for layer, module in zip(dropouts, masks, strict=True):
        assert layer.mask is not None
        module.mask = to_torch(layer.mask.T)


def torch_cost(
    model: nn.Sequential, tensors: dict[str, torch.Tensor], net: Network, X: np.ndarray, y: np.ndarray
) -> torch.Tensor:
    """The cost J deepmat minimises, through autograd: the loss plus (λ/2)·Σ‖W‖²."""
    Xt = to_torch(X)
    m = X.shape[0]
    if net.loss == "cross_entropy":
        assert isinstance(model[-1], nn.Softmax)
        cost = TF.cross_entropy(model[:-1](Xt), torch.from_numpy(y).long())
    else:
        target = to_torch(net.target_rows(y, m))
        out = model(Xt)
        if net.loss == "binary_cross_entropy":
            cost = TF.binary_cross_entropy(out, target, reduction="sum") / m
        else:
            cost = 0.5 * ((out - target) ** 2).sum() / m
    for layer in net.layers:
        if isinstance(layer, Dense) and layer.l2:
            cost = cost + 0.5 * layer.l2 * (tensors[f"W{layer.index}"] ** 2).sum()
    return cost


def assert_close(actual, expected, rtol=1e-10, atol=1e-13) -> None:
    if isinstance(expected, torch.Tensor):
        expected = expected.detach().numpy()
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


# -- gradient checks ----------------------------------------------------------------------


def architecture(kind: str, output: str, n_out: int) -> tuple[list, float]:
    """A list of layers of the given mix and the network-wide L2."""
    if kind == "l2":
        return [Dense(5, "tanh", l2=0.1), Dense(4, "sigmoid"), Dense(n_out, output, l2=0.02)], 0.05
    if kind == "dropout":
        return [
            Dense(6, "tanh"),
            Dropout(0.3),
            Dense(5, "leaky_relu"),
            Dropout(0.2),
            Dense(n_out, output),
        ], 0.0
    if kind == "bn_before_activation":
        return [Dense(5, "identity"), BatchNorm(), Activation("relu"), Dense(n_out, output)], 0.0
    if kind == "bn_after_activation":
        return [
            Dense(5, "tanh"),
            BatchNorm(),
            Dense(4, "sigmoid"),
            BatchNorm(momentum=0.3),
            Dense(n_out, output),
        ], 0.0
    if kind == "everything":
        return [
            Dense(6, "identity", l2=0.03),
            BatchNorm(),
            Activation("tanh"),
            Dropout(0.25),
            Dense(5, "leaky_relu"),
            BatchNorm(eps=1e-3),
            Dropout(0.1),
            Dense(n_out, output),
        ], 0.02
    raise AssertionError(kind)


KINDS = ["l2", "dropout", "bn_before_activation", "bn_after_activation", "everything"]


def gradcheck_problem(kind: str, output: str, loss: str, seed: int):
    rng = np.random.RandomState(seed)
    n_out = 3 if output == "softmax" else 2
    layers, l2 = architecture(kind, output, n_out)
    net = Network(layers=layers, input_dim=4, loss=loss, l2=l2, init="xavier", seed=seed)
    randomise(net, rng)
    m = 8
    X = rng.randn(m, 4)
    y = targets(output, n_out, m, rng)
    if any(isinstance(layer, BatchNorm) for layer in net.layers):
        for _ in range(3):  # running statistics away from their initial (0, 1)
            net.forward(rng.randn(m, 4) + 0.5, training=True)
    return net, X, y


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize(("output", "loss"), OUTPUT_LOSS)
@pytest.mark.parametrize("kind", KINDS)
def test_gradcheck_layer_mixes(kind, output, loss, training):
    net, X, y = gradcheck_problem(kind, output, loss, seed=KINDS.index(kind) + 10)
    result = deepmat.gradcheck(net, X, y, training=training)
    assert set(result.errors) == set(net.params)
    assert result.max_error < 1e-7, result.report()


def test_gradcheck_includes_l2_from_layer_and_network():
    """Both the per-layer λ and the network-wide λ enter J and dW (a run without them differs)."""
    net, X, y = gradcheck_problem("l2", "sigmoid", "binary_cross_entropy", seed=3)
    assert [layer.l2 for layer in net.layers] == [0.1, 0.05, 0.02]
    plain = Network(
        layers=[Dense(5, "tanh"), Dense(4, "sigmoid"), Dense(2, "sigmoid")],
        input_dim=4,
        init="xavier",
        seed=3,
    )
    plain.params = net.params
    g, g_plain = net.gradients(X, y), plain.gradients(X, y)
    for l, lam in enumerate([0.1, 0.05, 0.02], start=1):
        np.testing.assert_allclose(g[f"dW{l}"] - g_plain[f"dW{l}"], lam * net.params[f"W{l}"], rtol=1e-12)
        np.testing.assert_array_equal(g[f"db{l}"], g_plain[f"db{l}"])
    penalty = sum(0.5 * lam * (net.params[f"W{l}"] ** 2).sum() for l, lam in enumerate([0.1, 0.05, 0.02], 1))
    assert net.cost(X, y) == pytest.approx(plain.cost(X, y) + penalty, rel=1e-12)


def test_gradcheck_training_mode_catches_a_wrong_batchnorm_backward(monkeypatch):
    """The batch-norm checks are not vacuous: dropping the mean terms of BN's backward fails."""
    net, X, y = gradcheck_problem("bn_before_activation", "softmax", "cross_entropy", seed=4)

    def naive_backward(self, dA, need_dA_prev=True):
        x_hat, inv_std, _ = self.cache
        l = self.index
        m = dA.shape[1]
        self.grads = {
            f"dgamma{l}": (dA * x_hat).sum(axis=1, keepdims=True) / m,
            f"dbeta{l}": dA.sum(axis=1, keepdims=True) / m,
        }
        return dA * self.params[f"gamma{l}"] * inv_std  # treats μ, σ² as constants

    monkeypatch.setattr(BatchNorm, "backward", naive_backward)
    with pytest.raises(deepmat.GradcheckError, match="W1"):
        deepmat.gradcheck(net, X, y, training=True)


# -- PyTorch parity -----------------------------------------------------------------------


def parity_net(hidden: str, output: str, loss: str, seed: int) -> tuple[Network, int]:
    n_out = 3 if output == "softmax" else 2
    layers = [
        Dense(6, "identity", l2=0.03),
        BatchNorm(),
        Activation(hidden),
        Dropout(0.3),
        Dense(5, hidden),
        BatchNorm(momentum=0.2, eps=1e-3),  # after the activation
        Dropout(0.15),
        Dense(4, hidden),
        Dense(n_out, output),
    ]
    net = Network(layers=layers, input_dim=4, loss=loss, l2=0.01, init="xavier", seed=seed)
    randomise(net, np.random.RandomState(seed))
    return net, n_out


@pytest.mark.parametrize(("output", "loss"), CANONICAL)
@pytest.mark.parametrize("hidden", ["relu", "tanh", "sigmoid", "leaky_relu"])
def test_forward_running_stats_and_gradients_match_torch(hidden, output, loss):
    seed = 20 + ["relu", "tanh", "sigmoid", "leaky_relu"].index(hidden)
    net, n_out = parity_net(hidden, output, loss, seed)
    model, tensors, masks = torch_model(net)
    rng = np.random.RandomState(seed)
    m = 9

    # training mode: batch statistics, deepmat's dropout masks
    model.train()
    for step in range(3):
        X = rng.randn(m, 4) * 2 + 0.5
        A = net.forward(X, training=True)
        copy_masks(net, masks)
        with torch.no_grad():
            A_torch = model(to_torch(X))
        assert_close(A, A_torch)
        for l in (1, 2):
            for stat in ("running_mean", "running_var"):
                assert_close(net.buffers[f"{stat}{l}"][:, 0], tensors[f"{stat}{l}"])
        if step == 0:  # the running statistics did move (var: torch's unbiased update)
            assert not np.allclose(net.buffers["running_var1"], 1.0)
    assert net.layers[1].num_batches_tracked == 3

    # eval mode: running statistics, no dropout
    X = rng.randn(m, 4)
    model.eval()
    with torch.no_grad():
        assert_close(net.forward(X), model(to_torch(X)))
    # (eval mode differs from training mode: the comparison above is not vacuous)
    assert not np.allclose(net.forward(X), net.copy().forward(X, training=True))

    # gradients of J (loss + L2) in training mode, with the masks deepmat drew for them
    y = targets(output, n_out, m, rng)
    grads = net.gradients(X, y, training=True)
    copy_masks(net, masks)
    model.train()
    model.zero_grad()
    cost = torch_cost(model, tensors, net, X, y)
    cost.backward()
    assert set(grads) == {f"d{name}" for name in net.params}
    for name, param in net.params.items():
        assert grads[f"d{name}"].shape == param.shape
        assert_close(grads[f"d{name}"].reshape(-1), tensors[name].grad.reshape(-1))
    for l in (1, 2):
        for stat in ("running_mean", "running_var"):
            assert_close(net.buffers[f"{stat}{l}"][:, 0], tensors[f"{stat}{l}"])

    # the costs agree too: eval mode, and training mode with the same (frozen) masks
    dropouts = [layer for layer in net.layers if isinstance(layer, Dropout)]
    drawn = [layer.mask for layer in dropouts]
    model.eval()
    with torch.no_grad():
        assert net.cost(X, y) == pytest.approx(torch_cost(model, tensors, net, X, y).item(), rel=1e-10)
    for layer, mask in zip(dropouts, drawn, strict=True):
        layer.mask, layer.frozen = mask, True
    assert net.cost(X, y, training=True) == pytest.approx(cost.item(), rel=1e-10)


def test_float32_network_with_every_layer_matches_torch_float32():
    net, _ = parity_net("tanh", "softmax", "cross_entropy", seed=5)
    net32 = net.copy(dtype="float32")
    model, tensors, masks = torch_model(net32)
    X = np.random.RandomState(5).randn(7, 4).astype(np.float32)
    A = net32.forward(X, training=True)
    assert A.dtype == np.float32
    copy_masks(net32, masks)
    with torch.no_grad():
        A_torch = model.train()(to_torch(X))
    assert A_torch.dtype == torch.float32
    assert_close(A, A_torch, rtol=1e-5, atol=1e-6)
    assert_close(net32.buffers["running_var2"][:, 0], tensors["running_var2"], rtol=1e-5, atol=1e-6)


# -- Dropout ------------------------------------------------------------------------------


def built(layer, n_in: int, dtype: str = "float64", seed: int = 0):
    layer.build(n_in, 1, np.random.RandomState(seed), np.dtype(dtype), noise_rng=np.random.default_rng(seed))
    return layer


@pytest.mark.parametrize("rate", [0.0, 0.2, 0.5])
def test_dropout_inference_is_identity(rate):
    layer = built(Dropout(rate), 30)
    A_prev = np.random.RandomState(1).randn(30, 40)
    A = layer.forward(A_prev, training=False)
    np.testing.assert_array_equal(A, A_prev)
    assert layer.mask is None
    np.testing.assert_array_equal(layer.backward(np.ones_like(A_prev)), np.ones_like(A_prev))


@pytest.mark.parametrize("rate", [0.1, 0.3, 0.5, 0.8])
def test_dropout_training_zeroes_rate_and_scales_the_rest(rate):
    layer = built(Dropout(rate), 400, seed=int(rate * 10))
    A_prev = np.random.RandomState(2).uniform(1, 2, size=(400, 500))
    A = layer.forward(A_prev, training=True)
    dropped = A == 0
    n = A.size
    # the fraction of zeros is Binomial(n, rate)/n: within 5 standard deviations of rate
    assert abs(dropped.mean() - rate) < 5 * np.sqrt(rate * (1 - rate) / n)
    np.testing.assert_allclose(A[~dropped], A_prev[~dropped] / (1 - rate), rtol=1e-15)
    # the mean activation is kept (inverted dropout), within sampling error
    assert A.mean() == pytest.approx(A_prev.mean(), rel=0.02)
    # backward applies the same mask
    dA = np.ones_like(A_prev)
    np.testing.assert_array_equal(layer.backward(dA), layer.mask)
    np.testing.assert_array_equal(layer.backward(dA) == 0, dropped)
    # a second training forward draws a new mask
    again = layer.forward(A_prev, training=True)
    assert not np.array_equal(again == 0, dropped)


def test_dropout_float32_stays_float32():
    layer = built(Dropout(0.4), 20, dtype="float32")
    A_prev = np.random.RandomState(3).randn(20, 30).astype(np.float32)
    A = layer.forward(A_prev, training=True)
    assert A.dtype == np.float32
    assert layer.mask.dtype == np.float32
    assert layer.backward(np.ones_like(A_prev)).dtype == np.float32
    net = Network([5, 8, 3], "relu", "softmax", dtype="float32", dropout=0.3, seed=0)
    X = np.random.RandomState(0).randn(6, 5).astype(np.float32)
    assert net.forward(X, training=True).dtype == np.float32
    assert all(g.dtype == np.float32 for g in net.gradients(X, [0, 1, 2, 0, 1, 2], training=True).values())


@pytest.mark.parametrize("rate", [-0.1, 1, 1.0, 1.5, True, "0.5", None, float("nan")])
def test_dropout_rate_validation(rate):
    with pytest.raises(ValueError, match=r"dropout rate must be a number in \[0, 1\)"):
        Dropout(rate)


def test_dropout_in_a_network_is_seeded():
    X = np.random.RandomState(0).randn(10, 4)
    a = Network([4, 16, 1], seed=3, dropout=0.5).forward(X, training=True)
    b = Network([4, 16, 1], seed=3, dropout=0.5).forward(X, training=True)
    c = Network([4, 16, 1], seed=4, dropout=0.5)
    c.params = Network([4, 16, 1], seed=3).params
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c.forward(X, training=True))  # same weights, other masks


# -- BatchNorm ----------------------------------------------------------------------------


def test_batchnorm_training_needs_two_samples():
    net = Network(
        layers=[Dense(3, "identity"), BatchNorm(), Activation("relu"), Dense(1, "sigmoid")], input_dim=2
    )
    X1 = np.array([[0.5, -1.0]])
    with pytest.raises(ValueError, match="at least 2 samples"):
        net.forward(X1, training=True)
    with pytest.raises(ValueError, match="m = 1"):
        net.gradients(X1, [1], training=True)
    assert net.forward(X1).shape == (1, 1)  # inference uses the running statistics
    layer = built(BatchNorm(), 3)
    with pytest.raises(ValueError, match="BatchNorm"):
        layer.forward(np.ones((3, 1)), training=True)


def test_batchnorm_running_statistics_update():
    layer = built(BatchNorm(momentum=0.25), 3)
    rng = np.random.RandomState(4)
    A_prev = rng.randn(3, 10) * [[1.0], [2.0], [3.0]] + [[5.0], [-1.0], [0.0]]
    out = layer.forward(A_prev, training=True)
    mu, var = A_prev.mean(axis=1, keepdims=True), A_prev.var(axis=1, keepdims=True)
    np.testing.assert_allclose(out, (A_prev - mu) / np.sqrt(var + 1e-5), rtol=1e-12)
    np.testing.assert_allclose(out.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(layer.buffers["running_mean1"], 0.25 * mu, rtol=1e-12)
    np.testing.assert_allclose(layer.buffers["running_var1"], 0.75 + 0.25 * var * 10 / 9, rtol=1e-12)
    assert layer.num_batches_tracked == 1
    # inference uses the running statistics and does not move them
    before = {k: v.copy() for k, v in layer.buffers.items()}
    out_eval = layer.forward(A_prev, training=False)
    rm, rv = before["running_mean1"], before["running_var1"]
    np.testing.assert_allclose(out_eval, (A_prev - rm) / np.sqrt(rv + 1e-5), rtol=1e-12)
    for k, v in layer.buffers.items():
        np.testing.assert_array_equal(v, before[k])
    # γ and β scale and shift the normalised values
    layer.params["gamma1"][:] = 2.0
    layer.params["beta1"][:] = -1.0
    np.testing.assert_allclose(layer.forward(A_prev, training=False), 2 * out_eval - 1, rtol=1e-12)


def test_batchnorm_running_statistics_converge_to_the_data_statistics():
    net = Network(layers=[Dense(2, "identity"), BatchNorm(momentum=0.05), Dense(1, "identity")], input_dim=2)
    net.params = {**net.params, "W1": np.eye(2), "b1": np.zeros((2, 1))}
    rng = np.random.RandomState(5)
    X = rng.randn(10000, 2) * [3.0, 0.5] + [1.0, -2.0]
    for batch in np.split(X, 200):
        net.forward(batch, training=True)
    np.testing.assert_allclose(net.buffers["running_mean1"][:, 0], [1.0, -2.0], atol=0.3)
    np.testing.assert_allclose(net.buffers["running_var1"][:, 0], [9.0, 0.25], rtol=0.3)


def test_batchnorm_float32_kept():
    net = Network(
        layers=[Dense(4, "identity"), BatchNorm(), Activation("tanh"), Dense(2, "softmax")],
        input_dim=3,
        dtype="float32",
    )
    X = np.random.RandomState(6).randn(8, 3).astype(np.float32)
    assert net.forward(X, training=True).dtype == np.float32
    assert net.forward(X).dtype == np.float32
    for array in (*net.params.values(), *net.buffers.values()):
        assert array.dtype == np.float32
    grads = net.gradients(X, [0, 1] * 4, training=True)
    assert grads["dgamma1"].dtype == grads["dbeta1"].dtype == np.float32
    net.fit(X, [0, 1] * 4, epochs=2, batch_size=4, optimizer="adam", verbose=0)
    for array in (*net.params.values(), *net.buffers.values()):
        assert array.dtype == np.float32


@pytest.mark.parametrize(
    "kwargs", [{"momentum": 0}, {"momentum": 1.5}, {"momentum": True}, {"eps": 0}, {"eps": -1}]
)
def test_batchnorm_argument_validation(kwargs):
    with pytest.raises((ValueError, TypeError)):
        BatchNorm(**kwargs)


def test_two_batchnorms_after_one_dense_are_refused():
    with pytest.raises(ValueError, match="at most one BatchNorm"):
        Network(layers=[Dense(3), BatchNorm(), BatchNorm(), Dense(1, "sigmoid")], input_dim=2)


# -- the contract every layer type keeps --------------------------------------------------


def hidden_block(kind: str, activation: str) -> list:
    if kind == "dense":
        return [Dense(6, activation)]
    if kind == "dense_l2":
        return [Dense(6, activation, l2=0.01)]
    if kind == "batchnorm":
        return [Dense(6, "identity"), BatchNorm(), Activation(activation)]
    if kind == "batchnorm_after_activation":
        return [Dense(6, activation), BatchNorm()]
    if kind == "dropout":
        return [Dense(6, activation), Dropout(0.25)]
    raise AssertionError(kind)


BLOCKS = ["dense", "dense_l2", "batchnorm", "batchnorm_after_activation", "dropout"]


def contract_net(kind: str, activation: str, dtype: str, seed: int = 7) -> Network:
    layers = [*hidden_block(kind, activation), Dense(5, "tanh"), Dense(3, "softmax")]
    return Network(layers=layers, input_dim=4, init="he", dtype=dtype, seed=seed)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("activation", HIDDEN)
@pytest.mark.parametrize("kind", BLOCKS)
def test_layer_contract(kind, activation, dtype, tmp_path):
    rng = np.random.RandomState(8)
    X = rng.randn(12, 4)
    y = rng.randint(0, 3, size=12)
    net = contract_net(kind, activation, dtype)
    np_dtype = np.dtype(dtype)

    # output shape and dtype, in both modes
    for training in (False, True):
        A = net.forward(X, training=training)
        assert A.shape == (12, 3)
        assert A.dtype == np_dtype
        np.testing.assert_allclose(A.sum(axis=1), 1, rtol=1e-5)

    # gradients are shaped (and typed) like the parameters
    grads = net.gradients(X, y, training=True)
    assert set(grads) == {f"d{name}" for name in net.params}
    for name, param in net.params.items():
        assert param.dtype == np_dtype
        assert grads[f"d{name}"].shape == param.shape
        assert grads[f"d{name}"].dtype == np_dtype
        assert np.isfinite(grads[f"d{name}"]).all()

    # seeded training repeats bit for bit
    history = net.fit(X, y, epochs=3, batch_size=5, optimizer="adam", learning_rate=0.01, verbose=0)
    twin = contract_net(kind, activation, dtype)
    twin.gradients(X, y, training=True)  # the same calls, so the same random draws
    for training in (False, True):
        twin.forward(X, training=training)
    twin_history = twin.fit(X, y, epochs=3, batch_size=5, optimizer="adam", learning_rate=0.01, verbose=0)
    assert list(history) == list(twin_history)
    assert history.history == twin_history.history
    for name, array in net.state_arrays().items():
        np.testing.assert_array_equal(array, twin.state_arrays()[name])
    assert any(
        not np.array_equal(array, contract_net(kind, activation, dtype).state_arrays()[name])
        for name, array in net.state_arrays().items()
    ), "training changed nothing"

    # save → load gives identical predictions (and state)
    path = tmp_path / "model.safetensors"
    net.save(path)
    loaded = deepmat.load(path)
    assert loaded.dtype == np_dtype
    np.testing.assert_array_equal(loaded.forward(X), net.forward(X))
    np.testing.assert_array_equal(loaded.predict(X), net.predict(X))
    for name, array in net.state_arrays().items():
        np.testing.assert_array_equal(loaded.state_arrays()[name], array)
    assert loaded.get_config() == net.get_config()


@pytest.mark.parametrize("units", [0, -3])
def test_dense_refuses_non_positive_units(units):
    with pytest.raises(ValueError, match="units must be a positive integer"):
        Dense(units)


@pytest.mark.parametrize("units", [2.5, "4", True, None])
def test_dense_refuses_non_integer_units(units):
    with pytest.raises(TypeError, match="units must be a positive integer"):
        Dense(units)


@pytest.mark.parametrize("make", [lambda: Dense(4, "swish"), lambda: Activation("swish")])
def test_unknown_activation_lists_the_valid_names(make):
    with pytest.raises(ValueError, match="unknown activation 'swish'") as info:
        make()
    for name in ACTIVATIONS:
        assert repr(name) in str(info.value)


@pytest.mark.parametrize("l2", [-0.1, "0.1", True, float("nan")])
def test_dense_refuses_bad_l2(l2):
    with pytest.raises(ValueError, match=r"l2 must be a (finite )?number ≥ 0"):
        Dense(3, l2=l2)


def test_dense_refuses_unknown_init():
    with pytest.raises(ValueError, match="initialiser"):
        Dense(3, init="glorot_magic")


@pytest.mark.parametrize(
    "layers",
    [
        [Dense(3), Dropout(0.5)],  # must end in Dense or Activation
        [Dense(3), BatchNorm()],
    ],
)
def test_network_refuses_a_non_output_last_layer(layers):
    with pytest.raises(ValueError, match="last layer must be Dense or Activation"):
        Network(layers=layers, input_dim=2)


def test_network_refuses_layers_without_dense_or_input_dim():
    with pytest.raises(ValueError, match="at least one Dense"):
        Network(layers=[Activation("sigmoid")], input_dim=2)
    with pytest.raises(ValueError, match="input_dim"):
        Network(layers=[Dense(1, "sigmoid")])
    with pytest.raises(TypeError, match=r"deepmat\.layers objects"):
        Network(layers=[Dense(3), "relu", Dense(1, "sigmoid")], input_dim=2)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_g_in_its_own_activation_layer_computes_the_dense_layers_bits(activation, dtype):
    """Dense(n, g) and Dense(n, "identity") → Activation(g) are one network: with the same
    arrays they give the same bits (on each kernel set), in training and inference, for a
    batch small enough for the fused transcendental pass and one beyond it."""
    fused = Network(layers=[Dense(7, activation), Dense(3, "softmax")], input_dim=5, seed=3, dtype=dtype)
    split = Network(
        layers=[Dense(7, "identity"), Activation(activation), Dense(3, "softmax")], input_dim=5, dtype=dtype
    )
    split.params = fused.params
    rng = np.random.default_rng(4)
    for m in (9, 1000):  # 63 and 7000 values in the first layer's Z
        X = rng.standard_normal((5, m)).astype(dtype)
        for training in (True, False):
            np.testing.assert_array_equal(
                split.forward_pass(X, training=training), fused.forward_pass(X, training=training)
            )
