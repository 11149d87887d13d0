"""The optimisers' update rules as fused Numba loops: one pass over θ per step instead of a
dozen whole-array NumPy operations (:mod:`deepmat.optimizers` holds the NumPy reference and
calls these when the Numba kernels are in use, :mod:`deepmat.kernels`).

Every array is 1-D and contiguous (the flat θ, its gradient g and the optimiser's state laid
out like θ); every scalar comes in θ's dtype, so a float32 step computes in float32 as NumPy
does. Each loop evaluates the reference's expression in the reference's order, element by
element, so the two paths agree to the last bit or two (exp-free, no fused multiply-add):

==========  ===========================================================================
sgd_step    θ ← θ − α·g
momentum    v ← μ·v + g;  θ ← θ − α·v   (Nesterov: θ ← θ − α·(g + μ·v))
rmsprop     s ← ρ·s + ((1 − ρ)·g)·g;  θ ← θ − (α·g) / (√s + ε)
adam_step   m ← m + (g − m)·(1 − β₁);  v ← β₂·v + (g·g)·(1 − β₂);
            θ ← θ·d − (m / (√v + ε′))·s   (ε′, s: the bias corrections folded in; d = 1 − αλ
            for AdamW, 1 for Adam)
==========  ===========================================================================
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["adam_step", "momentum_step", "rmsprop_step", "sgd_step"]


@njit(cache=True, nogil=True, error_model="numpy")
def sgd_step(theta: np.ndarray, g: np.ndarray, lr: float) -> None:  # pragma: no cover - compiled
    """θ ← θ − α·g, in place; θ, g ``(n,)``."""
    for i in range(theta.size):
        theta[i] -= g[i] * lr


@njit(cache=True, nogil=True, error_model="numpy")
def momentum_step(
    theta: np.ndarray, g: np.ndarray, v: np.ndarray, lr: float, mu: float, nesterov: bool
) -> None:  # pragma: no cover - compiled
    """v ← μ·v + g, then θ ← θ − α·v (or θ ← θ − α·(g + μ·v) with Nesterov), in place; all ``(n,)``."""
    if nesterov:
        for i in range(theta.size):
            vi = v[i] * mu + g[i]
            v[i] = vi
            theta[i] -= lr * (g[i] + mu * vi)
    else:
        for i in range(theta.size):
            vi = v[i] * mu + g[i]
            v[i] = vi
            theta[i] -= lr * vi


@njit(cache=True, nogil=True, error_model="numpy")
def rmsprop_step(
    theta: np.ndarray, g: np.ndarray, s: np.ndarray, lr: float, rho: float, one_minus_rho: float, eps: float
) -> None:  # pragma: no cover - compiled
    """s ← ρ·s + ((1 − ρ)·g)·g, then θ ← θ − (α·g) / (√s + ε), in place; all ``(n,)``."""
    for i in range(theta.size):
        gi = g[i]
        si = s[i] * rho + one_minus_rho * gi * gi
        s[i] = si
        theta[i] -= lr * gi / (np.sqrt(si) + eps)


@njit(cache=True, nogil=True, error_model="numpy")
def adam_step(
    theta: np.ndarray,
    g: np.ndarray,
    m: np.ndarray,
    v: np.ndarray,
    one_minus_beta1: float,
    beta2: float,
    one_minus_beta2: float,
    eps: float,
    step: float,
    decay: float,
) -> None:  # pragma: no cover - compiled
    """The Adam (AdamW) step in place, all ``(n,)``: m ← m + (g − m)·(1 − β₁),
    v ← β₂·v + (g·g)·(1 − β₂), θ ← θ·d − (m / (√v + ε′))·s with s = α·√(1 − β₂ᵗ)/(1 − β₁ᵗ),
    ε′ = ε·√(1 − β₂ᵗ) (ε in the efficient form) and d = 1 − αλ (AdamW) or 1 (Adam)."""
    for i in range(theta.size):
        gi = g[i]
        mi = m[i] + (gi - m[i]) * one_minus_beta1
        vi = v[i] * beta2 + gi * gi * one_minus_beta2
        m[i] = mi
        v[i] = vi
        theta[i] = theta[i] * decay - mi / (np.sqrt(vi) + eps) * step
