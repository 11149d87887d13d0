"""Losses L(a, y), their costs J = (1/m)·Σᵢ L(a⁽ⁱ⁾, y⁽ⁱ⁾) and their gradients (SPEC §5).

Column layout: ``AL`` (the output activations A[L]) and ``Y`` (the targets) are both
``(n[L], m)``. Each cost returns the mean over the m samples as a Python float. Each
``*_gradient`` returns dA[L] = ∂L/∂A[L] *per sample*, shape ``(n[L], m)``: the 1/m of the
cost is applied once, in :func:`deepmat.functional.linear_backward` (SPEC §3).

For the three canonical pairs the output error simplifies to dZ[L] = A[L] − Y (SPEC §3,
equation 1); :func:`output_delta` uses that fused form, which is both cheaper and exact
where the chained form would divide by a saturated A.

>>> import numpy as np
>>> AL, Y = np.array([[0.8, 0.4]]), np.array([[1.0, 0.0]])
>>> round(binary_cross_entropy(AL, Y), 6)
0.366985
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from deepmat._checks import unknown_name
from deepmat.activations import get_activation
from deepmat.kernels import fused


def _clip_probabilities(AL: np.ndarray) -> np.ndarray:
    # log(0) and y/0 are infinite once a sigmoid or softmax saturates; clipping at the
    # dtype's machine epsilon bounds each loss term by −log(eps) and changes nothing else.
    eps = np.finfo(AL.dtype).eps
    return np.clip(AL, eps, 1 - eps)


def binary_cross_entropy_terms(AL: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """L per output unit and sample, −[Y·log A + (1 − Y)·log(1 − A)], shape ``(n[L], m)``."""
    A = _clip_probabilities(AL)
    return -(Y * np.log(A) + (1 - Y) * np.log1p(-A))


def binary_cross_entropy(AL: np.ndarray, Y: np.ndarray) -> float:
    """J = −(1/m)·Σ [Y·log A + (1 − Y)·log(1 − A)], summed over output units and samples."""
    return float(binary_cross_entropy_terms(AL, Y).sum() / AL.shape[1])


def binary_cross_entropy_gradient(AL: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """dA[L] = −(Y/A − (1 − Y)/(1 − A)), shape ``(n[L], m)``."""
    A = _clip_probabilities(AL)
    return -(Y / A - (1 - Y) / (1 - A))


def softmax_cross_entropy_terms(AL: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """−y_i·log a_i per class and sample, shape ``(n[L], m)`` (a column sums to that sample's L)."""
    return -(Y * np.log(_clip_probabilities(AL)))


def softmax_cross_entropy(AL: np.ndarray, Y: np.ndarray) -> float:
    """J = −(1/m)·Σ Σ_i y*_i·log a_i, with ``AL`` the softmax output and ``Y`` one-hot (or probabilities).

    With the Numba kernels (:mod:`deepmat.kernels`) the sum is one loop without temporaries
    (:func:`deepmat.kernels.passes.cross_entropy_sum`), accumulated in float64."""
    fast = fused()
    if fast is not None and AL.dtype == Y.dtype and AL.dtype.kind == "f":
        rows = AL.flags.c_contiguous and Y.flags.c_contiguous
        if rows or (AL.flags.f_contiguous and Y.flags.f_contiguous):
            eps = np.finfo(AL.dtype).eps
            low, high = AL.dtype.type(eps), AL.dtype.type(1 - eps)
            return float(
                fast.cross_entropy_sum(AL if rows else AL.T, Y if rows else Y.T, low, high) / AL.shape[1]
            )
    return float(softmax_cross_entropy_terms(AL, Y).sum() / AL.shape[1])


def softmax_cross_entropy_gradient(AL: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """dA[L] = −Y / A; chained through the softmax Jacobian it gives A − Y w.r.t. the logits."""
    return -Y / _clip_probabilities(AL)


def mean_squared_error_terms(AL: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """½(a − y)² per output unit and sample, shape ``(n[L], m)``."""
    diff = AL - Y
    return 0.5 * (diff * diff)


def mean_squared_error(AL: np.ndarray, Y: np.ndarray) -> float:
    """J = (1/m)·Σᵢ ½‖a⁽ⁱ⁾ − y⁽ⁱ⁾‖² (seed 004's L = ½‖ŷ − y‖², averaged over samples)."""
    return float(mean_squared_error_terms(AL, Y).sum() / AL.shape[1])


def mean_squared_error_gradient(AL: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """dA[L] = A − Y."""
    return AL - Y


class Loss(NamedTuple):
    """A loss: its cost J, its per-sample gradient dA[L], the output activation with which
    dZ[L] simplifies to A[L] − Y, and its terms per output unit and sample (whose column
    sums are the per-sample losses L⁽ⁱ⁾ a weighted cost needs)."""

    name: str
    cost: Callable[[np.ndarray, np.ndarray], float]
    gradient: Callable[[np.ndarray, np.ndarray], np.ndarray]
    canonical_activation: str
    terms: Callable[[np.ndarray, np.ndarray], np.ndarray]


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss(
            "binary_cross_entropy",
            binary_cross_entropy,
            binary_cross_entropy_gradient,
            "sigmoid",
            binary_cross_entropy_terms,
        ),
        Loss(
            "cross_entropy",
            softmax_cross_entropy,
            softmax_cross_entropy_gradient,
            "softmax",
            softmax_cross_entropy_terms,
        ),
        Loss("mse", mean_squared_error, mean_squared_error_gradient, "identity", mean_squared_error_terms),
    )
}

#: Output activations whose outputs are probabilities (a classifier's).
PROBABILITY_OUTPUTS = ("sigmoid", "softmax")

#: The loss that ``loss=None`` picks for each output activation.
DEFAULT_LOSS: dict[str, str] = {
    "sigmoid": "binary_cross_entropy",
    "softmax": "cross_entropy",
    "identity": "mse",
}


def get_loss(name: str) -> Loss:
    """Look a loss up by name; an unknown name raises ``ValueError`` listing the valid ones."""
    if not isinstance(name, str) or name not in LOSSES:
        raise unknown_name("loss", name, LOSSES)
    return LOSSES[name]


def output_delta(
    AL: np.ndarray, Y: np.ndarray, ZL: np.ndarray, loss: str, output_activation: str
) -> np.ndarray:
    """The output error dZ[L] = dA[L] ⊙ g[L]'(Z[L]) (SPEC §3, equation 1), shape ``(n[L], m)``.

    For sigmoid + binary cross-entropy, softmax + cross-entropy and identity + MSE the
    derivative of g cancels the denominator of the loss gradient and dZ[L] = A[L] − Y
    exactly; any other pair is chained through the activation's backward.
    """
    if is_canonical(loss, output_activation):
        return AL - Y
    return get_activation(output_activation).backward(get_loss(loss).gradient(AL, Y), ZL, AL)


def is_canonical(loss: str, output_activation: str) -> bool:
    """Whether dZ[L] = A[L] − Y for this pair: sigmoid + binary cross-entropy, softmax +
    cross-entropy, identity + MSE."""
    return get_loss(loss).canonical_activation == output_activation


def weighted_cost(AL: np.ndarray, Y: np.ndarray, loss: str, weights: np.ndarray) -> float:
    """J = (1/m)·Σᵢ wᵢ·L(a⁽ⁱ⁾, y⁽ⁱ⁾) for per-sample weights ``weights`` ``(m,)``.

    With the weights scaled to mean 1 over the training set (what ``fit`` does), a sample of
    weight 2 counts exactly as the sample repeated: Σᵢ wᵢLᵢ / Σᵢ wᵢ."""
    per_sample = get_loss(loss).terms(AL, Y).sum(axis=0)
    return float(per_sample @ weights / AL.shape[1])
