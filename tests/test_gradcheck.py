"""Back-propagation against central differences: ``deepmat.gradcheck`` (SPEC §3).

The main grid checks every hidden activation × (output activation, loss) pair × depth
L = 1..5 in float64; the non-canonical pairs exercise the chained output gradient
dZ[L] = dA[L] ⊙ g[L]'(Z[L]) instead of the fused A[L] − Y. The rest checks that gradcheck
itself can fail: a deliberately wrong backward pass must be caught and reported.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import deepmat
from deepmat import activations, losses
from deepmat.layers import Dense
from deepmat.network import Network

HIDDEN = ["relu", "leaky_relu", "tanh", "sigmoid", "identity"]
CANONICAL = [("sigmoid", "binary_cross_entropy"), ("softmax", "cross_entropy"), ("identity", "mse")]
NON_CANONICAL = [("sigmoid", "mse"), ("softmax", "mse"), ("softmax", "binary_cross_entropy")]
OUTPUT_LOSS = CANONICAL + NON_CANONICAL


#: Weight gain per hidden activation: σ' ≤ 1/4, so a sigmoid stack with Xavier weights
#: shrinks the gradient about four-fold per layer (SPEC §4, seed 002); a gain of 2 keeps the
#: deep sigmoid cases' gradients large enough for the comparison to mean something.
GAIN = {"sigmoid": 2.0}


def make_problem(hidden, output, loss, L, seed, m=7, dtype="float64"):
    """A small random network (widths 3–6) with random biases, and matching (X, y)."""
    rng = np.random.RandomState(seed)
    n_out = {"sigmoid": rng.randint(1, 4), "softmax": rng.randint(2, 5), "identity": rng.randint(1, 4)}[
        output
    ]
    dims = [int(rng.randint(3, 7)) for _ in range(L)] + [int(n_out)]
    net = Network(dims, hidden, output, loss=loss, init="xavier", seed=seed, dtype=dtype)
    params = {k: v.copy() for k, v in net.params.items()}
    for l in range(2, L + 1):
        params[f"W{l}"] *= GAIN.get(hidden, 1.0)
    for l in range(1, L + 1):
        # non-zero biases, so that db is not only checked at b = 0
        params[f"b{l}"] = (0.1 * rng.randn(dims[l], 1)).astype(dtype)
    net.params = params  # the setter copies the values into the network's arrays
    X = rng.randn(m, dims[0])
    if output == "softmax":
        y = rng.randint(0, n_out, size=m)  # labels, one-hot encoded by the network
    elif output == "sigmoid":
        y = rng.randint(0, 2, size=(m, n_out)).astype(float) if loss != "mse" else rng.rand(m, n_out)
    else:
        y = rng.randn(m, n_out)
    return net, X, y


def grid():
    cases = []
    for output, loss in OUTPUT_LOSS:
        for L in range(1, 6):
            # with L = 1 there is no hidden layer, so one hidden activation suffices
            for hidden in HIDDEN if L > 1 else ["relu"]:
                cases.append(pytest.param(hidden, output, loss, L, id=f"{hidden}-{output}-{loss}-L{L}"))
    return cases


@pytest.mark.parametrize(("hidden", "output", "loss", "L"), grid())
def test_gradcheck_passes(hidden, output, loss, L):
    seed = 1000 * L + 10 * HIDDEN.index(hidden) + OUTPUT_LOSS.index((output, loss))
    net, X, y = make_problem(hidden, output, loss, L, seed)
    result = deepmat.gradcheck(net, X, y)
    assert set(result.errors) == {f"{p}{l}" for l in range(1, L + 1) for p in "Wb"}
    assert result.passed
    assert result.max_error < 1e-7, result.report()


def test_gradcheck_is_not_vacuous_every_gradient_is_nonzero():
    # gradcheck compares gradients to differences; make sure the grid's problems have
    # gradients worth comparing (a dead network would pass trivially)
    for hidden in HIDDEN:
        net, X, y = make_problem(hidden, "sigmoid", "binary_cross_entropy", 3, seed=7)
        grads = net.gradients(X, y)
        for name, g in grads.items():
            assert np.abs(g).max() > 1e-4, (hidden, name)


def test_gradcheck_at_a_minimum_where_every_gradient_is_zero():
    # targets equal to the network's own outputs: J = 0, every gradient is exactly zero;
    # the errors must stay finite (no 0/0) and the check must pass
    net, X, _ = make_problem("tanh", "identity", "mse", 2, seed=19)
    y = net.forward(X)
    assert all((g == 0).all() for g in net.gradients(X, y).values())
    result = deepmat.gradcheck(net, X, y)
    assert all(np.isfinite(e) for e in result.errors.values())
    assert result.passed


# -- gradcheck detects a wrong backward pass ----------------------------------------------


CORRECT_BACKWARD_DZ = Dense.backward_dZ


def backward_dZ_seed_erratum(self, dZ, need_dA_prev=True):
    """Seed 002's table: db = (1/m)·meanOfEachRow(dZ) — divides by m twice (SPEC §3)."""
    dA_prev = CORRECT_BACKWARD_DZ(self, dZ, need_dA_prev)
    self.grads[f"db{self.index}"] /= dZ.shape[1]
    return dA_prev


