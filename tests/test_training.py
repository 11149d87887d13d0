"""Mini-batch training: ``Network.fit`` with epochs, batches, optimisers, validation,
callbacks, schedules, progress output, checkpoints, exact resume, divergence and Ctrl-C.

Every comparison with a reference (a hand-written loop, ``torch.optim``, an uninterrupted
run) is on small random data with fixed seeds; "bit-identical" means ``assert_array_equal``.
"""

from __future__ import annotations

import io
import json
import math
import os

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from safetensors import safe_open
from torch import nn

import deepmat
from deepmat import Activation, BatchNorm, Dense, Dropout, EarlyStopping, Network
from deepmat import functional as F
from deepmat.callbacks import Callback, History, ProgressBar
from deepmat.optimizers import OPTIMIZERS, Adam
from deepmat.schedules import CosineDecay, ExponentialDecay, ReduceLROnPlateau, StepDecay

# -- helpers ------------------------------------------------------------------------------


def binary_data(m: int = 50, n: int = 4, seed: int = 0):
    rng = np.random.RandomState(seed)
    X = rng.randn(m, n)
    y = (X[:, 0] + 0.5 * X[:, 1] - 0.3 * X[:, 2] > 0).astype(int)
    return X, y


def class_data(m: int = 60, n: int = 5, k: int = 3, seed: int = 1, noise: float = 0.2):
    rng = np.random.RandomState(seed)
    X = rng.randn(m, n)
    y = np.argmax(X[:, :k] + noise * rng.randn(m, k), axis=1)
    return X, y


def assert_same_state(a: Network, b: Network) -> None:
    state_a, state_b = a.state_arrays(), b.state_arrays()
    assert set(state_a) == set(state_b)
    for name in state_a:
        np.testing.assert_array_equal(state_a[name], state_b[name], err_msg=name)


def assert_same_history(a: History, b: History) -> None:
    assert list(a) == list(b)
    assert a.history == b.history
    assert a.epoch == b.epoch


def states_differ(a: Network, b: Network) -> bool:
    return any(not np.array_equal(v, b.state_arrays()[k]) for k, v in a.state_arrays().items())


def dropout_net(seed: int = 3) -> Network:
    return Network([4, 10, 6, 1], "tanh", dropout=0.25, seed=seed, init="xavier")


# -- reproducibility ----------------------------------------------------------------------

FIT = {"epochs": 4, "batch_size": 8, "optimizer": "adam", "learning_rate": 0.01, "verbose": 0}


def test_same_seed_gives_bit_identical_params_and_history():
    X, y = binary_data()
    a, b = dropout_net(), dropout_net()
    history_a, history_b = a.fit(X, y, **FIT), b.fit(X, y, **FIT)
    assert_same_state(a, b)
    assert_same_history(history_a, history_b)
    assert len(history_a) == 4


def test_different_seed_differs():
    X, y = binary_data()
    a, b = dropout_net(seed=3), dropout_net(seed=4)
    history_a, history_b = a.fit(X, y, **FIT), b.fit(X, y, **FIT)
    assert states_differ(a, b)
    assert list(history_a) != list(history_b)


def test_same_initial_weights_other_seed_differs_through_dropout_and_shuffling():
    """The seed also drives the dropout masks and the shuffling, not only the weights."""
    X, y = binary_data()
    a, b = dropout_net(seed=3), dropout_net(seed=4)
    b.params = a.params
    a.fit(X, y, **FIT)
    b.fit(X, y, **FIT)
    assert states_differ(a, b)


def test_shuffle_changes_the_run():
    X, y = binary_data()
    net = lambda: Network([4, 6, 1], "tanh", seed=5)  # noqa: E731 - no dropout: only the order differs
    a, b, c = net(), net(), net()
    history_a = a.fit(X, y, shuffle=False, **FIT)
    history_b = b.fit(X, y, shuffle=True, **FIT)
    history_c = c.fit(X, y, shuffle=False, **FIT)
    assert states_differ(a, b)
    assert list(history_a) != list(history_b)
    assert list(history_a) == list(history_c)
    assert_same_state(a, c)  # without shuffling two runs are the same too


def test_fit_does_not_modify_its_inputs():
    X, y = binary_data()
    X0, y0 = X.copy(), y.copy()
    dropout_net().fit(X, y, **FIT)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


# -- the seeds' full-batch form -----------------------------------------------------------


