"""The seeds' building blocks as pure functions, in the seeds' column layout (SPEC §1–§3).

Layout: a batch is stored one sample per **column**. ``X = A[0]`` is ``(n[0], m)``,
``W[l]`` is ``(n[l], n[l-1])``, ``b[l]`` is ``(n[l], 1)``, ``Z[l]`` and ``A[l]`` are
``(n[l], m)``. (The object API, :class:`deepmat.Network`, takes the transpose: one sample
per row, as scikit-learn and PyTorch do.)

A learner can call the functions one by one, in the order of the equations::

    Z1, cache = linear_forward(X, W1, b1)            # Z[1] = W[1]·A[0] + b[1]
    A1 = relu(Z1)                                    # A[1] = g[1](Z[1])
    ...
    dZ1 = relu_backward(dA1, Z1, A1)                 # dZ[1] = dA[1] ⊙ g[1]'(Z[1])
    dA0, dW1, db1 = linear_backward(dZ1, cache)      # dW[1] = (1/m)·dZ[1]·A[0]ᵀ, ...

or the whole model at once with :func:`L_model_forward` and :func:`L_model_backward`.
Nothing here mutates its arguments. Activation and loss functions are re-exported from
:mod:`deepmat.activations` and :mod:`deepmat.losses`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from deepmat.activations import (
    ACTIVATIONS,
    get_activation,
    identity,
    identity_backward,
    leaky_relu,
    leaky_relu_backward,
    relu,
    relu_backward,
    sigmoid,
    sigmoid_backward,
    softmax,
    softmax_backward,
    tanh,
    tanh_backward,
)
from deepmat.losses import (
    DEFAULT_LOSS,
    LOSSES,
    binary_cross_entropy,
    binary_cross_entropy_gradient,
    get_loss,
    mean_squared_error,
    mean_squared_error_gradient,
    output_delta,
    softmax_cross_entropy,
    softmax_cross_entropy_gradient,
)

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "L_model_backward",
    "L_model_forward",
    "LayerCache",
    "LinearCache",
    "binary_cross_entropy",
    "binary_cross_entropy_gradient",
    "compute_cost",
    "identity",
    "identity_backward",
    "leaky_relu",
    "leaky_relu_backward",
    "linear_activation_backward",
    "linear_activation_forward",
    "linear_backward",
    "linear_forward",
    "mean_squared_error",
    "mean_squared_error_gradient",
    "n_layers",
    "output_delta",
    "relu",
    "relu_backward",
    "sigmoid",
    "sigmoid_backward",
    "softmax",
    "softmax_backward",
    "softmax_cross_entropy",
    "softmax_cross_entropy_gradient",
    "tanh",
    "tanh_backward",
    "update_parameters",
]


class LinearCache(NamedTuple):
    """What the linear step keeps for the backward pass: A[l-1], W[l], b[l]."""

    A_prev: np.ndarray
    W: np.ndarray
    b: np.ndarray


class LayerCache(NamedTuple):
    """A layer's cache (SPEC §2): A[l-1], W[l], b[l], Z[l], and A[l] (which backward reuses)."""

    A_prev: np.ndarray
    W: np.ndarray
    b: np.ndarray
    Z: np.ndarray
    A: np.ndarray


def _layer(layer: int | None) -> str:
    return f"layer {layer}: " if layer is not None else ""


def _sup(layer: int | None) -> str:
    return str(layer) if layer is not None else "[l]"


def _sub(layer: int | None) -> str:
    return str(layer - 1) if layer is not None else "[l-1]"


