"""Optimisers (:mod:`deepmat.optimizers`): parity with ``torch.optim``, in-place updates,
lookup by name, hyperparameter checks, and the checkpoint round trip.

The parity tests feed the same 10 random gradients to a deepmat optimiser and to its
``torch.optim`` counterpart, in float64, and require the parameters to agree after every
step to a relative 1e-10 (the two differ only in the order of floating-point operations).
"""

from __future__ import annotations

import copy
import inspect
import json
import math

import numpy as np
import pytest
import torch

from deepmat.optimizers import (
    OPTIMIZERS,
    SGD,
    Adam,
    AdamW,
    Momentum,
    Nesterov,
    Optimizer,
    RMSprop,
    get_optimizer,
    optimizer_from_state,
)

SHAPES = {"W1": (4, 3), "b1": (4, 1), "W2": (2, 4), "b2": (2, 1)}
N_STEPS = 10


def random_params(rng: np.random.Generator, dtype=np.float64) -> dict[str, np.ndarray]:
    return {name: rng.standard_normal(shape).astype(dtype) for name, shape in SHAPES.items()}


def random_grads(rng: np.random.Generator, dtype=np.float64) -> dict[str, np.ndarray]:
    return {f"d{name}": rng.standard_normal(shape).astype(dtype) for name, shape in SHAPES.items()}


# ---------------------------------------------------------------------------------------------
# 1. Step-by-step parity with torch.optim (float64)
# ---------------------------------------------------------------------------------------------

#: (deepmat class, its kwargs, torch.optim class, its kwargs) — a non-default learning rate and
#: at least one non-default hyperparameter each.
PARITY_CASES = [
    pytest.param(SGD, {"learning_rate": 0.05}, torch.optim.SGD, {"lr": 0.05}, id="sgd"),
    pytest.param(
        Momentum,
        {"learning_rate": 0.03, "momentum": 0.9},
        torch.optim.SGD,
        {"lr": 0.03, "momentum": 0.9},
        id="momentum-0.9",
    ),
    pytest.param(
        Momentum,
        {"learning_rate": 0.07, "momentum": 0.5},
        torch.optim.SGD,
        {"lr": 0.07, "momentum": 0.5},
        id="momentum-0.5",
    ),
    pytest.param(
        Nesterov,
        {"learning_rate": 0.03, "momentum": 0.9},
        torch.optim.SGD,
        {"lr": 0.03, "momentum": 0.9, "nesterov": True},
        id="nesterov-0.9",
    ),
    pytest.param(
        SGD,
        {"learning_rate": 0.02, "momentum": 0.8, "nesterov": True},
        torch.optim.SGD,
        {"lr": 0.02, "momentum": 0.8, "nesterov": True},
        id="sgd-nesterov-0.8",
    ),
    pytest.param(
        RMSprop,
        {"learning_rate": 0.01, "rho": 0.9, "eps": 1e-6},
        torch.optim.RMSprop,
        {"lr": 0.01, "alpha": 0.9, "eps": 1e-6},
        id="rmsprop",
    ),
    pytest.param(
        Adam,
        {"learning_rate": 0.02, "beta1": 0.8, "beta2": 0.99, "eps": 1e-7},
        torch.optim.Adam,
        {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-7},
        id="adam",
    ),
    pytest.param(
        AdamW,
        {"learning_rate": 0.02, "beta1": 0.85, "beta2": 0.995, "eps": 1e-7, "weight_decay": 0.01},
        torch.optim.AdamW,
        {"lr": 0.02, "betas": (0.85, 0.995), "eps": 1e-7, "weight_decay": 0.01},
        id="adamw-0.01",
    ),
    pytest.param(
        AdamW,
        {"learning_rate": 0.005, "beta1": 0.9, "beta2": 0.98, "eps": 1e-8, "weight_decay": 0.1},
        torch.optim.AdamW,
        {"lr": 0.005, "betas": (0.9, 0.98), "eps": 1e-8, "weight_decay": 0.1},
        id="adamw-0.1",
    ),
]