def test_seeds_form_returns_a_history_of_every_iteration(capsys):
    X, y = binary_data()
    net = Network([4, 5, 1], seed=1)
    initial_cost = net.cost(X, y)
    costs = net.fit(X, y, learning_rate=0.0075, iterations=25, print_every=10)
    assert isinstance(costs, History) and isinstance(costs, list)
    assert len(costs) == 25
    assert costs[0] == initial_cost
    assert costs[-1] < costs[0]
    assert costs.history["loss"] == list(costs)
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"Cost after iteration 0: {costs[0]:.7f}",
        f"Cost after iteration 10: {costs[10]:.7f}",
        f"Cost after iteration 20: {costs[20]:.7f}",
    ]


def test_seeds_form_print_every_none_is_silent(capsys):
    X, y = binary_data()
    Network([4, 5, 1], seed=1).fit(X, y, iterations=3, print_every=None)
    assert capsys.readouterr().out == ""


def test_seeds_form_equals_full_batch_sgd_epochs_bit_for_bit():
    X, y = binary_data()
    a, b = Network([4, 6, 3, 1], seed=2), Network([4, 6, 3, 1], seed=2)
    costs = a.fit(X, y, learning_rate=0.0075, iterations=30, print_every=0)
    history = b.fit(
        X,
        y,
        epochs=30,
        batch_size=X.shape[0],
        shuffle=False,
        optimizer="sgd",
        learning_rate=0.0075,
        verbose=0,
    )
    assert_same_state(a, b)
    assert list(costs) == list(history)


def test_seeds_form_default_learning_rate_is_0_0075():
    X, y = binary_data()
    a, b = Network([4, 3, 1], seed=2), Network([4, 3, 1], seed=2)
    a.fit(X, y, iterations=5, print_every=0)
    b.fit(X, y, learning_rate=0.0075, iterations=5, print_every=0)
    assert_same_state(a, b)


# -- mini-batch SGD against a hand-written loop -------------------------------------------


def test_minibatch_sgd_equals_the_functional_api_on_the_same_batches():
    X, y = binary_data(m=50)
    net = Network([4, 6, 5, 1], "tanh", seed=2, init="xavier")
    params = {k: v.copy() for k, v in net.params.items()}
    lr, batch_size = 0.1, 16
    history = net.fit(
        X, y, epochs=3, batch_size=batch_size, shuffle=False, optimizer="sgd", learning_rate=lr, verbose=0
    )
    expected_losses = []
    for _ in range(3):
        total = 0.0
        for start in range(0, 50, batch_size):  # batches of 16, 16, 16 and 2
            Xb, Yb = (
                X[start : start + batch_size].T,
                y[start : start + batch_size].reshape(1, -1).astype(float),
            )
            AL, caches = F.L_model_forward(Xb, params, "tanh", "sigmoid")
            total += F.compute_cost(AL, Yb) * Xb.shape[1]
            grads = F.L_model_backward(AL, Yb, caches, "tanh", "sigmoid", compute_dA0=False)
            params = F.update_parameters(params, grads, lr)
        expected_losses.append(total / 50)
    # equal up to rounding: the network computes W·A as (Aᵀ·Wᵀ)ᵀ when n[l] < m (layers.z_order),
    # which may sum the products in another order (differences of an ulp or two)
    for name, value in params.items():
        np.testing.assert_allclose(net.params[name], value, rtol=1e-13, atol=1e-15, err_msg=name)
    np.testing.assert_allclose(list(history), expected_losses, rtol=1e-13)


def test_minibatch_sgd_equals_a_loop_over_net_gradients():
    X, y = class_data(m=45)
    make = lambda: Network([5, 7, 3], "relu", "softmax", seed=4, l2=0.01)  # noqa: E731
    net, twin = make(), make()
    lr, batch_size = 0.05, 10
    net.fit(
        X, y, epochs=4, batch_size=batch_size, shuffle=False, optimizer="sgd", learning_rate=lr, verbose=0
    )
    for _ in range(4):
        for start in range(0, 45, batch_size):
            grads = twin.gradients(
                X[start : start + batch_size], y[start : start + batch_size], training=True
            )
            for name, theta in twin.params.items():
                theta -= lr * grads[f"d{name}"]
    assert_same_state(net, twin)


# -- Adam against torch.optim.Adam --------------------------------------------------------


