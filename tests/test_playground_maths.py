"""The playground's computations, without the server: the data sets, the settings' bounds, the
training (equal to fit's), the step-through (equal to the network's own gradients, every
shape as explain writes it), the health view and the exports (a model deepmat.load reads, a
snippet that reproduces the run)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import deepmat
from deepmat.playground import export, stepthrough, views
from deepmat.playground.datasets import DATASETS, FEATURES, make_dataset
from deepmat.playground.session import Session
from deepmat.playground.settings import LIMITS, Settings, network_arguments, parse_settings

# -- data sets ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", DATASETS)
def test_each_data_set_has_both_labels_is_seeded_and_splits_as_asked(name):
    data = make_dataset(name, samples=200, noise=0.2, train_share=0.7, features=tuple(FEATURES), seed=3)
    again = make_dataset(name, samples=200, noise=0.2, train_share=0.7, features=tuple(FEATURES), seed=3)
    assert np.array_equal(data.X_train, again.X_train) and np.array_equal(data.y_test, again.y_test)
    assert data.X_train.shape == (140, len(FEATURES)) and data.X_test.shape == (60, len(FEATURES))
    assert set(data.y_train) == {0, 1} and set(data.y_test) == {0, 1}
    assert np.abs(data.points_train).max() < 5
    x1, x2 = data.points_train.T
    assert np.allclose(data.X_train[:, list(FEATURES).index("x1x2")], x1 * x2)
    assert np.allclose(data.X_train[:, list(FEATURES).index("sinx2")], np.sin(x2))


# -- settings: every bound, every type --------------------------------------------------

BAD_SETTINGS = [
    ({"hidden": [8] * 7}, "hidden layers must be a list of 1 to 6 unit counts; received 7 of them"),
    ({"hidden": []}, "hidden layers must be a list of 1 to 6 unit counts; received 0 of them"),
    ({"hidden": [65]}, "units per hidden layer must be an integer in [1, 64]; received 65"),
    ({"hidden": [4.5]}, "units per hidden layer must be an integer in [1, 64]; received 4.5 (float)"),
    ({"hidden": "4,4"}, "hidden layers must be a list of unit counts, e.g. [4, 4]; received '4,4'"),
    ({"samples": 10**9}, "samples must be an integer in [20, 2000]; received 1000000000"),
    ({"samples": 5}, "samples must be an integer in [20, 2000]; received 5"),
    ({"learning_rate": 0}, "learning rate must be a number in [1e-06, 10]; received 0"),
    ({"learning_rate": 1e9}, "learning rate must be a number in [1e-06, 10]; received 1000000000.0"),
    ({"learning_rate": None}, "learning rate must be a number in [1e-06, 10]; received None (NoneType)"),
    ({"learning_rate": "fast"}, "learning rate must be a number in [1e-06, 10]; received 'fast' (str)"),
    ({"batch_size": 0}, "batch size must be an integer in [1, 2000]; received 0"),
    ({"l2": -1}, "L2 penalty λ must be a number in [0, 1]; received -1"),
    ({"dropout": 1}, "dropout rate must be a number in [0, 0.9]; received 1"),
    ({"noise": True}, "noise must be a number in [0, 1]; received True (bool)"),
    ({"train_share": 1}, "training share must be a number in [0.1, 0.9]; received 1"),
    ({"seed": -1}, "seed must be an integer in [0, 4294967295]; received -1"),
    ({"dataset": "mnist"}, "unknown data set 'mnist'; expected one of: 'circles', 'gaussians', 'moons', 'spiral', 'xor'"),
    ({"features": []}, "features must be a list of distinct feature names, at least one; received []"),
    ({"features": ["x1", "x1"]}, "features must be a list of distinct feature names, at least one; received ['x1', 'x1']"),
    ({"features": ["x3"]}, "unknown feature 'x3'; expected one of:"),
    ({"activation": "softmax"}, "unknown hidden activation 'softmax'; expected one of:"),
    ({"output": "identity"}, "unknown output activation 'identity'; expected one of: 'sigmoid', 'softmax'"),
    ({"optimizer": "lbfgs"}, "unknown optimizer 'lbfgs'; expected one of:"),
    ({"init": "ones"}, "unknown initialiser 'ones'; expected one of:"),
    ({"loss": "cross_entropy"}, "a sigmoid output trains with the loss 'binary_cross_entropy' or 'mse'; received 'cross_entropy'"),
    ({"epochs": 3}, "unknown setting 'epochs'; expected one of:"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "message"), BAD_SETTINGS, ids=[str(b) for b, _ in BAD_SETTINGS])
def test_bad_settings_are_refused_saying_what_was_expected_and_received(body, message):
    with pytest.raises(ValueError) as error:
        parse_settings(body)
    assert str(error.value).startswith(message)


def test_docs_bad_input_lists_every_refused_setting():
    section = (Path(__file__).resolve().parents[1] / "docs" / "BAD_INPUT.md").read_text()
    section = section[section.index("## The playground") :]
    missing = [
        body
        for body, message in BAD_SETTINGS
        if f"| `{json.dumps(body, ensure_ascii=False)}` | {message}" not in section
    ]
    assert not missing, f"docs/BAD_INPUT.md's playground section does not list {missing}"


def test_the_largest_settings_stay_small():
    """The bounds themselves: the largest network and data set train a slice in well under a second."""
    largest = parse_settings(
        {"samples": LIMITS["samples"][1], "hidden": [64] * 6, "features": list(FEATURES), "batch_size": 2000}
    )
    session = Session(largest)
    assert session.net.layer_dims == [7, 64, 64, 64, 64, 64, 64, 1]
    assert session.train(2000, seconds=0.25) >= 1
    assert sum(a.size for a in session.net.params.values()) < 25_000


# -- training is fit's ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"dataset": "xor"},
        {"dataset": "moons", "dropout": 0.2, "optimizer": "momentum", "output": "softmax", "l2": 0.01},
    ],
)
def test_whole_epochs_in_the_playground_are_fit_bit_for_bit(body):
    settings = parse_settings({**body, "samples": 100, "batch_size": 7})
    session = Session(settings)
    while session.iteration < 3 * session.batches_per_epoch:
        session.train(min(5, 3 * session.batches_per_epoch - session.iteration))
    net = deepmat.Network(**network_arguments(settings))
    net.fit(session.data.X_train, session.data.y_train, epochs=3, batch_size=7,
            optimizer=settings.optimizer, learning_rate=settings.learning_rate, verbose=0)  # fmt: skip
    for name, value in net.params.items():
        assert np.array_equal(value, session.net.params[name]), name


def test_a_diverging_run_stops_with_its_reason_and_restores_the_slices_start():
    session = Session(parse_settings({"activation": "relu", "hidden": [8, 8]}))
    session.train(7)
    for value in session.net.params.values():  # parameters so large that the cost overflows
        value[...] = 1e200
    assert session.train(5) == 0
    assert "the cost became nan" in session.diverged and "try a smaller learning rate" in session.diverged
    assert session.iteration == 7 and all((p == 1e200).all() for p in session.net.params.values())
    assert session.train(10) == 0


def test_all_zero_weights_warn_about_symmetry():
    assert any(
        "symmetry" in w or "identical" in w for w in Session(parse_settings({"init": "zeros"})).warnings
    )


# -- the step-through ---------------------------------------------------------------------

NETWORKS = [
    {},
    {"hidden": [5, 3, 2], "activation": "relu", "output": "softmax", "l2": 0.05},
    {"hidden": [3], "loss": "mse", "activation": "sigmoid", "features": ["x1", "x2", "x1x2"]},
    {"hidden": [4, 4], "output": "softmax", "loss": "mse", "dropout": 0.3},
]


def expected_shape(name: str, dims: list[int], m: int) -> list[int]:
    """The seeds' shape of a matrix of the step-through (SPEC §1), from n and m alone."""
    base, transposed = name.rstrip("ᵀ"), name.endswith("ᵀ")
    letter, l = re.fullmatch(r"(d?[A-Za-z])(?:\[(\d+)\])?", base).groups()
    if letter == "Y":
        shape = [dims[-1], m]
    else:
        l = int(l)
        shape = {"W": [dims[l], dims[l - 1]], "b": [dims[l], 1]}.get(letter.lstrip("d"), [dims[l], m])
    return shape[::-1] if transposed else shape