FAILURE = re.compile(
    r"gradient check failed in layer (\d+), parameter ([Wb])(\d+), index \[(\d+), (\d+)\]: "
    r"back-propagation gives d[Wb]\d+ = (\S+), central differences give (\S+) "
    r"\(relative error (\S+) ≥ 1e-07\)"
)


def test_broken_linear_backward_raises_naming_layer_parameter_index_and_values(monkeypatch):
    net, X, y = make_problem("tanh", "sigmoid", "binary_cross_entropy", 3, seed=11)
    assert deepmat.gradcheck(net, X, y).passed  # correct before the sabotage
    monkeypatch.setattr(Dense, "backward_dZ", backward_dZ_seed_erratum)
    with pytest.raises(deepmat.GradcheckError) as excinfo:
        deepmat.gradcheck(net, X, y)
    message = str(excinfo.value)
    match = FAILURE.search(message)
    assert match, message
    layer, param, param_layer, i, j, analytic, numeric, _ = match.groups()
    assert layer == param_layer
    assert param == "b"  # only db is wrong
    assert int(j) == 0 and 0 <= int(i) < net.layer_dims[int(layer)]
    # the two numbers are the worst entry's: db is m = 7 times too small
    result = deepmat.gradcheck(net, X, y, raise_on_failure=False)
    worst_index, a, n = result.worst[f"b{layer}"]
    assert worst_index == (int(i), int(j))
    assert float(analytic) == a and float(numeric) == n
    np.testing.assert_allclose(a * X.shape[0], n, rtol=1e-6)
    # every W is still right, every b is wrong; the report says which
    for l in range(1, 4):
        assert result.errors[f"W{l}"] < 1e-7
        assert result.errors[f"b{l}"] > 0.5
    assert "FAIL" in result.report() and "ok" in result.report()
    assert isinstance(excinfo.value, AssertionError)


def test_broken_relu_backward_is_caught_in_the_layers_below(monkeypatch):
    net, X, y = make_problem("relu", "softmax", "cross_entropy", 3, seed=12)
    assert deepmat.gradcheck(net, X, y).passed
    wrong = activations.Activation("relu", activations.relu, activations.identity_backward)
    monkeypatch.setitem(activations.ACTIVATIONS, "relu", wrong)
    result = deepmat.gradcheck(net, X, y, raise_on_failure=False)
    assert not result.passed
    assert result.max_error >= 1e-7
    # layer 3 (softmax) is untouched; layers 1 and 2 sit below a ReLU
    assert result.errors["W3"] < 1e-7 and result.errors["b3"] < 1e-7
    assert result.errors["W1"] > 1e-3 and result.errors["W2"] > 1e-3
    with pytest.raises(deepmat.GradcheckError, match=r"layer [12], parameter [Wb][12], index \["):
        deepmat.gradcheck(net, X, y)


def test_broken_chained_output_gradient_is_caught(monkeypatch):
    # a non-canonical pair goes through the loss gradient; break MSE's by a factor 2
    net, X, y = make_problem("tanh", "sigmoid", "mse", 2, seed=13)
    assert deepmat.gradcheck(net, X, y).passed
    spec = losses.LOSSES["mse"]
    monkeypatch.setitem(losses.LOSSES, "mse", spec._replace(gradient=lambda AL, Y: 2 * (AL - Y)))
    result = deepmat.gradcheck(net, X, y, raise_on_failure=False)
    assert not result.passed
    np.testing.assert_allclose(result.max_error, 0.5, rtol=1e-5)  # |2g − g| / |2g|


def test_raise_on_failure_false_returns_failed_result(monkeypatch):
    net, X, y = make_problem("sigmoid", "identity", "mse", 2, seed=14)
    monkeypatch.setattr(Dense, "backward_dZ", backward_dZ_seed_erratum)
    result = deepmat.gradcheck(net, X, y, raise_on_failure=False)
    assert isinstance(result, deepmat.GradcheckResult)
    assert result.passed is False
    assert result.max_error == max(result.errors.values()) >= result.tolerance