def test_adam_fit_matches_torch_adam_on_the_same_batches():
    X, y = binary_data(m=50, seed=7)
    net = Network([4, 8, 1], "relu", "sigmoid", seed=7, init="he")
    net.params = {**net.params, "b1": 0.1 * np.random.RandomState(8).randn(8, 1)}
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1), nn.Sigmoid()).double()
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(net.params["W1"]))
        model[0].bias.copy_(torch.from_numpy(net.params["b1"][:, 0]))
        model[2].weight.copy_(torch.from_numpy(net.params["W2"]))
        model[2].bias.copy_(torch.from_numpy(net.params["b2"][:, 0]))
    torch_optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    history = net.fit(
        X, y, epochs=3, batch_size=12, shuffle=False, optimizer=Adam(learning_rate=0.02), verbose=0
    )
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y.astype(float)).reshape(-1, 1)
    losses = []
    for _ in range(3):
        total = 0.0
        for start in range(0, 50, 12):
            out = model(Xt[start : start + 12])
            loss = TF.binary_cross_entropy(out, yt[start : start + 12])
            torch_optimizer.zero_grad()
            loss.backward()
            torch_optimizer.step()
            total += loss.item() * out.shape[0]
        losses.append(total / 50)
    pairs = {"W1": model[0].weight, "b1": model[0].bias, "W2": model[2].weight, "b2": model[2].bias}
    for name, tensor in pairs.items():
        np.testing.assert_allclose(
            net.params[name].reshape(-1), tensor.detach().numpy().reshape(-1), rtol=1e-9, atol=1e-12
        )
    np.testing.assert_allclose(list(history), losses, rtol=1e-9)


# -- validation and history ---------------------------------------------------------------


def test_history_has_loss_accuracy_and_lr_per_epoch():
    X, y = class_data()
    net = Network([5, 8, 3], "relu", "softmax", seed=1)
    history = net.fit(X, y, epochs=5, batch_size=16, optimizer="sgd", learning_rate=0.1, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "lr"}
    assert all(len(values) == 5 for values in history.history.values())
    assert history.epoch == [0, 1, 2, 3, 4]
    assert history.history["loss"] == list(history)
    assert history.history["lr"] == [0.1] * 5
    assert all(0 <= a <= 1 for a in history.history["accuracy"])
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_regression_history_has_no_accuracy():
    rng = np.random.RandomState(2)
    X = rng.randn(30, 3)
    y = X @ [1.0, -2.0, 0.5]
    net = Network([3, 4, 1], "tanh", "identity", seed=2)
    history = net.fit(X, y, epochs=3, batch_size=10, validation_split=0.2, verbose=0, learning_rate=0.01)
    assert set(history.history) == {"loss", "val_loss", "lr"}


def test_validation_data_adds_val_loss_and_val_accuracy():
    X, y = class_data()
    X_val, y_val = class_data(m=20, seed=9)
    net = Network([5, 8, 3], "relu", "softmax", seed=1)
    history = net.fit(X, y, epochs=4, batch_size=16, validation_data=(X_val, y_val), verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}
    assert all(len(values) == 4 for values in history.history.values())
    # the last epoch's validation metrics are those of the final network
    assert history.history["val_loss"][-1] == pytest.approx(net.cost(X_val, y_val), rel=1e-12)
    assert history.history["val_accuracy"][-1] == net.score(X_val, y_val)


def test_validation_split_is_a_stratified_seeded_draw():
    """The held-out fraction is drawn at random from the network's seed, each class keeping
    its share (issue 14: the unshuffled last 10 % could hold one class only)."""
    from deepmat.training import validation_rows

    X, y = class_data(m=60)
    y = np.sort(y)  # sorted labels: the last quarter would be one class
    a, b = Network([5, 8, 3], "relu", "softmax", seed=1), Network([5, 8, 3], "relu", "softmax", seed=1)
    train, val = validation_rows(a, a.target_rows(y, 60), 15)
    assert val.size == 15 and np.intersect1d(train, val).size == 0 and train.size + val.size == 60
    for c in range(3):  # each class keeps its share, to within one sample
        assert abs((y[val] == c).sum() / 15 - (y == c).mean()) <= 1 / 15
    history_a = a.fit(X, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0)
    history_b = b.fit(
        X[train], y[train], epochs=3, batch_size=16, validation_data=(X[val], y[val]), verbose=0
    )
    assert_same_state(a, b)
    assert_same_history(history_a, history_b)
    again = validation_rows(Network([5, 8, 3], "relu", "softmax", seed=1), a.target_rows(y, 60), 15)
    assert np.array_equal(again[1], val)  # the same seed holds out the same rows
    other = validation_rows(Network([5, 8, 3], "relu", "softmax", seed=2), a.target_rows(y, 60), 15)
    assert not np.array_equal(other[1], val)


