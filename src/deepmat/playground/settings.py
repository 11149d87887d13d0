"""Every setting of the playground page: its default, its bounds or choices, and the check a
request's value goes through — with the messages of :func:`deepmat._checks.check_number` and
the registries' lists, as the command line's — so that no request can ask for a network, a
data set or a step that would take the server's memory or CPU for long.

The choices are read from deepmat's registries when they are checked (hidden activations,
initialisers, optimisers; the data sets and features of :mod:`deepmat.playground.datasets`),
and :func:`network_arguments`, :func:`dataset_arguments` and :func:`training_arguments` are the
one translation of the settings into deepmat's calls, used by the session and by the Python
snippet alike.

>>> settings = parse_settings({"dataset": "xor", "hidden": [8, 8]})
>>> settings.hidden, settings.activation
((8, 8), 'tanh')
>>> parse_settings({"hidden": [8] * 7})
Traceback (most recent call last):
ValueError: hidden layers must be a list of 1 to 6 unit counts; received 7 of them
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from deepmat._checks import check_number, unknown_name
from deepmat.activations import hidden_activations
from deepmat.initializers import INITIALIZERS
from deepmat.losses import DEFAULT_LOSS, PROBABILITY_OUTPUTS
from deepmat.optimizers import OPTIMIZERS
from deepmat.playground.datasets import DATASETS, FEATURES

#: the bounds of the numeric settings: (low, high) for :func:`check_number`, both closed
LIMITS: dict[str, tuple[float, float]] = {
    "noise": (0.0, 1.0),
    "samples": (20, 2000),
    "train_share": (0.1, 0.9),
    "hidden_layers": (1, 6),
    "units": (1, 64),
    "learning_rate": (1e-6, 10.0),
    "batch_size": (1, 2000),
    "l2": (0.0, 1.0),
    "dropout": (0.0, 0.9),
    "seed": (0, 2**32 - 1),
}
#: the loss that is not the output's canonical one, offered beside it
MSE = "mse"


@dataclass(frozen=True)
class Settings:
    """One session's data set, network and training settings (the page's form)."""

    dataset: str = "circles"
    noise: float = 0.1
    samples: int = 400
    train_share: float = 0.5
    features: tuple[str, ...] = ("x1", "x2")
    hidden: tuple[int, ...] = (4, 4)
    activation: str = "tanh"
    output: str = "sigmoid"
    loss: str = "binary_cross_entropy"
    init: str = "xavier"
    optimizer: str = "adam"
    learning_rate: float = 0.03
    batch_size: int = 10
    l2: float = 0.0
    dropout: float = 0.0
    seed: int = 0

    def to_json(self) -> dict[str, Any]:
        """The settings as the page sends them (tuples as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}


def losses_for(output: str) -> tuple[str, ...]:
    """The losses an output activation may train with: its canonical one and the squared error."""
    return (DEFAULT_LOSS[output], MSE)


def _choice(kind: str, valid: Any) -> Any:
    def check(value: Any) -> str:
        if not isinstance(value, str) or value not in valid:
            raise unknown_name(kind, value, valid)
        return value

    return check


def _number(name: str, words: str, integer: bool = False) -> Any:
    low, high = LIMITS[name]
    return lambda value: check_number(value, words, low, high, integer=integer)


