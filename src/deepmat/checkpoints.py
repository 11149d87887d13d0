"""Checkpoints: what a model file carries beyond the model so that training resumes exactly,
checked before any of it is used.

A checkpoint is a model file (:mod:`deepmat.io`) with a ``training`` state (JSON) and extra
arrays. The state holds where training stands (next epoch and batch, the epoch's running
sums), the random generators' states, the optimiser (name, hyperparameters, step count t) and
its arrays (``optimizer.{slot}.{parameter}``), the callbacks' states and arrays
(``callback{i}.*``), the history, the settings a resumed run must share (batch size,
shuffling, the number of samples, the optimiser's hyperparameters when training began) and,
in full-batch gradient descent with the Gram shortcut, its tracked product
(``input_gram.Z_linear``, and with W[1]'s steps deferred ``input_gram.W_taken`` and
``input_gram.pending``).

A checkpoint comes from disk and may have been edited or crafted: :func:`check_state` checks
every field's type and range, every array's name, shape and dtype, before anything is
restored, and raises ``ValueError`` naming the file and the field — an optimiser array of the
wrong shape is refused, never broadcast into the parameters' shape.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from deepmat.optimizers import OPTIMIZERS

#: the settings a resumed run must share with the run that wrote the checkpoint
SHARED_SETTINGS = ("unit", "samples", "batch_size", "shuffle")


class CheckpointError(ValueError):
    """A checkpoint that cannot be resumed from: malformed, or from another run."""


def _fail(path: str | os.PathLike, what: str) -> CheckpointError:
    return CheckpointError(f"the checkpoint {os.fspath(path)!r}: {what}")


def _integer(state: dict[str, Any], key: str, path: Any, low: int = 0) -> int:
    value = state.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise _fail(path, f"'{key}' must be an integer ≥ {low}; found {value!r}")
    return value


def _generator_state(value: Any, key: str, path: Any) -> dict[str, Any]:
    """A NumPy generator state that a PCG64 generator accepts (tried on a scratch one)."""
    scratch = np.random.default_rng(0)
    try:
        scratch.bit_generator.state = value
    except (TypeError, ValueError, KeyError, OverflowError):
        raise _fail(path, f"'{key}' is not the state of a NumPy PCG64 generator") from None
    return value


def check_state(
    state: dict[str, Any], arrays: dict[str, np.ndarray], params: dict[str, np.ndarray], path: Any
) -> None:
    """Check a checkpoint's training ``state`` and extra ``arrays`` against the network's
    ``params`` before anything is restored; raise :class:`CheckpointError` naming the field."""
    for key in ("epoch", "batch", "correct", "seen"):
        _integer(state, key, path)
    loss_sum = state.get("loss_sum")
    if isinstance(loss_sum, bool) or not isinstance(loss_sum, (int, float)) or not math.isfinite(loss_sum):
        raise _fail(path, f"'loss_sum' must be a finite number; found {loss_sum!r}")
    for key in ("shuffle_rng_state", "noise_rng_state"):
        _generator_state(state.get(key), key, path)
    if state.get("epoch_rng_state") is not None:
        _generator_state(state["epoch_rng_state"], "epoch_rng_state", path)
    optimizer = state.get("optimizer")
    if not isinstance(optimizer, dict) or optimizer.get("name") not in OPTIMIZERS:
        found = optimizer.get("name") if isinstance(optimizer, dict) else optimizer
        raise _fail(path, f"'optimizer' must name one of {sorted(OPTIMIZERS)}; found {found!r:.100}")
    if not isinstance(optimizer.get("config"), dict):
        raise _fail(path, "'optimizer' has no 'config' of hyperparameters")
    _integer(optimizer, "t", path)
    slots = OPTIMIZERS[optimizer["name"]].slots
    for key, array in arrays.items():
        if not key.startswith("optimizer."):
            continue
        slot, _, name = key[len("optimizer.") :].partition(".")
        if slot not in slots or name not in params:
            raise _fail(
                path, f"array {key!r} is not a state of {optimizer['name']} for a parameter of this network"
            )
        if array.shape != params[name].shape or array.dtype != params[name].dtype:
            raise _fail(
                path,
                f"array {key!r} is {array.shape} {array.dtype}; the parameter {name} is "
                f"{params[name].shape} {params[name].dtype}",
            )
    callbacks = state.get("callbacks")
    if not isinstance(callbacks, list) or not all(
        isinstance(c, dict) and isinstance(c.get("type"), str) and isinstance(c.get("state"), dict)
        for c in callbacks
    ):
        raise _fail(path, "'callbacks' must be a list of {'type': name, 'state': {…}}")
    history = state.get("history")
    if not isinstance(history, dict) or not isinstance(history.get("epoch"), list):
        raise _fail(path, "'history' must hold the list 'epoch' and the metrics 'history'")
    metrics = history.get("history")
    n = len(history["epoch"])
    if not isinstance(metrics, dict) or not all(
        isinstance(v, list)
        and len(v) <= n
        and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)
        for v in metrics.values()
    ):
        raise _fail(path, "'history' metrics must be lists of numbers, one per recorded epoch")
    if not all(isinstance(e, int) and not isinstance(e, bool) for e in history["epoch"]):
        raise _fail(path, "'history' epochs must be integers")
    settings = state.get("settings", {})
    if not isinstance(settings, dict):
        raise _fail(path, f"'settings' must be an object; found {settings!r:.200}")


def check_same_run(
    saved: dict[str, Any], current: dict[str, Any], explicit: dict[str, Any], path: Any
) -> None:
    """Refuse to resume when this fit's settings differ from the checkpoint's run: the batch
    size, shuffling, number of samples, unit (epochs or iterations), or a hyperparameter of the
    optimiser given explicitly to this fit (``explicit``) that differs from the one the run
    began with. A checkpoint written before settings were recorded is not compared."""
    for key in SHARED_SETTINGS:
        if key in saved and saved[key] != current[key]:
            raise _fail(
                path,
                f"it was trained with {key}={saved[key]!r} and this fit has {key}={current[key]!r}; "
                "resume with the run's own settings, or start a new run",
            )
    initial = saved.get("optimizer", {})
    for key, value in explicit.items():
        if key in initial and initial[key] != value:
            raise _fail(
                path,
                f"its optimiser began with {key}={initial[key]!r} and this fit asks for {key}={value!r}; "
                "settings cannot change when resuming (pass the same, or start a new run)",
            )