def linear_forward(
    A_prev: np.ndarray, W: np.ndarray, b: np.ndarray, layer: int | None = None
) -> tuple[np.ndarray, LinearCache]:
    """Z[l] = W[l]·A[l-1] + b[l] (SPEC §2), with b broadcast over the m columns.

    Shapes: ``A_prev`` (n[l-1], m), ``W`` (n[l], n[l-1]), ``b`` (n[l], 1) → ``Z`` (n[l], m).
    ``layer`` only names the layer in error messages.

    >>> Z, cache = linear_forward(np.ones((3, 2)), np.ones((4, 3)), np.zeros((4, 1)))
    >>> Z.shape
    (4, 2)
    """
    l = _layer(layer)
    if A_prev.ndim != 2 or W.ndim != 2 or b.ndim != 2:
        raise ValueError(
            f"{l}A{_sub(layer)}, W{_sup(layer)} and b{_sup(layer)} must be 2-D; received shapes "
            f"{A_prev.shape}, {W.shape} and {b.shape}"
        )
    if W.shape[1] != A_prev.shape[0]:
        raise ValueError(
            f"{l}W{_sup(layer)} is {W.shape} but A{_sub(layer)} has {A_prev.shape[0]} rows "
            f"(expected n{_sub(layer)} = {W.shape[1]})"
        )
    if b.shape != (W.shape[0], 1):
        raise ValueError(
            f"{l}b{_sup(layer)} is {b.shape}; expected ({W.shape[0]}, 1) to match W{_sup(layer)}"
        )
    if not (A_prev.dtype == W.dtype == b.dtype):
        raise TypeError(
            f"{l}A{_sub(layer)}, W{_sup(layer)} and b{_sup(layer)} must share one dtype; received "
            f"{A_prev.dtype}, {W.dtype} and {b.dtype}"
        )
    Z = W @ A_prev + b
    return Z, LinearCache(A_prev, W, b)