def test_validation_does_not_change_training():
    a, b = dropout_net(), dropout_net()
    Xb, yb = binary_data(m=40)
    a.fit(Xb, yb, validation_data=(Xb[:10], yb[:10]), **FIT)
    b.fit(Xb, yb, **FIT)
    assert_same_state(a, b)


# -- EarlyStopping ------------------------------------------------------------------------


def overfitting_problem():
    """A tiny, noisy training set and a big net: the validation loss soon rises."""
    rng = np.random.RandomState(0)
    X = rng.randn(20, 5)
    y = rng.randint(0, 2, 20)  # labels unrelated to X
    X_val = rng.randn(100, 5)
    y_val = (X_val[:, 0] > 0).astype(int)
    return X, y, (X_val, y_val)


def overfit_net() -> Network:
    return Network([5, 64, 64, 1], seed=0, init="he")


OVERFIT = {"batch_size": 5, "optimizer": "adam", "learning_rate": 0.01, "verbose": 0}


def test_early_stopping_stops_and_restores_the_best_epoch():
    X, y, validation = overfitting_problem()
    stopper = EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    net = overfit_net()
    history = net.fit(X, y, epochs=200, validation_data=validation, callbacks=[stopper], **OVERFIT)
    val_loss = history.history["val_loss"]
    assert len(history) < 200
    assert stopper.stopped_epoch == len(history) - 1
    best = int(np.argmin(val_loss))
    assert stopper.best_epoch == best
    assert stopper.best == val_loss[best]
    assert len(history) == best + 1 + 4  # patience 3: the 4th epoch without improvement stops
    assert all(v >= val_loss[best] for v in val_loss[best + 1 :])
    # the parameters are those after epoch `best`: a run of exactly best + 1 epochs
    reference = overfit_net()
    reference.fit(X, y, epochs=best + 1, validation_data=validation, **OVERFIT)
    assert_same_state(net, reference)
    assert net.cost(*validation) == pytest.approx(val_loss[best], rel=1e-12)


def test_early_stopping_without_restore_keeps_the_last_weights():
    X, y, validation = overfitting_problem()
    stopper = EarlyStopping(patience=2, restore_best_weights=False)
    net = overfit_net()
    history = net.fit(X, y, epochs=200, validation_data=validation, callbacks=[stopper], **OVERFIT)
    reference = overfit_net()
    reference.fit(X, y, epochs=len(history), **OVERFIT)
    assert_same_state(net, reference)
    assert net.cost(*validation) == pytest.approx(history.history["val_loss"][-1], rel=1e-12)


def test_early_stopping_needs_the_monitored_metric():
    X, y = binary_data()
    with pytest.raises(ValueError, match="val_loss"):
        Network([4, 3, 1]).fit(X, y, epochs=2, callbacks=[EarlyStopping()], verbose=0)


# -- learning-rate schedules against torch.optim.lr_scheduler ----------------------------


def torch_lrs(make_scheduler, lr: float, epochs: int) -> list[float]:
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = make_scheduler(optimizer)
    lrs = []
    for _ in range(epochs):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


@pytest.mark.parametrize(
    ("schedule", "torch_scheduler", "epochs"),
    [
        (lambda: StepDecay(step_size=3, gamma=0.5), lambda o: torch.optim.lr_scheduler.StepLR(o, 3, 0.5), 10),
        (lambda: ExponentialDecay(gamma=0.8), lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.8), 8),
        (lambda: CosineDecay(T_max=6), lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 6), 7),
        (
            lambda: CosineDecay(T_max=5, min_lr=0.01),
            lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 5, eta_min=0.01),
            6,
        ),
    ],
    ids=["step", "exponential", "cosine", "cosine_min_lr"],
)
def test_schedules_match_torch(schedule, torch_scheduler, epochs):
    X, y = binary_data(m=20)
    net = Network([4, 3, 1], seed=0)
    history = net.fit(
        X,
        y,
        epochs=epochs,
        batch_size=10,
        optimizer="sgd",
        learning_rate=0.2,
        callbacks=[schedule()],
        verbose=0,
    )
    expected = torch_lrs(torch_scheduler, 0.2, epochs)
    assert history.history["lr"] == pytest.approx(expected, rel=1e-12)
    assert len(set(history.history["lr"])) > 1


