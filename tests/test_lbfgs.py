"""L-BFGS (``fit(optimizer="lbfgs")``, :mod:`deepmat.lbfgs`): it minimises the full-batch J to a
point where the gradient vanishes, reaches scikit-learn's lbfgs loss from the same weights, is
exact with sample weights, drives callbacks per iteration, refuses what it cannot honour, and
runs from the command line."""

from __future__ import annotations

import csv
import itertools
import json
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

import deepmat
from deepmat import EarlyStopping, Network, TrainingDiverged, cli
from deepmat.callbacks import Callback
from deepmat.lbfgs import LBFGSResult
from deepmat.optimizers import LBFGS
from deepmat.sklearn import DeepmatClassifier


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:500] / 16, y[:500]


def small_problem(m: int = 60, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, 5))
    y = (X[:, 0] - X[:, 1] + 0.3 * rng.standard_normal(m) > 0).astype(int)
    return X, y


def test_the_gradient_vanishes_at_the_optimum():
    X, y = small_problem()
    net = Network([5, 8, 1], "tanh", "sigmoid", init="xavier", seed=0, l2=1e-2)
    start = max(np.abs(g).max() for g in net.gradients(X, y).values())
    optimizer = LBFGS(tol=1e-9)
    history = net.fit(X, y, optimizer=optimizer, iterations=2000, print_every=None)
    assert optimizer.result.converged, optimizer.result  # here: J fell by a relative 2.2e-9 at most
    gradient = max(np.abs(g).max() for g in net.gradients(X, y).values())
    assert gradient < 1e-4 * start  # 1.3e-5 from 0.16
    assert len(history) == optimizer.result.iterations == len(history.history["accuracy"])
    assert history[-1] == pytest.approx(net.cost(X, y), rel=1e-12)
    assert all(b <= a + 1e-12 for a, b in itertools.pairwise(history))  # J never rises


@pytest.mark.parametrize(
    ("deepmat_activation", "sklearn_activation"), [("tanh", "tanh"), ("sigmoid", "logistic")]
)
def test_reaches_scikit_learns_lbfgs_loss_from_the_same_weights(
    digits, deepmat_activation, sklearn_activation
):
    """The same J (λ = α/m), the same starting θ, SciPy's L-BFGS-B in both: within 1 %."""
    X, y = digits
    start = Network([64, 16, 10], deepmat_activation, "softmax", init="xavier", seed=3)
    coefs = [start.params["W1"].T, start.params["W2"].T]
    intercepts = [start.params["b1"][:, 0] + 0.01, start.params["b2"][:, 0]]
    params = dict(
        hidden_layer_sizes=(16,), activation=sklearn_activation, solver="lbfgs", alpha=1e-2, max_iter=300,
        tol=1e-6, warm_start=True,
    )  # fmt: skip
    ours = DeepmatClassifier(**params)
    ours.coefs_, ours.intercepts_ = [c.copy() for c in coefs], [b.copy() for b in intercepts]
    theirs = MLPClassifier(**params)
    theirs.coefs_, theirs.intercepts_ = [c.copy() for c in coefs], [b.copy() for b in intercepts]
    theirs.n_layers_, theirs.out_activation_ = 3, "softmax"  # what a warm start reads
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours.fit(X, y)
        theirs.fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=0.01)
    assert ours.loss_curve_[-1] == ours.loss_ < 0.05


def test_a_weight_of_two_is_the_sample_repeated():
    X, y = small_problem(40)
    w = np.random.default_rng(1).integers(0, 3, 40)
    weighted = Network([5, 6, 1], "tanh", "sigmoid", init="xavier", seed=2, l2=1e-3)
    repeated = Network([5, 6, 1], "tanh", "sigmoid", init="xavier", seed=2, l2=1e-3)
    np.testing.assert_array_equal(weighted.theta, repeated.theta)
    a = weighted.fit(X, y, optimizer="lbfgs", iterations=50, print_every=None, sample_weight=w)
    b = repeated.fit(
        np.repeat(X, w, axis=0), np.repeat(y, w), optimizer="lbfgs", iterations=50, print_every=None
    )
    assert a[0] == pytest.approx(b[0], rel=1e-14)  # the same J along the same path: measured 1e-16 …
    np.testing.assert_allclose(a, b, rtol=1e-9)  # … 9e-12 after 50 iterations (rounding, amplified)
    np.testing.assert_allclose(weighted.theta, repeated.theta, rtol=0, atol=1e-6)