def _features(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or len(set(map(str, value))) != len(value):
        raise ValueError(
            f"features must be a list of distinct feature names, at least one; received {value!r}"
        )
    return tuple(_choice("feature", FEATURES)(name) for name in value)


def _hidden(value: Any) -> tuple[int, ...]:
    low, high = LIMITS["hidden_layers"]
    if not isinstance(value, list):
        raise ValueError(f"hidden layers must be a list of unit counts, e.g. [4, 4]; received {value!r}")
    if not low <= len(value) <= high:
        raise ValueError(
            f"hidden layers must be a list of {low} to {high} unit counts; received {len(value)} of them"
        )
    check = _number("units", "units per hidden layer", integer=True)
    return tuple(check(units) for units in value)


#: each setting's check, in the order the page shows them; each returns the checked value
CHECKS: dict[str, Any] = {
    "dataset": lambda v: _choice("data set", DATASETS)(v),
    "noise": _number("noise", "noise"),
    "samples": _number("samples", "samples", integer=True),
    "train_share": _number("train_share", "training share"),
    "features": _features,
    "hidden": _hidden,
    "activation": lambda v: _choice("hidden activation", hidden_activations())(v),
    "output": _choice("output activation", PROBABILITY_OUTPUTS),
    "loss": lambda v: _choice("loss", (*DEFAULT_LOSS.values(), MSE))(v),
    "init": lambda v: _choice("initialiser", INITIALIZERS)(v),
    "optimizer": lambda v: _choice("optimizer", OPTIMIZERS)(v),
    "learning_rate": _number("learning_rate", "learning rate"),
    "batch_size": _number("batch_size", "batch size", integer=True),
    "l2": _number("l2", "L2 penalty λ"),
    "dropout": _number("dropout", "dropout rate"),
    "seed": _number("seed", "seed", integer=True),
}


def parse_settings(body: Any) -> Settings:
    """The :class:`Settings` of a request's JSON object: each given key checked, the others at
    their defaults (the loss: the output activation's canonical one). Raises ``ValueError`` (or its subclass ``NumberTypeError``) naming the
    setting, what it accepts and what it received: for an unknown key, a value out of bounds
    or of the wrong type, a loss the output activation cannot train with."""
    if not isinstance(body, dict):
        raise ValueError(f"the settings must be a JSON object; received {type(body).__name__}")
    unknown = sorted(set(body) - set(CHECKS))
    if unknown:
        raise unknown_name("setting", unknown[0], CHECKS)
    values = {name: CHECKS[name](value) for name, value in body.items()}
    if "loss" not in values:  # the output's own loss
        values["loss"] = DEFAULT_LOSS[values.get("output", Settings.output)]
    settings = Settings(**values)
    if settings.loss not in losses_for(settings.output):
        raise ValueError(
            f"a {settings.output} output trains with the loss {' or '.join(map(repr, losses_for(settings.output)))}; "
            f"received {settings.loss!r}"
        )
    return settings


def options() -> dict[str, Any]:
    """What the page builds its form from: the choices, the bounds and the defaults."""
    return {
        "choices": {
            "dataset": list(DATASETS),
            "features": list(FEATURES),
            "activation": list(hidden_activations()),
            "output": list(PROBABILITY_OUTPUTS),
            "loss": {output: list(losses_for(output)) for output in PROBABILITY_OUTPUTS},
            "init": list(INITIALIZERS),
            "optimizer": list(OPTIMIZERS),
        },
        "limits": {name: list(bounds) for name, bounds in LIMITS.items()},
        "defaults": Settings().to_json(),
    }


def output_units(settings: Settings) -> int:
    """n[L]: one sigmoid unit (P(label 1)) or two softmax units (one per label)."""
    return 1 if settings.output == "sigmoid" else 2


def network_arguments(settings: Settings) -> dict[str, Any]:
    """The keyword arguments of :class:`deepmat.Network` for ``settings``."""
    return {
        "layer_dims": [len(settings.features), *settings.hidden, output_units(settings)],
        "hidden_activation": settings.activation,
        "output_activation": settings.output,
        "loss": settings.loss,
        "init": settings.init,
        "seed": settings.seed,
        "l2": settings.l2,
        "dropout": settings.dropout,
    }


def dataset_arguments(settings: Settings) -> dict[str, Any]:
    """The keyword arguments of :func:`deepmat.playground.datasets.make_dataset`."""
    return {
        "name": settings.dataset,
        "samples": settings.samples,
        "noise": settings.noise,
        "train_share": settings.train_share,
        "features": settings.features,
        "seed": settings.seed,
    }


def training_arguments(settings: Settings) -> dict[str, Any]:
    """The keyword arguments of :meth:`deepmat.Network.fit` that the page sets (one epoch is
    a pass over the shuffled training points, one iteration one batch)."""
    return {
        "batch_size": settings.batch_size,
        "optimizer": settings.optimizer,
        "learning_rate": settings.learning_rate,
    }