def test_schedule_sets_the_rate_the_optimizer_steps_with():
    """A StepDecay to 0 … 1e-300 after the first epoch freezes the parameters from then on."""
    X, y = binary_data(m=20)
    a, b = Network([4, 3, 1], seed=0), Network([4, 3, 1], seed=0)
    a.fit(X, y, epochs=4, batch_size=10, learning_rate=0.5, callbacks=[StepDecay(1, gamma=1e-300)], verbose=0)
    b.fit(X, y, epochs=1, batch_size=10, learning_rate=0.5, verbose=0)
    for name in a.params:
        np.testing.assert_allclose(a.params[name], b.params[name], rtol=1e-12, atol=1e-250)


def test_reduce_lr_on_plateau_reduces_after_patience():
    X, y = binary_data(m=20)
    net = Network([4, 3, 1], seed=0)
    # min_delta so large that only the first epoch counts as an improvement
    plateau = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=2, min_delta=1e9)
    history = net.fit(X, y, epochs=9, batch_size=10, learning_rate=0.1, callbacks=[plateau], verbose=0)
    # epoch 0 improves; epochs 1, 2 wait; epoch 3 is the third without improvement → reduce
    assert history.history["lr"] == pytest.approx([0.1] * 4 + [0.05] * 3 + [0.025] * 2, rel=1e-15)


def test_reduce_lr_on_plateau_matches_torch_on_a_real_validation_curve():
    X, y, validation = overfitting_problem()
    net = overfit_net()
    plateau = ReduceLROnPlateau(monitor="val_loss", factor=0.3, patience=1, min_delta=1e-3, min_lr=1e-4)
    history = net.fit(X, y, epochs=15, validation_data=validation, callbacks=[plateau], **OVERFIT)
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.01)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, factor=0.3, patience=1, threshold=1e-3, threshold_mode="abs", min_lr=1e-4
    )
    expected = []
    for val_loss in history.history["val_loss"]:
        expected.append(optimizer.param_groups[0]["lr"])
        scheduler.step(val_loss)
    assert history.history["lr"] == pytest.approx(expected, rel=1e-12)
    assert min(history.history["lr"]) < 0.01


# -- progress output ----------------------------------------------------------------------


def test_verbose_0_prints_nothing(capsys):
    X, y = binary_data(m=20)
    Network([4, 3, 1]).fit(X, y, epochs=3, batch_size=5, verbose=0)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_verbose_2_prints_one_line_per_epoch(capsys):
    X, y = binary_data(m=20)
    Network([4, 3, 1]).fit(X, y, epochs=3, batch_size=5, verbose=2, validation_split=0.25)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    for i, line in enumerate(lines, start=1):
        assert line.startswith(f"epoch {i}/3 - loss: ")
        assert "val_loss" in line and "accuracy" in line and "lr: 0.0075" in line


def test_verbose_1_without_a_terminal_prints_plain_lines(capsys):
    X, y = binary_data(m=20)
    Network([4, 3, 1]).fit(X, y, epochs=3, batch_size=5, verbose=1)
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert [line.split(" - ")[0] for line in lines] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
    assert "\r" not in out and "it/s" not in out


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal_uses_tqdm(capsys):
    X, y = binary_data(m=20)
    stream = FakeTTY()
    bar = ProgressBar(epochs=3, n_batches=4, verbose=1, stream=stream)
    assert bar.use_bar
    Network([4, 3, 1]).fit(X, y, epochs=3, batch_size=5, verbose=0, callbacks=[bar])
    out = stream.getvalue()
    assert "\r" in out  # tqdm redraws in place
    for epoch in (1, 2, 3):
        assert f"epoch {epoch}/3" in out
    assert "4/4" in out and "100%" in out
    assert "loss: " in out
    assert capsys.readouterr().out == ""  # all of it went to the given stream


