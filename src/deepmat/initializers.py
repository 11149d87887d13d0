"""Parameter initialisation (SPEC §6).

Every scheme draws W[l] ``(n[l], n[l-1])`` layer by layer, l = 1..L, from one
``numpy.random.RandomState(seed)`` — NumPy's legacy generator, the one the course seeds
with ``np.random.seed(1)`` — so the course's figures reproduce bit for bit. Biases start at
0, ``(n[l], 1)``. Weights are drawn in float64 and then cast, so a float32 network starts
from the float64 network's weights rounded.

=========  ======================================  ==========================================
name       W[l]                                    use
=========  ======================================  ==========================================
scaled     randn(n[l], n[l-1]) / √n[l-1]           seed 002's ``iniPara`` (the deep cat model)
small      0.01 · randn(n[l], n[l-1])              the course's 2-layer model
he         randn(n[l], n[l-1]) · √(2 / n[l-1])     ReLU networks (He et al., 2015)
xavier     randn(n[l], n[l-1]) · √(2 / (n[l-1]+n[l]))  sigmoid/tanh networks (Glorot, 2010)
zeros      0                                       warns: hidden units stay identical
=========  ======================================  ==========================================
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import numpy as np

from deepmat._checks import unknown_name


def _scaled(rng: np.random.RandomState, n: int, n_prev: int) -> np.ndarray:
    return rng.randn(n, n_prev) / np.sqrt(n_prev)


def _small(rng: np.random.RandomState, n: int, n_prev: int) -> np.ndarray:
    return rng.randn(n, n_prev) * 0.01


def _he(rng: np.random.RandomState, n: int, n_prev: int) -> np.ndarray:
    return rng.randn(n, n_prev) * np.sqrt(2.0 / n_prev)


def _xavier(rng: np.random.RandomState, n: int, n_prev: int) -> np.ndarray:
    return rng.randn(n, n_prev) * np.sqrt(2.0 / (n_prev + n))


def _zeros(rng: np.random.RandomState, n: int, n_prev: int) -> np.ndarray:
    return np.zeros((n, n_prev))


INITIALIZERS: dict[str, Callable[[np.random.RandomState, int, int], np.ndarray]] = {
    "scaled": _scaled,
    "small": _small,
    "he": _he,
    "xavier": _xavier,
    "zeros": _zeros,
}


def initialize_parameters(
    layer_dims: Sequence[int], init: str = "scaled", seed: int | None = 1, dtype: str = "float64"
) -> dict[str, np.ndarray]:
    """Return ``{"W1": …, "b1": …, …}`` for ``layer_dims = [n[0], n[1], …, n[L]]``.

    >>> p = initialize_parameters([3, 4, 1], seed=1)
    >>> p["W1"].shape, p["b1"].shape, p["W2"].shape
    ((4, 3), (4, 1), (1, 4))
    """
    check_init(init)
    warn_if_symmetric(init, has_hidden_layer=len(layer_dims) > 2)
    rng = np.random.RandomState(seed)
    params = {}
    for l in range(1, len(layer_dims)):
        params[f"W{l}"] = draw_weights(init, rng, layer_dims[l], layer_dims[l - 1], dtype)
        params[f"b{l}"] = np.zeros((layer_dims[l], 1), dtype=dtype)
    return params


def warn_if_symmetric(init: str, has_hidden_layer: bool) -> None:
    """Warn that all-zero weights never break the symmetry between hidden units (SPEC §6)."""
    if init == "zeros" and has_hidden_layer:
        warnings.warn(
            "init='zeros' gives every hidden unit of a layer the same weights, the same output "
            "and the same gradient, so they stay identical for ever (SPEC §6); use 'scaled', "
            "'he' or 'xavier'",
            UserWarning,
            stacklevel=3,
        )


def check_init(init: str) -> str:
    """Return ``init`` if it names an initialiser; else ``ValueError`` listing the valid ones."""
    if not isinstance(init, str) or init not in INITIALIZERS:
        raise unknown_name("initialiser", init, INITIALIZERS)
    return init


def draw_weights(
    init: str, rng: np.random.RandomState, n: int, n_prev: int, dtype: str = "float64"
) -> np.ndarray:
    """One layer's W ``(n, n_prev)`` drawn from ``rng`` (in float64, then cast to ``dtype``)."""
    return INITIALIZERS[check_init(init)](rng, n, n_prev).astype(dtype, copy=False)