@pytest.mark.parametrize(("cls", "kwargs", "torch_cls", "torch_kwargs"), PARITY_CASES)
def test_matches_torch_optim_step_by_step(cls, kwargs, torch_cls, torch_kwargs):
    rng = np.random.default_rng(1234)
    params = random_params(rng)
    initial = copy.deepcopy(params)
    grads_sequence = [random_grads(rng) for _ in range(N_STEPS)]

    torch_params = {
        name: torch.tensor(value, dtype=torch.float64, requires_grad=True) for name, value in params.items()
    }
    opt = cls(**kwargs)
    torch_opt = torch_cls(list(torch_params.values()), foreach=False, **torch_kwargs)

    for step, grads in enumerate(grads_sequence, start=1):
        opt.step(params, grads)
        for name, p in torch_params.items():
            p.grad = torch.tensor(grads[f"d{name}"], dtype=torch.float64)
        torch_opt.step()
        for name, p in torch_params.items():
            np.testing.assert_allclose(
                params[name],
                p.detach().numpy(),
                rtol=1e-10,
                atol=1e-14,
                err_msg=f"{cls.__name__}: {name} differs from torch after step {step}",
            )
            assert params[name].dtype == np.float64

    assert opt.t == N_STEPS
    # the comparison is not vacuous: every parameter moved
    for name in SHAPES:
        assert not np.allclose(params[name], initial[name]), name


# ---------------------------------------------------------------------------------------------
# 2. In-place updates, no upcast
# ---------------------------------------------------------------------------------------------

ALL_NAMES = sorted(OPTIMIZERS)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_step_updates_in_place_and_keeps_float32(name):
    rng = np.random.default_rng(7)
    params = random_params(rng, np.float32)
    ids = {k: id(v) for k, v in params.items()}
    objects = dict(params)
    opt = get_optimizer(name, learning_rate=0.05)

    for step in range(1, 4):  # several steps, so stateful rules also take their later branches
        before = copy.deepcopy(params)
        opt.step(params, random_grads(rng, np.float32))
        assert set(params) == set(SHAPES)
        for k, v in params.items():
            assert id(v) == ids[k] and v is objects[k], f"{name}: {k} was replaced, not updated in place"
            assert v.dtype == np.float32, f"{name}: {k} upcast to {v.dtype} at step {step}"
            assert v.shape == SHAPES[k]
            assert np.all(np.isfinite(v))
            assert not np.array_equal(v, before[k]), f"{name}: {k} unchanged at step {step}"

    for slot in opt.state.values():
        for k, buffer in slot.items():
            assert buffer.dtype == np.float32, f"{name}: state of {k} is {buffer.dtype}"


# ---------------------------------------------------------------------------------------------
# 3. get_optimizer
# ---------------------------------------------------------------------------------------------


def test_get_optimizer_by_name_with_learning_rate():
    opt = get_optimizer("adam", learning_rate=0.01)
    assert type(opt) is Adam
    assert opt.learning_rate == 0.01
    # the other hyperparameters keep their defaults
    assert (opt.beta1, opt.beta2, opt.eps) == (0.9, 0.999, 1e-8)


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("ADAM", Adam),
        ("Adam", Adam),
        ("AdamW", AdamW),
        ("RMSProp", RMSprop),
        ("SGD", SGD),
        ("Momentum", Momentum),
        ("NESTEROV", Nesterov),
    ],
)
def test_get_optimizer_names_are_case_insensitive(name, cls):
    opt = get_optimizer(name, learning_rate=0.2)
    assert type(opt) is cls
    assert opt.learning_rate == 0.2


@pytest.mark.parametrize("opt", [SGD(0.3), Momentum(0.1, momentum=0.5), AdamW(0.002, weight_decay=0.2)])
def test_get_optimizer_returns_an_instance_as_is(opt):
    config = opt.get_config()
    assert get_optimizer(opt) is opt
    assert get_optimizer(opt, learning_rate=0.5) is opt
    assert opt.get_config() == config