def test_progress_bar_verbose_2_on_a_terminal_prints_lines():
    stream = FakeTTY()
    bar = ProgressBar(epochs=2, n_batches=4, verbose=2, stream=stream)
    X, y = binary_data(m=20)
    Network([4, 3, 1]).fit(X, y, epochs=2, batch_size=5, verbose=0, callbacks=[bar])
    assert [line[:9] for line in stream.getvalue().splitlines()] == ["epoch 1/2", "epoch 2/2"]


# -- checkpoints and exact resume ---------------------------------------------------------


def resumable_net(seed: int = 11) -> Network:
    layers = [
        Dense(16, "identity"),
        BatchNorm(),
        Activation("relu"),
        Dropout(0.3),
        Dense(8, "tanh"),
        Dropout(0.2),
        Dense(3, "softmax"),
    ]
    return Network(layers=layers, input_dim=5, init="he", seed=seed)


def resume_problem():
    X, y = class_data(m=60, noise=1.0, seed=12)
    X_val, y_val = class_data(m=30, noise=1.0, seed=13)
    return X, y, (X_val, y_val)


def resume_callbacks() -> list[Callback]:
    return [EarlyStopping(patience=3), ReduceLROnPlateau(factor=0.5, patience=1)]


RESUME = {
    "batch_size": 7,
    "optimizer": "adam",
    "learning_rate": 0.03,
    "verbose": 0,
}  # 9 batches, the last of 4


def uninterrupted(epochs: int):
    X, y, validation = resume_problem()
    net = resumable_net()
    callbacks = resume_callbacks()
    history = net.fit(X, y, epochs=epochs, validation_data=validation, callbacks=callbacks, **RESUME)
    return net, history, callbacks


def read_training_state(path) -> dict:
    with safe_open(os.fspath(path), "numpy") as f:
        return json.loads(f.metadata()["training"])


def test_checkpoint_every_writes_the_file(tmp_path):
    X, y, _ = resume_problem()
    path = tmp_path / "ckpt.safetensors"
    seen = []

    class Spy(Callback):
        def on_epoch_end(self, epoch, logs):
            seen.append((epoch, path.exists() and read_training_state(path)["epoch"]))

    resumable_net().fit(X, y, epochs=5, checkpoint=path, checkpoint_every=2, callbacks=[Spy()], **RESUME)
    # a checkpoint is written after epochs 2, 4 and the last (5); Spy runs before the write
    assert seen == [(0, False), (1, False), (2, 2), (3, 2), (4, 4)]
    assert read_training_state(path)["epoch"] == 5
    loaded = deepmat.load(path)  # a checkpoint is a model file too
    assert loaded.layer_dims == [5, 16, 8, 3]


def test_resume_ends_bit_identical_to_an_uninterrupted_run(tmp_path):
    epochs = 9
    net_a, history_a, callbacks_a = uninterrupted(epochs)
    # early stopping fires after the resume point and restores a best epoch from before it
    # (its weights travel in the checkpoint), and the plateau callback lowers the rate
    assert callbacks_a[0].stopped_epoch == 7 and callbacks_a[0].best_epoch < 4
    assert len(set(history_a.history["lr"])) > 1

    X, y, validation = resume_problem()
    path = tmp_path / "ckpt.safetensors"
    first = resumable_net()
    history_first = first.fit(
        X, y, epochs=4, validation_data=validation, callbacks=resume_callbacks(), checkpoint=path, **RESUME
    )
    assert len(history_first) == 4
    resumed = resumable_net(seed=99)  # every bit of state comes from the checkpoint
    history_b = resumed.fit(
        X,
        y,
        epochs=epochs,
        validation_data=validation,
        callbacks=resume_callbacks(),
        resume_from=path,
        **RESUME,
    )
    assert_same_state(net_a, resumed)
    assert_same_history(history_a, history_b)
    assert [layer.num_batches_tracked for layer in resumed.layers if isinstance(layer, BatchNorm)] == [
        len(history_a) * 9
    ]