def linear_backward(
    dZ: np.ndarray, cache: LinearCache | LayerCache, compute_dA_prev: bool = True
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """The linear step's gradients (SPEC §3, equations 2 and 3).

    - dW[l] = (1/m)·dZ[l]·A[l-1]ᵀ, shape of W[l] (n[l], n[l-1])
    - db[l] = (1/m)·Σ_columns dZ[l], shape of b[l] (n[l], 1) — a row *sum* times 1/m
      (seed 002's table writes a row *mean* times 1/m, which divides by m twice)
    - dA[l-1] = W[l]ᵀ·dZ[l], a matrix product, shape (n[l-1], m) (seed 002's formula 9
      writes ⊙ by mistake). Skipped (``None``) when ``compute_dA_prev`` is false, as for
      the input layer, where nobody needs dX.
    """
    if dZ.shape != (cache.W.shape[0], cache.A_prev.shape[1]):
        raise ValueError(f"dZ is {dZ.shape} but Z = W·A_prev is {(cache.W.shape[0], cache.A_prev.shape[1])}")
    m = cache.A_prev.shape[1]
    dW = (dZ @ cache.A_prev.T) / m
    db = dZ.sum(axis=1, keepdims=True) / m
    dA_prev = cache.W.T @ dZ if compute_dA_prev else None
    return dA_prev, dW, db


def linear_activation_forward(
    A_prev: np.ndarray, W: np.ndarray, b: np.ndarray, activation: str, layer: int | None = None
) -> tuple[np.ndarray, LayerCache]:
    """A[l] = g[l](W[l]·A[l-1] + b[l]); returns A[l] (n[l], m) and the layer's cache."""
    g = get_activation(activation)
    Z, _ = linear_forward(A_prev, W, b, layer)
    A = g.forward(Z)
    return A, LayerCache(A_prev, W, b, Z, A)


def linear_activation_backward(
    dA: np.ndarray, cache: LayerCache, activation: str, compute_dA_prev: bool = True
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """dZ[l] = dA[l] ⊙ g[l]'(Z[l]) then :func:`linear_backward`; returns (dA_prev, dW, db)."""
    dZ = get_activation(activation).backward(dA, cache.Z, cache.A)
    return linear_backward(dZ, cache, compute_dA_prev)


def n_layers(params: Mapping[str, np.ndarray]) -> int:
    """L, the number of layers with parameters, from a dict ``W1, b1, …, WL, bL``."""
    L = len(params) // 2
    missing = [k for l in range(1, L + 1) for k in (f"W{l}", f"b{l}") if k not in params]
    if L == 0 or missing or len(params) != 2 * L:
        raise ValueError(
            f"params must hold W1, b1, …, WL, bL; received keys {sorted(params)}"
            + (f" (missing {missing})" if missing else "")
        )
    return L


def L_model_forward(
    X: np.ndarray,
    params: Mapping[str, np.ndarray],
    hidden_activation: str = "relu",
    output_activation: str = "sigmoid",
) -> tuple[np.ndarray, list[LayerCache]]:
    """Forward propagation through all L layers (SPEC §2).

    ``X`` is A[0], ``(n[0], m)``; layers 1..L-1 use ``hidden_activation`` and layer L uses
    ``output_activation``. Returns A[L] ``(n[L], m)`` and the list of the L layer caches.
    """
    L = n_layers(params)
    A = X
    caches = []
    for l in range(1, L + 1):
        activation = output_activation if l == L else hidden_activation
        A, cache = linear_activation_forward(A, params[f"W{l}"], params[f"b{l}"], activation, layer=l)
        caches.append(cache)
    return A, caches


def compute_cost(AL: np.ndarray, Y: np.ndarray, loss: str = "binary_cross_entropy") -> float:
    """The cost J = (1/m)·Σᵢ L(a⁽ⁱ⁾, y⁽ⁱ⁾) of the named loss; ``AL`` and ``Y`` are (n[L], m)."""
    if AL.shape != Y.shape:
        raise ValueError(f"Y is {Y.shape} but A[L] is {AL.shape}; they must match")
    return get_loss(loss).cost(AL, Y)


def L_model_backward(
    AL: np.ndarray,
    Y: np.ndarray,
    caches: list[LayerCache],
    hidden_activation: str = "relu",
    output_activation: str = "sigmoid",
    loss: str | None = None,
    compute_dA0: bool = True,
) -> dict[str, np.ndarray]:
    """Backward propagation through all L layers (SPEC §3, the four equations).

    ``Y`` is ``(n[L], m)`` like ``AL``. ``loss=None`` takes the loss that matches the output
    activation. Returns a dict with ``dW{l}``, ``db{l}`` for l = 1..L (shapes of W[l], b[l])
    and ``dA{l}`` = ∂L/∂A[l] for l = 0..L-1 (shape of A[l]; ``dA0`` is dX, omitted when
    ``compute_dA0`` is false). (Seed 002's code files layer l's dA_prev under ``dA{l}``;
    here ``dA{l}`` is always the gradient of A[l].)
    """
    if AL.shape != Y.shape:
        raise ValueError(f"Y is {Y.shape} but A[L] is {AL.shape}; they must match")
    loss = loss if loss is not None else DEFAULT_LOSS.get(output_activation, "mse")
    L = len(caches)
    grads: dict[str, np.ndarray] = {}
    dZ = output_delta(AL, Y, caches[-1].Z, loss, output_activation)
    for l in range(L, 0, -1):
        cache = caches[l - 1]
        if l < L:
            dZ = get_activation(hidden_activation).backward(grads[f"dA{l}"], cache.Z, cache.A)
        dA_prev, grads[f"dW{l}"], grads[f"db{l}"] = linear_backward(dZ, cache, l > 1 or compute_dA0)
        if dA_prev is not None:
            grads[f"dA{l - 1}"] = dA_prev
    return grads


def update_parameters(
    params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray], learning_rate: float
) -> dict[str, np.ndarray]:
    """One gradient-descent step (SPEC §3, equation 4): W[l] ← W[l] − α·dW[l], b[l] ← b[l] − α·db[l].

    Returns a new dict; ``params`` is left untouched. Each parameter keeps its dtype (a NumPy
    ``float64`` learning rate must not turn a float32 network into a float64 one).
    """
    L = n_layers(params)
    updated = {}
    for l in range(1, L + 1):
        for name in (f"W{l}", f"b{l}"):
            if grads[f"d{name}"].shape != params[name].shape:
                raise ValueError(f"d{name} is {grads[f'd{name}'].shape} but {name} is {params[name].shape}")
            step = params[name] - learning_rate * grads[f"d{name}"]
            updated[name] = step.astype(params[name].dtype, copy=False)
    return updated
