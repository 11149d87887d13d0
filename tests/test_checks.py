"""One number check for every constructor: Python and NumPy scalars alike, bools, NaN and
out-of-range values refused with one message form (``deepmat._checks.check_number``)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from deepmat import Dense, Network
from deepmat._checks import NumberTypeError, check_number
from deepmat.callbacks import EarlyStopping
from deepmat.layers import BatchNorm, Dropout
from deepmat.optimizers import SGD, Adam, AdamW, Momentum, Nesterov, RMSprop
from deepmat.schedules import CosineDecay, ExponentialDecay, ReduceLROnPlateau, StepDecay

REAL, INTEGER = "real", "integer"


def arg(cls: Callable[..., Any], name: str, **fixed: Any) -> Callable[[Any], Any]:
    """Builds ``cls(name=value, **fixed)``."""
    return lambda value: cls(**{name: value}, **fixed)


# (what, build(value), the name the message uses, kind, a valid value, values out of range)
CASES: list[tuple[str, Callable[[Any], Any], str, str, float, list[float]]] = [
    ("Dense.units", arg(Dense, "units"), "units", INTEGER, 3, [0, -2]),
    ("Dense.l2", arg(Dense, "l2", units=3), "l2", REAL, 0.5, [-0.25, math.inf]),
    ("Dropout.rate", arg(Dropout, "rate"), "dropout rate", REAL, 0.25, [-0.25, 1.0, 1.5]),
    ("BatchNorm.momentum", arg(BatchNorm, "momentum"), "BatchNorm momentum", REAL, 0.25, [0.0, 1.5]),
    ("BatchNorm.eps", arg(BatchNorm, "eps"), "eps", REAL, 0.5, [0.0, -1.0, math.inf]),
    *[
        (
            f"{cls.__name__}.learning_rate",
            arg(cls, "learning_rate"),
            "learning_rate",
            REAL,
            0.5,
            [0.0, -1.0, math.inf],
        )
        for cls in (SGD, Momentum, Nesterov, RMSprop, Adam, AdamW)
    ],
    ("SGD.momentum", arg(SGD, "momentum"), "momentum", REAL, 0.5, [-0.5, 1.0]),
    ("Momentum.momentum", arg(Momentum, "momentum"), "momentum", REAL, 0.5, [-0.5, 1.0]),
    ("RMSprop.rho", arg(RMSprop, "rho"), "rho", REAL, 0.5, [-0.5, 1.0]),
    ("RMSprop.eps", arg(RMSprop, "eps"), "eps", REAL, 0.5, [0.0, -1.0]),
    ("Adam.beta1", arg(Adam, "beta1"), "beta1", REAL, 0.5, [-0.5, 1.0]),
    ("Adam.beta2", arg(Adam, "beta2"), "beta2", REAL, 0.5, [-0.5, 1.0]),
    ("Adam.eps", arg(Adam, "eps"), "eps", REAL, 0.5, [0.0, -1.0]),
    ("AdamW.weight_decay", arg(AdamW, "weight_decay"), "weight_decay", REAL, 0.5, [-0.5, math.inf]),
    ("StepDecay.step_size", arg(StepDecay, "step_size"), "step_size", INTEGER, 3, [0, -1]),
    ("StepDecay.gamma", arg(StepDecay, "gamma", step_size=2), "gamma", REAL, 0.5, [0.0, 1.5]),
    ("ExponentialDecay.gamma", arg(ExponentialDecay, "gamma"), "gamma", REAL, 0.5, [0.0, 1.5]),
    ("CosineDecay.T_max", arg(CosineDecay, "T_max"), "T_max", INTEGER, 3, [0, -1]),
    ("CosineDecay.min_lr", arg(CosineDecay, "min_lr", T_max=3), "min_lr", REAL, 0.5, [-0.5, math.inf]),
    ("ReduceLROnPlateau.factor", arg(ReduceLROnPlateau, "factor"), "factor", REAL, 0.5, [0.0, 1.0]),
    ("ReduceLROnPlateau.patience", arg(ReduceLROnPlateau, "patience"), "patience", INTEGER, 3, [-1]),
    ("ReduceLROnPlateau.min_lr", arg(ReduceLROnPlateau, "min_lr"), "min_lr", REAL, 0.5, [-0.5]),
    ("ReduceLROnPlateau.min_delta", arg(ReduceLROnPlateau, "min_delta"), "min_delta", REAL, 0.5, [-0.5]),
    ("EarlyStopping.patience", arg(EarlyStopping, "patience"), "patience", INTEGER, 3, [-1]),
    ("EarlyStopping.min_delta", arg(EarlyStopping, "min_delta"), "min_delta", REAL, 0.5, [-0.5]),
    ("Network.l2", arg(Network, "l2", layer_dims=[3, 2, 1]), "l2", REAL, 0.5, [-0.5, math.inf]),
    (
        "Network.dropout",
        arg(Network, "dropout", layer_dims=[3, 2, 1]),
        "dropout rate",
        REAL,
        0.25,
        [1.0, -0.5],
    ),
    (
        "Network.input_dim",
        arg(Network, "input_dim", layers=[Dense(1, "sigmoid")]),
        "input_dim",
        INTEGER,
        3,
        [0, -3],
    ),
]
IDS = [case[0] for case in CASES]


def message(name: str, value: Any) -> str:
    """The one form: "{name} must be {what}; received {value!r}"."""
    return rf"^{re.escape(name)} must be an? [^;]+; received {re.escape(repr(value))}( \(\w+\))?$"


@pytest.mark.parametrize(("what", "build", "name", "kind", "valid", "out_of_range"), CASES, ids=IDS)
def test_python_and_numpy_scalars_are_accepted_alike(what, build, name, kind, valid, out_of_range):
    scalars = (
        [valid, np.int64(valid), np.int32(valid)]
        if kind == INTEGER
        else [
            valid,
            np.float64(valid),
            np.float32(valid),  # the valid values are exact in float32: the same number
        ]
    )
    built = [build(value) for value in scalars]
    assert len(built) == len(scalars)
    if kind == REAL and float(valid).is_integer():
        build(int(valid))  # a Python int where a real is expected


@pytest.mark.parametrize(("what", "build", "name", "kind", "valid", "out_of_range"), CASES, ids=IDS)
def test_bools_are_refused_as_not_numbers(what, build, name, kind, valid, out_of_range):
    for value in (True, np.bool_(False)):
        with pytest.raises(TypeError, match=message(name, value)) as info:
            build(value)
        assert isinstance(info.value, ValueError)  # NumberTypeError: both


@pytest.mark.parametrize(("what", "build", "name", "kind", "valid", "out_of_range"), CASES, ids=IDS)
def test_nan_and_non_numbers_are_refused(what, build, name, kind, valid, out_of_range):
    means_default = what in ("Dense.l2", "Network.input_dim")  # None: the network's / required
    for value in (math.nan, np.float32("nan"), "0.5") + ((None,) if not means_default else ()):
        with pytest.raises(ValueError, match=message(name, value)):
            build(value)


@pytest.mark.parametrize(("what", "build", "name", "kind", "valid", "out_of_range"), CASES, ids=IDS)
def test_out_of_range_values_are_refused(what, build, name, kind, valid, out_of_range):
    for value in out_of_range:
        typed = np.int64(value) if kind == INTEGER else np.float32(value)
        for candidate in (value, typed):
            with pytest.raises(ValueError, match=message(name, candidate)):
                build(candidate)


def test_the_words_say_the_interval():
    cases = [
        ((2.0, "rate", 0, 1), {"high_open": True}, "rate must be a number in [0, 1); received 2.0"),
        ((-1, "n", 1), {"integer": True}, "n must be a positive integer; received -1"),
        ((-1, "k", 0), {"integer": True}, "k must be an integer ≥ 0; received -1"),
        ((0.0, "lr", 0), {"low_open": True}, "lr must be a positive finite number; received 0.0"),
        ((-1.0, "l2", 0), {}, "l2 must be a finite number ≥ 0; received -1.0"),
        ((0.0, "gamma", 0, 1), {"low_open": True}, "gamma must be a number in (0, 1]; received 0.0"),
    ]
    for args, options, expected in cases:
        with pytest.raises(ValueError) as info:
            check_number(*args, **options)
        assert str(info.value) == expected
    with pytest.raises(NumberTypeError, match=r"^lr must be a positive number; received '1' \(str\)$"):
        check_number("1", "lr", 0, low_open=True)


def test_the_value_comes_back_as_a_python_number():
    assert type(check_number(np.float32(0.5), "x", 0, 1)) is float
    assert type(check_number(np.int64(3), "n", 1, integer=True)) is int
    assert check_number(np.float32(0.25), "x") == 0.25
