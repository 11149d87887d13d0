"""Full-batch gradient descent without the first layer's big forward product.

In the seeds' training (SPEC §7) every iteration sees the same A[0] = X ``(n[0], m)`` and
takes a plain gradient-descent step. The first layer's step is then a combination of the
samples themselves:

    W[1] ← W[1] − α·(dW[1] + λ·W[1]),   dW[1] = (1/m)·dZ[1]·A[0]ᵀ

so the next iteration's product W[1]·A[0] follows from this one's without touching the
n[1] × n[0] × m numbers again:

    W[1]'·A[0] = (1 − αλ)·W[1]·A[0] − α·(1/m)·dZ[1]·G,   G = A[0]ᵀ·A[0]  ``(m, m)``

For the cat model (n[0] = 12288, m = 209) that replaces a 20 × 12288 × 209 product with a
20 × 209 × 209 one: the forward pass of layer 1 costs 1/59 of what it did, and an iteration
about half. The parameters stay ordinary arrays updated by the optimiser as always; only
Z[1] is tracked this way, and recomputed exactly every :data:`RESYNC_EVERY` iterations so
rounding cannot accumulate.

:class:`InputGram` is used by the trainer only when the identity holds: one batch holding
every sample, no shuffling, :class:`~deepmat.optimizers.SGD` without momentum, a Dense first
layer, no callback that may change the parameters, and m ≤ n[0] / 4 (else G saves nothing).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deepmat.layers import Dense
from deepmat.optimizers import SGD

#: iterations between exact recomputations of W[1]·A[0]
RESYNC_EVERY = 64


class InputGram:
    """Tracks Z_lin = W[1]·A[0] (without b[1]) for a fixed A[0] through plain SGD steps.

    Args:
        layer: the first :class:`~deepmat.layers.Dense` layer.
        A0: A[0] ``(n[0], m)``, the same array every iteration.
    """

    def __init__(self, layer: Any, A0: np.ndarray) -> None:
        self.layer = layer
        self.A0 = A0
        self.G = A0.T @ A0  # (m, m); symmetric
        self.Z_linear = np.empty((layer.units, A0.shape[1]), A0.dtype)
        self.steps_since_sync = 0
        self.resync()

    def resync(self) -> None:
        """Z_lin = W[1]·A[0], exactly."""
        np.matmul(self.layer.W, self.A0, out=self.Z_linear)
        self.steps_since_sync = 0

    def restore(self, steps_since_sync: int, Z_linear: np.ndarray) -> None:
        """Continue a run interrupted after ``steps_since_sync`` tracked steps, whose tracked
        product was ``Z_linear`` (a checkpoint's): the resumed run then computes what the
        uninterrupted one would have, bit for bit."""
        if Z_linear.shape != self.Z_linear.shape or Z_linear.dtype != self.Z_linear.dtype:
            raise ValueError(
                f"the checkpoint's tracked W[1]·A[0] is {Z_linear.shape} {Z_linear.dtype}; this run's is "
                f"{self.Z_linear.shape} {self.Z_linear.dtype}"
            )
        if not 0 <= steps_since_sync < RESYNC_EVERY:
            raise ValueError(
                f"the checkpoint's steps since the last resync, {steps_since_sync}, is not in 0..{RESYNC_EVERY - 1}"
            )
        np.copyto(self.Z_linear, Z_linear)
        self.steps_since_sync = steps_since_sync

    def linear(self, Z: np.ndarray) -> np.ndarray:
        """The product W[1]·A[0] = Z_lin, copied into ``Z`` ``(n[1], m)`` (the layer then adds
        b[1] and applies g[1], :meth:`deepmat.layers.Dense.bias_activation`)."""
        np.copyto(Z, self.Z_linear)
        return Z

    def after_step(self, learning_rate: float, dZ_mean: np.ndarray) -> None:
        """Follow W[1]'s SGD step α with (1/m)·dZ[1] = ``dZ_mean`` ``(n[1], m)``."""
        self.steps_since_sync += 1
        if self.steps_since_sync >= RESYNC_EVERY:
            self.resync()
            return
        l2 = self.layer.l2 or 0.0
        if l2:
            self.Z_linear *= 1 - learning_rate * l2
        self.Z_linear -= learning_rate * (dZ_mean @ self.G)


def input_gram_applies(net: Any, optimizer: Any, callbacks: list, n_batches: int, shuffle: bool) -> bool:
    """Whether :class:`InputGram` computes exactly what the plain forward pass would."""
    first = net.layers[0]
    return (
        n_batches == 1
        and not shuffle
        and type(optimizer) is SGD
        and optimizer.momentum == 0
        and isinstance(first, Dense)
        and not any(callback.touches_parameters for callback in callbacks)
    )


def worth_it(n_in: int, m: int) -> bool:
    """G (m × m) replaces a product over n[0]: worth it when m ≤ n[0] / 4."""
    return 4 * m <= n_in