@pytest.mark.parametrize("bad", ["adagrad", "ad am", "", "sgd ", 3, None])
def test_get_optimizer_unknown_name_lists_valid_names(bad):
    with pytest.raises(ValueError) as excinfo:
        get_optimizer(bad)
    message = str(excinfo.value)
    assert repr(bad) in message
    for valid in OPTIMIZERS:
        assert repr(valid) in message, f"{valid!r} missing from: {message}"


@pytest.mark.parametrize("name", ALL_NAMES)
def test_get_optimizer_without_learning_rate_uses_class_default(name):
    cls = OPTIMIZERS[name]
    default = inspect.signature(cls).parameters["learning_rate"].default
    opt = get_optimizer(name)
    assert type(opt) is cls
    assert opt.learning_rate == default


def test_get_optimizer_sgd_default_learning_rate():
    assert get_optimizer("sgd").learning_rate == SGD().learning_rate == 0.01


# ---------------------------------------------------------------------------------------------
# 4. Hyperparameter checks on construction
# ---------------------------------------------------------------------------------------------

NAN = float("nan")
INF = float("inf")

BAD_LEARNING_RATES = [-0.1, 0, 0.0, NAN, INF, -INF, "0.1", None, True]

INVALID = [
    # (class, kwargs, hyperparameter named in the message, value received)
    *[
        (cls, {"momentum": m}, "momentum", m)
        for cls in (SGD, Momentum, Nesterov)
        for m in (-0.1, 1, 1.0, 1.5, NAN, INF)
    ],
    *[(cls, {"momentum": "0.9"}, "momentum", "0.9") for cls in (SGD, Momentum)],
    (SGD, {"momentum": None}, "momentum", None),
    *[(RMSprop, {"rho": r}, "rho", r) for r in (-0.1, 1.0, NAN, "0.9")],
    *[
        (cls, {beta: b}, beta, b)
        for cls in (Adam, AdamW)
        for beta in ("beta1", "beta2")
        for b in (-0.1, -1e-12, 1, 1.0, 1.5, NAN, INF, "0.9", None)
    ],
    *[(cls, {"eps": e}, "eps", e) for cls in (RMSprop, Adam, AdamW) for e in (0, 0.0, -1e-8, NAN, "1e-8")],
    *[(AdamW, {"weight_decay": w}, "weight_decay", w) for w in (-0.01, -1, NAN, INF, "0.01", None)],
]


def _id(case):
    cls, kwargs, _, _ = case
    return f"{cls.__name__}-" + ",".join(f"{k}={v!r}" for k, v in kwargs.items())


@pytest.mark.parametrize("cls", [OPTIMIZERS[name] for name in ALL_NAMES], ids=ALL_NAMES)
@pytest.mark.parametrize("value", BAD_LEARNING_RATES, ids=repr)
def test_invalid_learning_rate_is_rejected(cls, value):
    with pytest.raises((ValueError, TypeError)) as excinfo:
        cls(learning_rate=value)
    message = str(excinfo.value)
    assert "learning_rate" in message
    assert repr(value) in message


@pytest.mark.parametrize("value", ["0.1", None, [0.1]], ids=repr)
def test_non_numeric_learning_rate_is_a_type_error(value):
    with pytest.raises(TypeError, match="learning_rate"):
        Adam(learning_rate=value)


