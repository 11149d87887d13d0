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

The same identity defers W[1]'s own steps. Nothing in an iteration reads W[1] once Z[1]
comes from the tracked product, so its step W[1] ← (1 − αλ)·W[1] − α·(1/m)·dZ[1]·A[0]ᵀ — the
other n[1] × m × n[0] product of each iteration — is summed instead of taken:

    P ← (1 − αλ)·P + α·(1/m)·dZ[1],  c ← (1 − αλ)·c,   and when due:  W[1] ← c·W[1] − P·A[0]ᵀ

(:meth:`InputGram.flush`): at each resync, at the end of the fit, and into a copy for a
checkpoint or a divergence snapshot (the checkpoint keeps W[1] as taken and P, c beside it, so
a resumed run continues bit for bit). dW[1] is then not computed (it stays 0 and the
optimiser leaves W[1]'s share of θ as it is). Deferring needs W[1] unread between steps: no
callback that reads the parameters (``Callback.reads_parameters``), no validation pass and no
L2 term in J (λ = 0, so c stays 1; the λ terms above are for completeness); for the cat model it
removes the last product over n[0] from the iterations between resyncs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deepmat._checks import all_finite
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

    def __init__(self, layer: Any, A0: np.ndarray, defer: bool = False) -> None:
        self.layer = layer
        self.A0 = A0
        self.G = A0.T @ A0  # (m, m); symmetric
        self.Z_linear = np.empty((layer.units, A0.shape[1]), A0.dtype)
        self.steps_since_sync = 0
        #: whether W[1]'s steps are deferred (summed in ``pending``, scaled by ``decay``)
        self.defer = defer
        self.pending = np.zeros_like(self.Z_linear)
        self.decay = 1.0
        self.resync()

    def resync(self) -> None:
        """Z_lin = W[1]·A[0], exactly (W[1]'s deferred steps taken first)."""
        self.flush()
        np.matmul(self.layer.W, self.A0, out=self.Z_linear)
        self.steps_since_sync = 0

    def defers(self, A_prev: np.ndarray) -> bool:
        """Whether the backward pass on A[0] = ``A_prev`` leaves dW[1] out (deferred)."""
        return self.defer and A_prev.shape == self.A0.shape

    def materialised(self) -> np.ndarray:
        """W[1] with its deferred steps taken, c·W[1] − P·A[0]ᵀ, as a new array."""
        W = self.layer.W * self.decay
        W -= self.pending @ self.A0.T
        return W

    def flush(self) -> None:
        """Take W[1]'s deferred steps: W[1] ← c·W[1] − P·A[0]ᵀ; then P = 0, c = 1."""
        if self.defer and (self.decay != 1.0 or self.pending.any()):
            np.copyto(self.layer.W, self.materialised())
            self.discard()

    def discard(self) -> None:
        """Forget the deferred steps (after a divergence restored the parameters)."""
        self.pending[...] = 0
        self.decay = 1.0

    def restore_deferred(self, W_taken: np.ndarray, pending: np.ndarray, decay: float) -> None:
        """Continue from a checkpoint: W[1] as it was taken, the sum P and the factor c."""
        if (W_taken.shape, W_taken.dtype, pending.shape, pending.dtype) != (
            self.layer.W.shape,
            self.layer.W.dtype,
            self.pending.shape,
            self.pending.dtype,
        ):
            raise ValueError(
                f"the checkpoint's deferred W[1] steps are {W_taken.shape} {W_taken.dtype}, {pending.shape} "
                f"{pending.dtype}; this run's are {self.layer.W.shape}, {self.pending.shape} {self.pending.dtype}"
            )
        if isinstance(decay, bool) or not isinstance(decay, (int, float)) or not 0 < decay <= 1:
            raise ValueError(
                f"the checkpoint's decay of the deferred W[1] steps must be in (0, 1]; found {decay!r}"
            )
        if not (all_finite(W_taken) and all_finite(pending)):
            raise ValueError("the checkpoint's deferred W[1] steps are not finite")
        np.copyto(self.layer.W, W_taken)
        np.copyto(self.pending, pending)
        self.decay = float(decay)

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
        """Follow W[1]'s SGD step α with (1/m)·dZ[1] = ``dZ_mean`` ``(n[1], m)`` (and, when
        deferring, add the step to P and c)."""
        l2 = self.layer.l2 or 0.0
        if self.defer:
            if l2:
                self.pending *= 1 - learning_rate * l2
                self.decay *= 1 - learning_rate * l2
            self.pending += learning_rate * dZ_mean
        self.steps_since_sync += 1
        if self.steps_since_sync >= RESYNC_EVERY:
            self.resync()
            return
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