def test_resume_from_a_checkpoint_every_2_epochs(tmp_path):
    """checkpoint_every=2 with 5 epochs: the last write is the final epoch; resuming from an
    intermediate epoch-2 file (kept aside) continues exactly."""
    X, y, validation = resume_problem()
    net_a, history_a, _ = uninterrupted(5)
    path = tmp_path / "ckpt.safetensors"
    kept = tmp_path / "epoch2.safetensors"

    def keep(epoch, logs):
        if epoch == 2:  # the file written after epoch index 1 (2 epochs done)
            kept.write_bytes(path.read_bytes())

    keeper = Callback()  # a plain Callback: a placeholder Callback() matches it on resume
    keeper.on_epoch_end = keep
    callbacks = [*resume_callbacks(), keeper]
    resumable_net().fit(
        X,
        y,
        epochs=5,
        validation_data=validation,
        callbacks=callbacks,
        checkpoint=path,
        checkpoint_every=2,
        **RESUME,
    )
    assert read_training_state(kept)["epoch"] == 2
    resumed = resumable_net()
    history_b = resumed.fit(
        X,
        y,
        epochs=5,
        validation_data=validation,
        callbacks=[*resume_callbacks(), Callback()],
        resume_from=kept,
        **RESUME,
    )
    assert_same_state(net_a, resumed)
    assert_same_history(history_a, history_b)


def test_ctrl_c_returns_history_saves_and_resumes_exactly(tmp_path, capsys):
    epochs = 9
    net_a, history_a, _ = uninterrupted(epochs)
    X, y, validation = resume_problem()
    path = tmp_path / "ckpt.safetensors"

    interrupter = Callback()  # a plain Callback, so a placeholder Callback() matches it on resume
    where = {}

    def on_epoch_begin(epoch):
        where["epoch"] = epoch

    def on_batch_end(batch, logs):
        if where["epoch"] == 2 and batch == 3:
            raise KeyboardInterrupt

    interrupter.on_epoch_begin, interrupter.on_batch_end = on_epoch_begin, on_batch_end
    net_b = resumable_net()
    history = net_b.fit(
        X,
        y,
        epochs=epochs,
        validation_data=validation,
        callbacks=[*resume_callbacks(), interrupter],
        checkpoint=path,
        checkpoint_every=10,
        **RESUME,
    )
    assert len(history) == 2  # epochs 0 and 1 completed
    assert_same_history(history, _first_epochs(history_a, 2))
    assert path.exists()
    state = read_training_state(path)
    assert (state["epoch"], state["batch"]) == (2, 4)  # batches 0..3 of epoch 2 were taken
    assert "interrupted at epoch 2" in capsys.readouterr().err

    resumed = resumable_net()
    history_b = resumed.fit(
        X,
        y,
        epochs=epochs,
        validation_data=validation,
        callbacks=[*resume_callbacks(), Callback()],
        resume_from=path,
        **RESUME,
    )
    assert_same_state(net_a, resumed)
    assert_same_history(history_a, history_b)


def _first_epochs(history: History, n: int) -> History:
    head = History()
    head.epoch = history.epoch[:n]
    head.history = {k: v[:n] for k, v in history.history.items()}
    head.extend(history[:n])
    return head


def test_resume_after_early_stopping_does_not_train_further(tmp_path):
    """The checkpoint written when EarlyStopping fired resumes to the same end (no extra epoch)."""
    X, y, validation = overfitting_problem()
    path = tmp_path / "ckpt.safetensors"
    a = overfit_net()
    stopper = EarlyStopping(patience=2)
    history_a = a.fit(
        X, y, epochs=100, validation_data=validation, callbacks=[stopper], checkpoint=path, **OVERFIT
    )
    assert stopper.stopped_epoch is not None and len(history_a) < 100
    b = overfit_net()
    history_b = b.fit(
        X,
        y,
        epochs=100,
        validation_data=validation,
        callbacks=[EarlyStopping(patience=2)],
        resume_from=path,
        **OVERFIT,
    )
    assert_same_history(history_a, history_b)
    assert_same_state(a, b)


def test_resume_refuses_a_different_setup(tmp_path):
    X, y, validation = resume_problem()
    path = tmp_path / "ckpt.safetensors"
    resumable_net().fit(
        X, y, epochs=1, validation_data=validation, callbacks=resume_callbacks(), checkpoint=path, **RESUME
    )
    with pytest.raises(ValueError, match="callbacks"):
        resumable_net().fit(X, y, epochs=2, validation_data=validation, resume_from=path, **RESUME)
    with pytest.raises(ValueError, match="Adam"):
        resumable_net().fit(
            X,
            y,
            epochs=2,
            validation_data=validation,
            callbacks=resume_callbacks(),
            resume_from=path,
            **{**RESUME, "optimizer": "sgd"},
        )
    with pytest.raises(ValueError, match="different network"):
        Network([5, 16, 3], output_activation="softmax").fit(
            X,
            y,
            epochs=2,
            callbacks=resume_callbacks(),
            validation_data=validation,
            resume_from=path,
            verbose=0,
        )


