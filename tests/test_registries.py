"""Every list of names is defined once, in its registry, and read by the CLI, ``explain`` and
the library: a name registered in one place reaches all of them without touching ``cli/``."""

from __future__ import annotations

import json

import numpy as np
import pytest

import deepmat
from deepmat import cli, gradcheck
from deepmat._checks import FLOAT_DTYPES
from deepmat.activations import ACTIVATIONS, hidden_activations, register_activation
from deepmat.data import DATASETS
from deepmat.explain import explain
from deepmat.initializers import INITIALIZERS
from deepmat.optimizers import OPTIMIZERS, SEEDS_LEARNING_RATE, default_learning_rate
from deepmat.schedules import SCHEDULES


def softplus(Z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """log(1 + e^z), stable for large |z|."""
    return np.add(np.log1p(np.exp(-np.abs(Z))), np.maximum(Z, 0), out=out)


def softplus_backward(
    dA: np.ndarray, Z: np.ndarray, A: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """dZ = dA ⊙ σ(z)."""
    return np.multiply(dA, 0.5 * (1 + np.tanh(0.5 * Z)), out=out)


@pytest.fixture
def registered_softplus():
    register_activation("softplus", softplus, softplus_backward)
    yield "softplus"
    del ACTIVATIONS["softplus"]


def help_text(capsys, *args: str) -> str:
    assert cli.main([*args, "--help"]) == 0
    return capsys.readouterr().out


def test_a_registered_activation_reaches_the_cli_help(registered_softplus, capsys):
    assert "softplus" in hidden_activations()
    assert "softplus" in help_text(capsys, "train")
    assert "softplus" in help_text(capsys, "explain")


def test_a_registered_activation_reaches_explain(registered_softplus, capsys):
    text = explain([4, 3, 1], m=5, hidden_activation="softplus")
    assert "A[1] (3×5) = softplus(Z[1])" in text
    assert "dZ[1] (3×5) = dA[1] ⊙ softplus'(Z[1])" in text
    assert cli.main(["explain", "--layers", "4,3,1", "--activation", "softplus", "--batch", "5"]) == 0
    assert "A[1] (3×5) = softplus(Z[1])" in capsys.readouterr().out


def test_a_registered_activation_trains_from_a_toml_file(registered_softplus, tmp_path, capsys):
    run = tmp_path / "run"
    config = tmp_path / "softplus.toml"
    config.write_text(
        '[data]\nname = "digits"\n[model]\nlayers = [64, 16, 10]\nactivation = "softplus"\n'
        f'[train]\nepochs = 20\nlearning_rate = 0.01\nverbose = 0\n[output]\ndir = "{run}"\n'
    )
    assert cli.main(["train", str(config)]) == 0
    assert json.loads((run / "config.json").read_text())["model"]["activation"] == "softplus"
    net = deepmat.load(run / "model.safetensors")
    assert net.layers[0].activation == "softplus"
    assert json.loads((run / "metrics.json").read_text())["test_accuracy"] > 0.5
    X = np.random.default_rng(0).random((6, 64))
    assert gradcheck(net.copy(dtype="float64"), X, np.arange(6)).passed


def test_registering_refuses_bad_names():
    with pytest.raises(ValueError, match="exists already"):
        register_activation("relu", softplus, softplus_backward)
    with pytest.raises(ValueError, match="identifier"):
        register_activation("soft plus", softplus, softplus_backward)
    assert "soft plus" not in ACTIVATIONS


@pytest.mark.parametrize(
    ("command", "names"),
    [
        ("train", lambda: OPTIMIZERS),
        ("train", lambda: INITIALIZERS),
        ("train", lambda: SCHEDULES),
        ("train", lambda: FLOAT_DTYPES),
        ("train", lambda: DATASETS),
        ("train", hidden_activations),
        ("evaluate", lambda: DATASETS),
    ],
)
def test_every_registered_name_is_in_the_help(command, names, capsys):
    text = help_text(capsys, command).replace("\n", " ")
    for name in names():
        assert name in text, name


def test_the_seeds_learning_rate_is_written_once(tmp_path):
    assert default_learning_rate("sgd") == SEEDS_LEARNING_RATE == 0.0075
    assert default_learning_rate("adam") == OPTIMIZERS["adam"]().learning_rate
    parser = cli.build_parser()
    config = cli.settle(cli.gather_config(parser.parse_args(["train", "--iterations", "3"])))
    assert config.values["train"]["learning_rate"] == SEEDS_LEARNING_RATE