@pytest.mark.parametrize(("cls", "kwargs", "hyperparameter", "value"), INVALID, ids=[_id(c) for c in INVALID])
def test_invalid_hyperparameter_is_rejected(cls, kwargs, hyperparameter, value):
    with pytest.raises((ValueError, TypeError)) as excinfo:
        cls(learning_rate=0.01, **kwargs)
    message = str(excinfo.value)
    assert hyperparameter in message, message
    assert repr(value) in message, message


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: SGD(0.1, nesterov=True), id="SGD(0.1, nesterov=True)"),
        pytest.param(
            lambda: SGD(0.1, momentum=0.0, nesterov=True), id="SGD(0.1, momentum=0.0, nesterov=True)"
        ),
        pytest.param(lambda: Nesterov(0.1, momentum=0), id="Nesterov(0.1, momentum=0)"),
        pytest.param(lambda: Nesterov(0.1, momentum=0.0), id="Nesterov(0.1, momentum=0.0)"),
        pytest.param(
            lambda: Momentum(0.1, momentum=0.0, nesterov=True),
            id="Momentum(0.1, momentum=0.0, nesterov=True)",
        ),
    ],
)
def test_nesterov_without_momentum_is_rejected(make):
    with pytest.raises(ValueError) as excinfo:
        make()
    message = str(excinfo.value)
    assert "nesterov" in message.lower()
    assert "momentum=0" in message, message


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: SGD(1e-12), id="SGD(1e-12)"),
        pytest.param(lambda: SGD(3, momentum=0), id="SGD(3, momentum=0)"),
        pytest.param(lambda: Momentum(0.1, momentum=0.0), id="Momentum(0.1, momentum=0.0)"),
        pytest.param(
            lambda: Momentum(np.float64(0.1), momentum=np.float32(0.5)),
            id="Momentum(np.float64(0.1), momentum=np.float32(0.5))",
        ),
        pytest.param(
            lambda: Nesterov(np.float32(0.1), momentum=np.float64(0.999)),
            id="Nesterov(np.float32(0.1), momentum=np.float64(0.999))",
        ),
        pytest.param(
            lambda: RMSprop(0.1, rho=0.0, eps=np.float32(1e-6)),
            id="RMSprop(0.1, rho=0.0, eps=np.float32(1e-6))",
        ),
        pytest.param(lambda: Adam(0.1, beta1=0.0, beta2=0.0), id="Adam(0.1, beta1=0.0, beta2=0.0)"),
        pytest.param(
            lambda: Adam(0.1, beta1=np.float32(0.9), beta2=np.float64(0.99)),
            id="Adam(0.1, beta1=np.float32(0.9), beta2=np.float64(0.99))",
        ),
        pytest.param(lambda: AdamW(0.1, weight_decay=0), id="AdamW(0.1, weight_decay=0)"),
        pytest.param(
            lambda: AdamW(0.1, weight_decay=np.float32(0.05)), id="AdamW(0.1, weight_decay=np.float32(0.05))"
        ),
        pytest.param(lambda: AdamW(0.1, weight_decay=10.0), id="AdamW(0.1, weight_decay=10.0)"),
    ],
)
def test_boundary_and_numpy_hyperparameters_are_accepted(make):
    opt = make()
    config = opt.get_config()
    assert all(type(v) in (float, bool) for v in config.values()), config
    assert all(math.isfinite(v) for v in config.values())
    json.dumps(config)  # JSON-ready


# ---------------------------------------------------------------------------------------------
# 5. state_dict / optimizer_from_state round trip
# ---------------------------------------------------------------------------------------------

