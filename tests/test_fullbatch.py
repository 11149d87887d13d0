"""The full-batch Gram shortcut (deepmat.fullbatch): same training, fewer products.

Full-batch gradient descent may take W[1]·A[0] from the Gram matrix A[0]ᵀ·A[0] instead of
multiplying; these tests train the same network with and without the shortcut and require
the same parameters and costs, and check when it is (and is not) taken.
"""

from __future__ import annotations

import numpy as np
import pytest

from deepmat import fullbatch, training
from deepmat.callbacks import Callback
from deepmat.network import Network
from deepmat.optimizers import SGD


def wide_data(m: int = 24, n0: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Few samples, many features (m ≤ n[0]/4), like the cat images."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n0))
    y = (X[:, :5].sum(axis=1) > 0).astype(np.int64)
    return X, y


class GramSpy:
    """Counts how often the shortcut supplied Z[1] and followed a step."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.linear_calls = 0
        self.steps = 0
        original_linear, original_step = fullbatch.InputGram.linear, fullbatch.InputGram.after_step
        spy = self

        def linear(self, Z):
            spy.linear_calls += 1
            return original_linear(self, Z)

        def after_step(self, learning_rate, dZ_mean):
            spy.steps += 1
            return original_step(self, learning_rate, dZ_mean)

        monkeypatch.setattr(fullbatch.InputGram, "linear", linear)
        monkeypatch.setattr(fullbatch.InputGram, "after_step", after_step)


def train(use_gram: bool, monkeypatch: pytest.MonkeyPatch, **kwargs) -> tuple[Network, list[float]]:
    monkeypatch.setattr(training, "USE_INPUT_GRAM", use_gram)
    X, y = wide_data()
    net = Network(kwargs.pop("dims", [200, 6, 4, 1]), "relu", seed=3, init="xavier", l2=kwargs.pop("l2", 0.0))
    history = net.fit(X, y, **{"learning_rate": 0.05, "iterations": 150, "print_every": 0, **kwargs})
    return net, list(history)


@pytest.mark.parametrize("l2", [0.0, 0.03])
@pytest.mark.parametrize("resync_every", [64, 7, 1])
def test_shortcut_trains_exactly_like_the_plain_forward_pass(monkeypatch, l2, resync_every):
    monkeypatch.setattr(fullbatch, "RESYNC_EVERY", resync_every)
    plain, plain_costs = train(False, monkeypatch, l2=l2)
    spy = GramSpy(monkeypatch)
    fast, fast_costs = train(True, monkeypatch, l2=l2)
    assert spy.linear_calls == 150 and spy.steps == 150  # the shortcut did the work
    for name in plain.params:
        np.testing.assert_allclose(
            fast.params[name], plain.params[name], rtol=1e-11, atol=1e-13, err_msg=name
        )
    np.testing.assert_allclose(fast_costs, plain_costs, rtol=1e-12)
    assert plain_costs[-1] < plain_costs[0]  # it did train


def test_shortcut_with_the_mini_batch_form_without_shuffling(monkeypatch):
    kwargs = {"epochs": 40, "batch_size": None, "shuffle": False, "optimizer": "sgd", "verbose": 0}
    plain, plain_costs = train(False, monkeypatch, iterations=None, **kwargs)
    spy = GramSpy(monkeypatch)
    fast, fast_costs = train(True, monkeypatch, iterations=None, **kwargs)
    assert spy.steps == 40
    np.testing.assert_allclose(fast_costs, plain_costs, rtol=1e-12)
    np.testing.assert_allclose(fast.params["W1"], plain.params["W1"], rtol=1e-11, atol=1e-13)


class ReadsOnly(Callback):
    touches_parameters = False


class MayChange(Callback):  # a user's callback: assumed to change parameters
    pass


@pytest.mark.parametrize(
    ("case", "kwargs", "expected"),
    [
        ("seeds' form", {}, True),
        ("read-only callback", {"callbacks": [ReadsOnly()]}, True),
        ("user callback", {"callbacks": [MayChange()]}, False),
        ("momentum", {"optimizer": SGD(0.05, momentum=0.9)}, False),
        ("adam", {"optimizer": "adam"}, False),
        ("shuffled full batch", {"iterations": None, "epochs": 3, "verbose": 0}, False),
        (
            "mini-batches",
            {"iterations": None, "epochs": 3, "batch_size": 8, "shuffle": False, "verbose": 0},
            False,
        ),
    ],
)
def test_shortcut_only_where_the_identity_holds(monkeypatch, case, kwargs, expected):
    spy = GramSpy(monkeypatch)
    train(True, monkeypatch, **kwargs)
    assert (spy.steps > 0) is expected, case


def test_no_shortcut_when_there_are_not_few_samples_per_feature(monkeypatch):
    monkeypatch.setattr(training, "USE_INPUT_GRAM", True)
    spy = GramSpy(monkeypatch)
    X, y = wide_data(m=60, n0=200)  # m > n[0]/4: G would not save work
    Network([200, 3, 1], seed=0).fit(X, y, iterations=5, print_every=0)
    assert spy.steps == 0