@pytest.mark.parametrize("body", NETWORKS, ids=[str(b) for b in NETWORKS])
def test_every_matrix_of_the_step_through_has_the_seeds_shape(body):
    session = Session(parse_settings(body))
    session.train(30)
    result = stepthrough.step_through(session.net, session.X, session.data.y_train, session.batch_size)
    dims, m = result["layer_dims"], result["m"]
    assert m == session.batch_size == 10 and dims == session.net.layer_dims
    L = len(dims) - 1
    assert [(s["phase"], s["l"]) for s in result["steps"] if s["equation"].startswith(("Z[", "dZ["))] == [
        *(("forward", l) for l in range(1, L + 1)),
        *(("backward", l) for l in range(L, 0, -1)),
    ]
    for step in result["steps"]:
        assert step["matrices"], step["equation"]
        for matrix in step["matrices"]:
            assert matrix["shape"] == expected_shape(matrix["name"], dims, m), (
                step["equation"],
                matrix["name"],
            )
            array = np.array(result["arrays"][matrix["array"]]["values"])
            assert list((array.T if matrix["transposed"] else array).shape) == matrix["shape"]
            assert matrix["written"] in (None, matrix["shape"])


@pytest.mark.parametrize("body", NETWORKS[:3], ids=[str(b) for b in NETWORKS[:3]])
def test_the_step_through_gradients_are_the_networks(body):
    session = Session(parse_settings(body))
    session.train(30)
    result = stepthrough.step_through(session.net, session.X, session.data.y_train)
    last = {}
    for step in result["steps"]:
        for matrix in step["matrices"]:
            if matrix["side"] == "left":
                last[matrix["name"]] = np.array(result["arrays"][matrix["array"]]["values"])
    m = result["m"]
    grads = session.net.gradients(session.X[:m], session.data.y_train[:m])
    for l in range(1, session.net.L + 1):
        np.testing.assert_allclose(last[f"dW[{l}]"], grads[f"dW{l}"], rtol=1e-5, atol=1e-9)
        np.testing.assert_allclose(last[f"db[{l}]"], grads[f"db{l}"], rtol=1e-5, atol=1e-9)
    A_last = last[f"A[{session.net.L}]"]
    np.testing.assert_allclose(A_last, session.net.forward(session.X[:m]).T, rtol=1e-5)