def test_history_callbacks_and_early_stopping_per_iteration():
    X, y = small_problem(80)
    net = Network([5, 8, 1], "relu", "sigmoid", init="he", seed=1)
    seen = []

    class Record(Callback):
        def on_epoch_end(self, epoch, logs):
            seen.append((epoch, sorted(logs)))

    stopper = EarlyStopping("val_loss", patience=2, restore_best_weights=True)
    history = net.fit(
        X, y, optimizer="lbfgs", epochs=500, validation_split=0.25, callbacks=[Record(), stopper], verbose=0
    )
    assert [e for e, _ in seen] == list(range(len(history)))
    assert seen[0][1] == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert stopper.stopped_epoch == len(history) - 1 < 499 and net.stop_training
    assert history.history["val_loss"][stopper.best_epoch] == pytest.approx(min(history.history["val_loss"]))


def test_float32_and_a_regressor():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 3)).astype(np.float32)
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2]
    net = Network([3, 16, 1], "tanh", "identity", init="xavier", seed=0, dtype="float32")
    history = net.fit(X, y, optimizer=LBFGS(tol=1e-6), iterations=300, print_every=None)
    assert net.theta.dtype == np.float32
    assert history[-1] < history[0] / 20 and net.score(X, y) > 0.95


def test_ctrl_c_returns_the_history_so_far(capsys):
    X, y = small_problem()
    net = Network([5, 8, 1], "tanh", "sigmoid", init="xavier", seed=0)

    class Interrupt(Callback):
        def on_epoch_end(self, epoch, logs):
            if epoch == 3:
                self.theta = self.net.theta.copy()
                raise KeyboardInterrupt

    interrupt = Interrupt()
    history = net.fit(X, y, optimizer="lbfgs", iterations=100, print_every=None, callbacks=[interrupt])
    assert len(history) == 4
    np.testing.assert_array_equal(net.theta, interrupt.theta)
    assert "interrupted after iteration 4" in capsys.readouterr().err


def test_a_cost_that_cannot_be_finite_raises_training_diverged():
    X, y = small_problem()
    net = Network([5, 8, 1], "relu", "sigmoid", seed=0)
    start = net.theta.copy()
    with pytest.raises(TrainingDiverged, match="L-BFGS"):  # and no RuntimeWarning (an error in this suite)
        net.fit(X * 1e300, y, optimizer="lbfgs", iterations=5, print_every=None)
    np.testing.assert_array_equal(net.theta, start)


def test_the_result_says_how_it_ended():
    X, y = small_problem()
    optimizer = LBFGS(max_fun=3)
    Network([5, 4, 1], seed=0).fit(X, y, optimizer=optimizer, iterations=100, print_every=None)
    assert isinstance(optimizer.result, LBFGSResult)
    assert not optimizer.result.converged and optimizer.result.evaluations <= 5
    assert "LBFGS(tol=1e-05, max_fun=3, memory=10)" == repr(optimizer)


def test_the_command_line_trains_with_lbfgs(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", "--data", "digits", "--optimizer", "lbfgs", "--iterations", "25", "--layers", "64,32,10",
            "--dtype", "float64", "--verbose", "2", "--out", str(out)]  # fmt: skip
    assert cli.main(args) == 0
    printed = capsys.readouterr().out
    assert "train: lbfgs (line search), full batch, 25 iterations" in printed
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["unit"] == "iteration" and metrics["epochs"] <= 25 and metrics["test_accuracy"] > 0.85
    with open(out / "history.csv", newline="") as f:
        assert len(list(csv.DictReader(f))) == metrics["epochs"]
    assert not (out / "checkpoint.safetensors").exists()
    assert deepmat.load(out / "model.safetensors").layer_dims == [64, 32, 10]