def test_tolerance_is_honoured():
    net, X, y = make_problem("tanh", "sigmoid", "binary_cross_entropy", 2, seed=15)
    result = deepmat.gradcheck(net, X, y)
    assert 0 < result.max_error < 1e-7
    # a tolerance below the achieved error fails
    with pytest.raises(deepmat.GradcheckError):
        deepmat.gradcheck(net, X, y, tolerance=result.max_error / 2)


# -- float32 networks and subsampling -----------------------------------------------------


def test_float32_network_checked_in_float64_and_left_unmodified():
    net, X, y = make_problem("tanh", "softmax", "cross_entropy", 3, seed=16, dtype="float32")
    X32 = X.astype(np.float32)
    before = {k: v.copy() for k, v in net.params.items()}
    ids = {k: id(v) for k, v in net.params.items()}
    result = deepmat.gradcheck(net, X32, y)
    # float32 arithmetic could not reach 1e-7 with ε = 1e-6: the check ran in float64
    assert result.max_error < 1e-7
    assert net.dtype == np.float32
    for k, v in net.params.items():
        assert v.dtype == np.float32
        assert id(v) == ids[k]
        np.testing.assert_array_equal(v, before[k])
    assert net.forward(X32).dtype == np.float32


def test_float64_network_params_restored_after_check():
    net, X, y = make_problem("relu", "identity", "mse", 2, seed=17)
    before = {k: v.copy() for k, v in net.params.items()}
    deepmat.gradcheck(net, X, y)
    for k, v in net.params.items():
        np.testing.assert_array_equal(v, before[k])


def test_max_entries_subsamples_each_parameter(monkeypatch):
    net = Network([30, 20, 2], "tanh", "softmax", seed=3)
    rng = np.random.RandomState(3)
    X, y = rng.randn(6, 30), rng.randint(0, 2, size=6)
    calls = []
    real_cost = Network.cost

    def counting_cost(self, *args, **kwargs):
        calls.append(1)
        return real_cost(self, *args, **kwargs)

    monkeypatch.setattr(Network, "cost", counting_cost)
    result = deepmat.gradcheck(net, X, y, max_entries=5)
    # W1 (600 entries) and b1 (20) and W2 (40) are capped at 5; b2 has only 2
    assert len(calls) == 2 * (5 + 5 + 5 + 2)
    assert result.passed
    for name, (index, _, _) in result.worst.items():
        assert all(0 <= i < s for i, s in zip(index, net.params[name].shape, strict=True))
    calls.clear()
    deepmat.gradcheck(net, X, y)
    assert len(calls) == 2 * (600 + 20 + 40 + 2)


def test_max_entries_still_finds_a_wrong_gradient(monkeypatch):
    net = Network([30, 20, 1], "tanh", "sigmoid", seed=4)
    rng = np.random.RandomState(4)
    X, y = rng.randn(6, 30), rng.randint(0, 2, size=6)
    monkeypatch.setattr(Dense, "backward_dZ", backward_dZ_seed_erratum)
    with pytest.raises(deepmat.GradcheckError, match=r"parameter b"):
        deepmat.gradcheck(net, X, y, max_entries=3)


def test_max_entries_seed_changes_the_sample(monkeypatch):
    net = Network([30, 4, 1], "tanh", "sigmoid", seed=5)
    rng = np.random.RandomState(5)
    X, y = rng.randn(6, 30), rng.randint(0, 2, size=6)
    perturbed = []
    real_cost = Network.cost
    W1 = net.copy().params["W1"]

    def recording_cost(self, *args, **kwargs):
        changed = np.argwhere(self.params["W1"] != W1)
        if len(changed):
            perturbed.append(tuple(int(i) for i in changed[0]))
        return real_cost(self, *args, **kwargs)

    monkeypatch.setattr(Network, "cost", recording_cost)
    deepmat.gradcheck(net, X, y, max_entries=4, seed=0)
    first = set(perturbed)
    perturbed.clear()
    deepmat.gradcheck(net, X, y, max_entries=4, seed=1)
    second = set(perturbed)
    assert len(first) == len(second) == 4  # 4 distinct entries, each perturbed ±ε
    assert first != second


@pytest.mark.parametrize(("kwargs", "error"), [({"eps": 0}, ValueError), ({"tolerance": -1.0}, ValueError)])
def test_bad_gradcheck_arguments(kwargs, error):
    net, X, y = make_problem("tanh", "identity", "mse", 1, seed=18)
    with pytest.raises(error, match="positive"):
        deepmat.gradcheck(net, X, y, **kwargs)