def test_the_step_through_moves_no_random_stream_of_the_session():
    session = Session(parse_settings({"dropout": 0.5}))
    before = session.net.noise_rng.bit_generator.state
    stepthrough.step_through(session.net, session.X, session.data.y_train)
    assert session.net.noise_rng.bit_generator.state == before


# -- health and exports -------------------------------------------------------------------


def test_health_reports_every_layer_and_dead_relu_units():
    session = Session(parse_settings({"activation": "relu", "hidden": [6, 3]}))
    for name in ("W1", "b1"):  # every unit of layer 1 dead: Z[1] < 0 for every point
        session.net.params[name][...] = -1.0 if name == "b1" else 0.0
    report = views.health(session.net, session.X, session.data.y_train, session.settings.features)
    layers = report["layers"]
    assert [x["l"] for x in layers] == [1, 2, 3] and layers[0]["dead_share"] == 1.0
    assert layers[0]["grad_W_norm"] == 0.0
    assert len(layers[0]["unit_maps"]["maps"]) == 6 and "unit_maps" not in layers[2]
    assert sum(layers[1]["histogram"]["counts"]) == 6 * 3


def test_the_exported_model_loads_and_predicts_as_the_session(tmp_path):
    session = Session(parse_settings({"dataset": "moons", "output": "softmax"}))
    session.train(50)
    path = tmp_path / "model.safetensors"
    path.write_bytes(export.model_bytes(session.net))
    loaded = deepmat.load(path)
    assert np.array_equal(
        loaded.predict_proba(session.data.X_test), session.net.predict_proba(session.data.X_test)
    )


def test_the_snippet_reproduces_the_run(tmp_path):
    settings = parse_settings(
        {"dataset": "spiral", "hidden": [8, 8], "features": ["x1", "x2", "sinx1", "sinx2"]}
    )
    session = Session(settings)
    session.train(2 * session.batches_per_epoch + 3)  # 3 batches past two epochs
    code = export.snippet(settings, session.iteration, session.batches_per_epoch)
    assert "epochs=2," in code and "3 batches more" in code
    session_two_epochs = Session(settings)
    session_two_epochs.train(2 * session.batches_per_epoch)
    (tmp_path / "run.py").write_text(code)
    result = subprocess.run(
        [sys.executable, "run.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=True
    )
    assert "test accuracy:" in result.stdout
    saved = deepmat.load(tmp_path / "playground.safetensors")
    for name, value in saved.params.items():
        assert np.array_equal(value, session_two_epochs.net.params[name]), name


def test_settings_round_trip_through_json():
    settings = parse_settings({"hidden": [3, 2], "features": ["x1", "x1x2"]})
    assert parse_settings(settings.to_json()) == settings
    assert parse_settings({}) == Settings()