ROUND_TRIP = [
    pytest.param(lambda: SGD(0.05), id="sgd"),
    pytest.param(lambda: Momentum(0.03, momentum=0.7), id="momentum"),
    pytest.param(lambda: Nesterov(0.03, momentum=0.6), id="nesterov"),
    pytest.param(lambda: RMSprop(0.01, rho=0.8, eps=1e-6), id="rmsprop"),
    pytest.param(lambda: Adam(0.02, beta1=0.8, beta2=0.95, eps=1e-7), id="adam"),
    pytest.param(lambda: AdamW(0.02, beta1=0.85, beta2=0.97, weight_decay=0.1), id="adamw"),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("make", ROUND_TRIP)
def test_state_round_trip_continues_bit_for_bit(make, dtype):
    rng = np.random.default_rng(99)
    params = random_params(rng, dtype)
    grads = [random_grads(rng, dtype) for _ in range(6)]

    original = make()
    for g in grads[:3]:
        original.step(params, g)

    scalars, arrays = original.state_dict()
    scalars = json.loads(json.dumps(scalars))  # the scalars are JSON-ready and survive JSON
    arrays = copy.deepcopy(arrays)
    rebuilt = optimizer_from_state(scalars, arrays)

    assert type(rebuilt) is type(original)
    assert rebuilt.get_config() == original.get_config()
    assert rebuilt.t == original.t == 3
    stateless = isinstance(original, SGD) and original.momentum == 0
    expected_keys = set() if stateless else {f"{slot}.{name}" for slot in original.slots for name in SHAPES}
    assert set(arrays) == expected_keys

    params_original = copy.deepcopy(params)
    params_rebuilt = copy.deepcopy(params)
    params_fresh = copy.deepcopy(params)
    fresh = type(original)(**original.get_config())  # same hyperparameters, no state
    for g in grads[3:]:
        original.step(params_original, g)
        rebuilt.step(params_rebuilt, g)
        fresh.step(params_fresh, g)

    for name in SHAPES:
        a, b = params_original[name], params_rebuilt[name]
        assert a.dtype == b.dtype == dtype
        assert a.tobytes() == b.tobytes(), f"{name} differs after the round trip"

    # the state carried something: without it, a stateful rule takes different steps
    if not stateless:
        assert any(not np.array_equal(params_original[n], params_fresh[n]) for n in SHAPES)


@pytest.mark.parametrize("make", ROUND_TRIP)
def test_load_state_dict_into_an_existing_instance(make):
    rng = np.random.default_rng(11)
    params = random_params(rng)
    grads = [random_grads(rng) for _ in range(6)]
    original = make()
    for g in grads[:3]:
        original.step(params, g)
    scalars, arrays = original.state_dict()

    # same rule, but a learning rate a schedule has since changed and no state: load restores both
    target = type(original)(**{**original.get_config(), "learning_rate": 0.5})
    target.load_state_dict(scalars, copy.deepcopy(arrays))
    assert target.learning_rate == original.learning_rate
    assert target.t == original.t == 3

    params_original, params_target = copy.deepcopy(params), copy.deepcopy(params)
    for g in grads[3:]:
        original.step(params_original, g)
        target.step(params_target, g)
    for name in SHAPES:
        assert params_original[name].tobytes() == params_target[name].tobytes(), name


def test_rebuilt_state_is_independent_of_the_original():
    rng = np.random.default_rng(5)
    params = random_params(rng)
    opt = Adam(0.01)
    opt.step(params, random_grads(rng))
    scalars, arrays = opt.state_dict()
    rebuilt = optimizer_from_state(scalars, arrays)  # no deep copy here: load must copy
    snapshot = {k: v.copy() for k, v in rebuilt.state["m"].items()}
    opt.step(copy.deepcopy(params), random_grads(rng))
    for k, v in rebuilt.state["m"].items():
        np.testing.assert_array_equal(v, snapshot[k])


@pytest.mark.parametrize("make", ROUND_TRIP)
@pytest.mark.parametrize("bad_key", ["bogus.W1", "momentum.W1", "velocity_.b2"])
def test_load_state_dict_rejects_unknown_slot(make, bad_key):
    rng = np.random.default_rng(3)
    params = random_params(rng)
    opt = make()
    opt.step(params, random_grads(rng))
    scalars, arrays = opt.state_dict()
    arrays = {**copy.deepcopy(arrays), bad_key: np.zeros(SHAPES["W1"])}

    target = make()
    with pytest.raises(ValueError) as excinfo:
        target.load_state_dict(scalars, arrays)
    assert repr(bad_key) in str(excinfo.value)
    with pytest.raises(ValueError):
        optimizer_from_state(scalars, arrays)


def test_load_state_dict_rejects_another_optimizers_slots():
    rng = np.random.default_rng(4)
    params = random_params(rng)
    adam = Adam(0.01)
    adam.step(params, random_grads(rng))
    scalars, arrays = adam.state_dict()
    with pytest.raises(ValueError, match="RMSprop"):
        RMSprop(0.01).load_state_dict(scalars, copy.deepcopy(arrays))


def test_base_class_has_no_update_rule():
    opt = Optimizer(0.1)
    with pytest.raises(NotImplementedError):
        opt.step({"W1": np.zeros((1, 1))}, {"dW1": np.zeros((1, 1))})
