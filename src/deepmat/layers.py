"""Layers: the stateful pieces a :class:`deepmat.Network` is stacked from.

Each layer works in the seeds' column layout — its input A_prev is ``(n_in, m)`` — and has

- ``forward(A_prev, training) -> A``, keeping what backward needs (the SPEC §2 cache);
- ``backward(dA, need_dA_prev=True) -> dA_prev``: given ∂S/∂A for S = Σᵢ L(a⁽ⁱ⁾, y⁽ⁱ⁾), the
  per-sample losses summed (the seeds' dA), it stores the gradients of the cost J = S/m in
  ``grads`` and returns ∂S/∂A_prev;
- ``params`` / ``grads`` / ``buffers``: dicts of arrays keyed by the seeds' names with the
  layer number l, e.g. ``W2``, ``dW2``, ``gamma2``, ``running_mean2``.

The layer number l is that of the :class:`Dense` layer it follows, so a network's weights are
``W1 … WL`` whatever dropout or batch normalisation sits between them.

>>> import numpy as np
>>> dense = Dense(3, activation="relu")
>>> dense.build(n_in=2, index=1, weight_rng=np.random.RandomState(0), dtype=np.dtype("float64"))
3
>>> dense.forward(np.ones((2, 5)), training=True).shape
(3, 5)
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from deepmat import functional as F
from deepmat._checks import check_positive
from deepmat.activations import get_activation
from deepmat.initializers import check_init, draw_weights


class Layer:
    """Base class. Subclasses set ``kind`` and implement build/forward/backward."""

    kind: ClassVar[str] = "Layer"

    def __init__(self) -> None:
        self.index = 0
        self.n_out = 0
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}

    def build(
        self,
        n_in: int,
        index: int,
        weight_rng: np.random.RandomState,
        dtype: np.dtype,
        default_init: str = "scaled",
        noise_rng: np.random.Generator | None = None,
    ) -> int:
        """Create the layer's arrays for an input of ``n_in`` units; return its output size."""
        self.index = index
        self.n_out = n_in
        return n_in

    def forward(self, A_prev: np.ndarray, training: bool) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dA: np.ndarray, need_dA_prev: bool = True) -> np.ndarray | None:
        raise NotImplementedError

    def penalty(self) -> float:
        """The layer's regularisation term added to the cost J (0 by default)."""
        return 0.0

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments plus ``"type"``, JSON-ready: ``layer_from_config`` rebuilds it."""
        return {"type": self.kind}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "type")
        return f"{self.kind}({args})"


class Dense(Layer):
    """A fully-connected layer: Z[l] = W[l]·A[l-1] + b[l], A[l] = g[l](Z[l]) (SPEC §2).

    Args:
        units: n[l].
        activation: g[l], a name from :data:`deepmat.activations.ACTIVATIONS`.
        init: weight initialiser (``None``: the network's ``init``).
        l2: L2 penalty λ: adds (λ/2)·‖W[l]‖²_F to J and λ·W[l] to dW[l] (``None``: the
            network's ``l2``). PyTorch's ``weight_decay=λ`` for SGD is the same step.

    Shape: A_prev ``(n[l-1], m)`` → A ``(n[l], m)``; W ``(n[l], n[l-1])``, b ``(n[l], 1)``.
    """

    kind = "Dense"

    def __init__(
        self, units: int, activation: str = "relu", init: str | None = None, l2: float | None = None
    ):
        super().__init__()
        check_positive(units, "units", integer=True)
        get_activation(activation)
        if init is not None:
            check_init(init)
        if l2 is not None and (isinstance(l2, bool) or not isinstance(l2, (int, float)) or not l2 >= 0):
            raise ValueError(f"l2 must be a number ≥ 0; received {l2!r}")
        self.units = int(units)
        self.activation = activation
        self.init = init
        self.l2 = l2
        self.cache: F.LayerCache | None = None

    def build(self, n_in, index, weight_rng, dtype, default_init="scaled", noise_rng=None):
        self.index = index
        self.n_out = self.units
        self.params = {
            f"W{index}": draw_weights(self.init or default_init, weight_rng, self.units, n_in, dtype.name),
            f"b{index}": np.zeros((self.units, 1), dtype=dtype),
        }
        return self.units

    @property
    def W(self) -> np.ndarray:
        return self.params[f"W{self.index}"]

    @property
    def b(self) -> np.ndarray:
        return self.params[f"b{self.index}"]

    def forward(self, A_prev: np.ndarray, training: bool) -> np.ndarray:
        A, self.cache = F.linear_activation_forward(A_prev, self.W, self.b, self.activation, layer=self.index)
        return A

    def backward(self, dA: np.ndarray, need_dA_prev: bool = True) -> np.ndarray | None:
        dZ = get_activation(self.activation).backward(dA, self.cache.Z, self.cache.A)
        return self.backward_dZ(dZ, need_dA_prev)

    def backward_dZ(self, dZ: np.ndarray, need_dA_prev: bool = True) -> np.ndarray | None:
        """Backward from dZ[l] directly (the output layer's fused A − Y)."""
        dA_prev, dW, db = F.linear_backward(dZ, self.cache, need_dA_prev)
        if self.l2:
            dW += self.l2 * self.W
        self.grads = {f"dW{self.index}": dW, f"db{self.index}": db}
        return dA_prev

    def penalty(self) -> float:
        if not self.l2:
            return 0.0
        W = self.W
        return 0.5 * self.l2 * float(np.vdot(W, W))

    def get_config(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "units": self.units,
            "activation": self.activation,
            "init": self.init,
            "l2": self.l2,
        }


class Activation(Layer):
    """A[l] = g(Z) on its own, e.g. after :class:`BatchNorm` (Dense → BatchNorm → Activation)."""

    kind = "Activation"

    def __init__(self, activation: str):
        super().__init__()
        get_activation(activation)
        self.activation = activation
        self.Z: np.ndarray | None = None
        self.A: np.ndarray | None = None

    def forward(self, A_prev: np.ndarray, training: bool) -> np.ndarray:
        self.Z = A_prev
        self.A = get_activation(self.activation).forward(A_prev)
        return self.A

    def backward(self, dA: np.ndarray, need_dA_prev: bool = True) -> np.ndarray | None:
        return get_activation(self.activation).backward(dA, self.Z, self.A)

    def backward_dZ(self, dZ: np.ndarray, need_dA_prev: bool = True) -> np.ndarray | None:
        """The output layer's fused dZ is already the gradient of this layer's input."""
        return dZ

    def get_config(self) -> dict[str, Any]:
        return {"type": self.kind, "activation": self.activation}


class Dropout(Layer):
    """Inverted dropout: in training, A = A_prev ⊙ D / (1 − p) with D ~ Bernoulli(1 − p) per
    entry; at inference, A = A_prev (the 1/(1 − p) keeps the expected activation unchanged).

    ``frozen = True`` reuses the last mask (for gradient checks: J must be a fixed function).
    """

    kind = "Dropout"

    def __init__(self, rate: float):
        super().__init__()
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ValueError(f"dropout rate must be in [0, 1); received {rate!r}")
        self.rate = float(rate)
        self.mask: np.ndarray | None = None
        self.frozen = False
        self.rng: np.random.Generator | None = None

    def build(self, n_in, index, weight_rng, dtype, default_init="scaled", noise_rng=None):
        self.rng = noise_rng if noise_rng is not None else np.random.default_rng()
        return super().build(n_in, index, weight_rng, dtype)

    def forward(self, A_prev: np.ndarray, training: bool) -> np.ndarray:
        if not training or self.rate == 0:
            self.mask = None
            return A_prev
        if not (self.frozen and self.mask is not None and self.mask.shape == A_prev.shape):
            keep = self.rng.random(A_prev.shape, dtype=A_prev.dtype) >= self.rate
            self.mask = keep * A_prev.dtype.type(1 / (1 - self.rate))
        return A_prev * self.mask

    def backward(self, dA: np.ndarray, need_dA_prev: bool = True) -> np.ndarray | None:
        return dA if self.mask is None else dA * self.mask

    def get_config(self) -> dict[str, Any]:
        return {"type": self.kind, "rate": self.rate}


class BatchNorm(Layer):
    """Batch normalisation of each unit over the m samples of a batch (Ioffe & Szegedy, 2015):

        x̂ = (X − μ) / √(σ² + ε),  A = γ ⊙ x̂ + β

    with μ, σ² the batch mean and (biased) variance of each row in training, and the running
    estimates at inference: running ← (1 − momentum)·running + momentum·batch (the variance
    estimate unbiased, m/(m − 1)), PyTorch's ``BatchNorm1d`` convention.

    Shape: ``(n, m)`` → ``(n, m)``; γ, β, running mean and variance ``(n, 1)``.
    """

    kind = "BatchNorm"

    def __init__(self, momentum: float = 0.1, eps: float = 1e-5):
        super().__init__()
        if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or not 0 < momentum <= 1:
            raise ValueError(f"BatchNorm momentum must be in (0, 1]; received {momentum!r}")
        check_positive(eps, "eps")
        self.momentum = float(momentum)
        self.eps = float(eps)
        self.cache: tuple[np.ndarray, np.ndarray] | None = None
        self.num_batches_tracked = 0

    def build(self, n_in, index, weight_rng, dtype, default_init="scaled", noise_rng=None):
        super().build(n_in, index, weight_rng, dtype)
        self.params = {f"gamma{index}": np.ones((n_in, 1), dtype), f"beta{index}": np.zeros((n_in, 1), dtype)}
        self.buffers = {
            f"running_mean{index}": np.zeros((n_in, 1), dtype),
            f"running_var{index}": np.ones((n_in, 1), dtype),
        }
        return n_in

    def forward(self, A_prev: np.ndarray, training: bool) -> np.ndarray:
        l = self.index
        gamma, beta = self.params[f"gamma{l}"], self.params[f"beta{l}"]
        running_mean, running_var = self.buffers[f"running_mean{l}"], self.buffers[f"running_var{l}"]
        m = A_prev.shape[1]
        if training:
            if m < 2:
                raise ValueError(
                    f"layer {l}: BatchNorm needs at least 2 samples per batch in training; received m = {m}"
                )
            mu = A_prev.mean(axis=1, keepdims=True)
            var = A_prev.var(axis=1, keepdims=True)
            running_mean *= 1 - self.momentum
            running_mean += self.momentum * mu
            running_var *= 1 - self.momentum
            running_var += (self.momentum * m / (m - 1)) * var
            self.num_batches_tracked += 1
        else:
            mu, var = running_mean, running_var
        inv_std = 1 / np.sqrt(var + self.eps)
        x_hat = (A_prev - mu) * inv_std
        self.cache = (x_hat, inv_std, training)
        return gamma * x_hat + beta

    def backward(self, dA: np.ndarray, need_dA_prev: bool = True) -> np.ndarray | None:
        l = self.index
        x_hat, inv_std, training = self.cache
        m = dA.shape[1]
        gamma = self.params[f"gamma{l}"]
        self.grads = {
            f"dgamma{l}": (dA * x_hat).sum(axis=1, keepdims=True) / m,
            f"dbeta{l}": dA.sum(axis=1, keepdims=True) / m,
        }
        if not need_dA_prev:
            return None
        if not training:  # μ and σ² are constants at inference
            return dA * (gamma * inv_std)
        # μ and σ² depend on every column, hence the two mean terms (the batch couples samples)
        mean_dA = dA.mean(axis=1, keepdims=True)
        mean_dA_x_hat = (dA * x_hat).mean(axis=1, keepdims=True)
        return (gamma * inv_std) * (dA - mean_dA - x_hat * mean_dA_x_hat)

    def get_config(self) -> dict[str, Any]:
        return {"type": self.kind, "momentum": self.momentum, "eps": self.eps}


LAYERS: dict[str, type[Layer]] = {cls.kind: cls for cls in (Dense, Activation, Dropout, BatchNorm)}


def layer_from_config(config: dict[str, Any]) -> Layer:
    """Rebuild a layer from :meth:`Layer.get_config`; unknown types or arguments raise ValueError."""
    from deepmat._checks import unknown_name

    if not isinstance(config, dict) or config.get("type") not in LAYERS:
        kind = config.get("type") if isinstance(config, dict) else config
        raise unknown_name("layer type", kind, LAYERS)
    kwargs = {k: v for k, v in config.items() if k != "type"}
    try:
        return LAYERS[config["type"]](**kwargs)
    except TypeError as error:
        raise ValueError(f"bad {config['type']} layer config {kwargs}: {error}") from None
