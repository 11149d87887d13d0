"""``gradcheck``: back-propagation checked against central differences, in float64.

For every parameter θ (each entry of every W[l] and b[l]) the numerical derivative is

    ∂J/∂θ ≈ (J(θ + ε) − J(θ − ε)) / (2ε)

and the parameter's error is the largest absolute difference between it and the
back-propagated dW[l] / db[l], relative to the largest gradient magnitude of that parameter:

    error(W[l]) = max_i |analytic_i − numeric_i| / max(max_i |analytic_i|, max_i |numeric_i|, s)

(a per-entry relative error would be dominated by round-off on entries that are near zero).
The floor s (``min_scale``, 0.01 by default) keeps a parameter whose gradient is exactly zero
— a bias followed by batch normalisation — from dividing round-off by zero: below it the
check is absolute, |difference| < tolerance·s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from deepmat._checks import check_number


def _layer_of(name: str) -> str:
    """The layer number l of a parameter name such as ``W2`` or ``gamma2``."""
    return name.lstrip("abcdefghijklmnopqrstuvwxyz_ABCDEFGHIJKLMNOPQRSTUVWXYZ")


class GradcheckError(AssertionError):
    """Back-propagation disagrees with the numerical gradient."""


@dataclass
class GradcheckResult:
    """Per-parameter errors (``errors["W2"]``) and, for each, the worst entry."""

    errors: dict[str, float] = field(default_factory=dict)
    worst: dict[str, tuple[tuple[int, ...], float, float]] = field(default_factory=dict)
    tolerance: float = 1e-7

    @property
    def max_error(self) -> float:
        return max(self.errors.values())

    @property
    def passed(self) -> bool:
        return self.max_error < self.tolerance

    def report(self) -> str:
        """One line per parameter: its error and worst entry (analytic vs numeric)."""
        lines = []
        for name, error in self.errors.items():
            index, analytic, numeric = self.worst[name]
            flag = "ok" if error < self.tolerance else "FAIL"
            lines.append(
                f"layer {_layer_of(name)}: {name:<4} max relative error {error:.3e} at {name}{list(index)}: "
                f"backprop d{name} = {analytic:.12g}, numerical = {numeric:.12g}  {flag}"
            )
        return "\n".join(lines)


def gradcheck(
    net: Any,
    X: Any,
    y: Any,
    eps: float = 1e-6,
    tolerance: float = 1e-7,
    max_entries: int | None = None,
    seed: int = 0,
    raise_on_failure: bool = True,
    training: bool = False,
    min_scale: float = 1e-2,
) -> GradcheckResult:
    """Compare ``net.gradients(X, y)`` with central differences of ``net.cost(X, y)``.

    The check runs on a float64 copy of ``net`` (``net`` itself is not modified). With
    ``max_entries``, at most that many randomly chosen entries of each parameter are
    perturbed (a large first layer has many). Raises :class:`GradcheckError` naming the
    layer, the parameter, the index and both values when an error reaches ``tolerance``
    (unless ``raise_on_failure`` is false); returns the :class:`GradcheckResult`.

    ``training=True`` checks the training-mode network: batch norm on batch statistics and
    dropout with a fixed mask (drawn once, then frozen, so J is one function throughout).
    """
    eps = check_number(eps, "eps", 0, low_open=True)
    tolerance = check_number(tolerance, "tolerance", 0, low_open=True)
    net64 = net.copy(dtype="float64")
    X = np.asarray(X, dtype=np.float64) if np.asarray(X).dtype.kind in "biuf" else X
    for layer in net64.layers:
        layer.freeze_noise()
    analytic = net64.gradients(X, y, training=training)
    rng = np.random.default_rng(seed)
    result = GradcheckResult(tolerance=tolerance)
    for name, theta in net64.params.items():
        grad = analytic[f"d{name}"]
        flat = theta.reshape(-1)  # a view: perturbing it perturbs the parameter
        indices = np.arange(flat.size)
        if max_entries is not None and flat.size > max_entries:
            indices = rng.choice(flat.size, size=max_entries, replace=False)
        numeric = np.empty(indices.size)
        for k, i in enumerate(indices):
            original = flat[i]
            flat[i] = original + eps
            J_plus = net64.cost(X, y, training=training)
            flat[i] = original - eps
            J_minus = net64.cost(X, y, training=training)
            flat[i] = original
            numeric[k] = (J_plus - J_minus) / (2 * eps)
        picked = grad.reshape(-1)[indices]
        diff = np.abs(picked - numeric)
        scale = max(np.abs(picked).max(), np.abs(numeric).max(), min_scale)
        worst = int(diff.argmax())
        result.errors[name] = float(diff[worst] / scale)
        result.worst[name] = (
            tuple(int(j) for j in np.unravel_index(indices[worst], theta.shape)),
            float(picked[worst]),
            float(numeric[worst]),
        )
    if raise_on_failure and not result.passed:
        failing = [n for n, e in result.errors.items() if e >= tolerance]
        name = max(failing, key=result.errors.__getitem__)
        index, a, n = result.worst[name]
        raise GradcheckError(
            f"gradient check failed in layer {_layer_of(name)}, parameter {name}, index {list(index)}: "
            f"back-propagation gives d{name} = {a!r}, central differences give {n!r} "
            f"(relative error {result.errors[name]:.3e} ≥ {tolerance:g})\n{result.report()}"
        )
    return result


def gradcheck_rows(
    net: Any, X: Any, y: Any, samples: int = 8, max_entries: int = 20, seed: int = 0
) -> GradcheckResult:
    """A quick :func:`gradcheck` that never raises: on ``samples`` rows of ``(X, y)`` drawn at
    random without replacement (all of them when there are fewer; X an array or a table of
    rows), at most ``max_entries``
    entries per parameter — what ``deepmat gradcheck --data`` and a run's report check."""
    from deepmat.data import take_rows  # here: `import deepmat` does not load the data package

    samples = check_number(samples, "samples", 1, integer=True)
    rows = np.random.default_rng(seed).choice(len(y), size=min(samples, len(y)), replace=False)
    return gradcheck(
        net, take_rows(X, rows), y[rows], max_entries=max_entries, seed=seed, raise_on_failure=False
    )