# -- divergence ---------------------------------------------------------------------------


def test_divergence_raises_keeps_params_finite_and_the_checkpoint_intact(tmp_path):
    rng = np.random.RandomState(3)
    X = rng.randn(40, 3)
    y = X @ [1.0, 2.0, 3.0]
    net = Network([3, 8, 1], "relu", "identity", seed=0)
    path = tmp_path / "ckpt.safetensors"
    net.fit(X, y, epochs=2, batch_size=8, learning_rate=0.001, checkpoint=path, verbose=0)
    saved = path.read_bytes()
    before = {k: v.copy() for k, v in net.params.items()}
    with pytest.raises(deepmat.TrainingDiverged, match=r"epoch 0 \(batch \d+/5\)") as info:
        net.fit(X, y, epochs=3, batch_size=8, learning_rate=1e8, checkpoint=path, verbose=0)
    message = str(info.value)
    assert "smaller learning rate" in message
    assert "learning_rate=100000000.0" in message
    assert isinstance(info.value, FloatingPointError)
    assert all(np.isfinite(v).all() for v in net.params.values())
    for name, value in before.items():  # restored to the start of the diverging epoch
        np.testing.assert_array_equal(net.params[name], value)
    assert path.read_bytes() == saved
    assert {p.name for p in tmp_path.iterdir()} == {"ckpt.safetensors"}


def test_divergence_in_the_seeds_form_names_the_iteration():
    rng = np.random.RandomState(3)
    X = rng.randn(40, 3)
    y = X @ [1.0, 2.0, 3.0]
    net = Network([3, 8, 1], "relu", "identity", seed=0)
    with pytest.raises(deepmat.TrainingDiverged, match=r"at iteration \d+") as info:
        net.fit(X, y, learning_rate=1e3, iterations=200, print_every=0)
    assert "smaller learning rate" in str(info.value)
    assert all(np.isfinite(v).all() for v in net.params.values())


# -- argument errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"epochs": 2, "iterations": 3}, "not both"),
        ({"epochs": 2, "batch_size": 0}, "batch_size must be a positive integer"),
        ({"epochs": 2, "batch_size": -4}, "batch_size must be a positive integer"),
        ({"epochs": 2, "validation_split": 1.5}, "validation_split must be a number in"),
        ({"epochs": 2, "validation_split": 0.0}, "validation_split must be a number in"),
        ({"epochs": 2, "optimizer": "adagrad"}, "unknown optimizer 'adagrad'"),
        ({"epochs": 2, "verbose": 3}, "verbose must be 0, 1 or 2"),
        ({"epochs": 0}, "epochs must be a positive integer"),
        ({"iterations": 0}, "iterations must be a positive integer"),
        ({"epochs": 2, "learning_rate": -0.1}, "learning_rate"),
        ({"epochs": 2, "checkpoint_every": 0}, "checkpoint_every"),
        ({"iterations": 2, "batch_size": 4}, "mini-batch form"),
        ({"epochs": 2, "validation_split": 0.2, "validation_data": ([[0.0] * 4], [1])}, "not both"),
    ],
)
def test_fit_argument_errors(kwargs, match):
    X, y = binary_data(m=20)
    net = Network([4, 3, 1], seed=0)
    params = {k: v.copy() for k, v in net.params.items()}
    with pytest.raises(ValueError, match=match):
        net.fit(X, y, **{"verbose": 0, **kwargs})
    for name, value in params.items():  # nothing was trained
        np.testing.assert_array_equal(net.params[name], value)


def test_unknown_optimizer_lists_the_valid_names():
    X, y = binary_data(m=20)
    with pytest.raises(ValueError) as info:
        Network([4, 3, 1]).fit(X, y, epochs=1, optimizer="adagrad", verbose=0)
    for name in OPTIMIZERS:
        assert repr(name) in str(info.value)


def test_optimizer_names_all_train():
    X, y = binary_data(m=20)
    start = Network([4, 3, 1], seed=0).cost(X, y)
    for name in OPTIMIZERS:
        net = Network([4, 3, 1], seed=0)
        history = net.fit(X, y, epochs=5, batch_size=5, optimizer=name, learning_rate=0.01, verbose=0)
        assert history[-1] < start, name
        assert math.isfinite(history[-1])
