"""Layers: the stateful pieces a :class:`deepmat.Network` is stacked from.

Each layer works in the seeds' column layout — its input A_prev is ``(n_in, m)`` — and has

- ``forward(A_prev, training) -> A``, keeping what backward needs (the SPEC §2 cache);
- ``backward(dA, need_dA_prev=True) -> dA_prev``: given ∂S/∂A for S = Σᵢ L(a⁽ⁱ⁾, y⁽ⁱ⁾), the
  per-sample losses summed (the seeds' dA), it stores the gradients of the cost J = S/m in
  ``grads`` and returns ∂S/∂A_prev;
- ``infer(A_prev) -> A``: the inference-mode forward, keeping nothing;
- ``params`` / ``grads`` / ``buffers``: dicts of arrays keyed by the seeds' names with the
  layer number l, e.g. ``W2``, ``dW2``, ``gamma2``, ``running_mean2``.

Speed without a second code path: each gradient is written into the layer's own ``grads``
array (``out=``), so a :class:`deepmat.Network` can make every ``dW``/``db`` a view of one
flat gradient buffer that the optimiser updates in one go; and while a ``workspace`` is
active (during ``fit``) the training forward and backward write Z, A, dZ and dA_prev into
buffers allocated once per batch size instead of allocating new arrays on every batch.

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


def z_order(n_out: int, m: int) -> str:
    """The memory order of a Dense layer's Z[l], A[l] and dZ[l] ``(n[l], m)``: column-major
    ("F") when the layer has fewer units than the batch has samples, row-major ("C") otherwise.

    Either way the arrays are (n[l], m) and hold the same numbers; the order only decides
    which way round OpenBLAS computes W·A (see :meth:`Dense._linear`). Measured on the cat
    model's first layer (n[1] = 20, m = 209, n[0] = 12288, float64): 1.4 ms column-major
    against 2.4 ms row-major; for n[l] ≥ m the row-major product is as fast or faster. A
    fixed rule, not a timing, so that the same inputs always give the same bits.
    """
    return "F" if n_out < m else "C"


class Layer:
    """Base class. Subclasses set ``kind`` and implement build/forward/backward."""

    kind: ClassVar[str] = "Layer"

    def __init__(self) -> None:
        self.index = 0
        self.n_out = 0
        self.dtype = np.dtype("float64")
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        #: scratch arrays by (name, shape) while training inside ``fit``; ``None`` otherwise
        self.workspace: dict[tuple[str, tuple[int, ...]], np.ndarray] | None = None

    def _scratch(self, name: str, shape: tuple[int, ...], order: str = "C") -> np.ndarray:
        """An array to write an intermediate into: the workspace's (reused from batch to batch)
        while one is active, else a new one (so results handed to a caller are never reused)."""
        if self.workspace is None:
            return np.empty(shape, self.dtype, order=order)
        key = (name, shape, order)
        array = self.workspace.get(key)
        if array is None:
            array = self.workspace[key] = np.empty(shape, self.dtype, order=order)
        return array

    def _grad(self, name: str) -> np.ndarray:
        """The array that holds ∂J/∂``name`` (shape of the parameter), created on first use."""
        key = f"d{name}"
        array = self.grads.get(key)
        if array is None or array.shape != self.params[name].shape:
            array = self.grads[key] = np.empty_like(self.params[name])
        return array

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
        self.dtype = np.dtype(dtype)
        return n_in

    def forward(self, A_prev: np.ndarray, training: bool) -> np.ndarray:
        raise NotImplementedError

    def infer(self, A_prev: np.ndarray) -> np.ndarray:
        """The inference-mode output, without keeping a cache for backward."""
        return self.forward(A_prev, training=False)

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
        #: (1/m)·dZ[l] of the last backward pass
        self.dZ_mean: np.ndarray | None = None
        #: set by the trainer in full-batch gradient descent (deepmat.fullbatch.InputGram):
        #: the training forward then takes W·A[0] from it instead of multiplying
        self.input_gram: Any = None

    def build(self, n_in, index, weight_rng, dtype, default_init="scaled", noise_rng=None):
        super().build(n_in, index, weight_rng, dtype)
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

    def _check_input(self, A_prev: np.ndarray, W: np.ndarray) -> None:
        if A_prev.ndim != 2 or A_prev.shape[0] != W.shape[1] or A_prev.dtype != W.dtype:
            raise ValueError(
                f"layer {self.index}: A{self.index - 1} must be ({W.shape[1]}, m) {W.dtype} to match "
                f"W{self.index} {W.shape}; received {A_prev.shape} {A_prev.dtype}"
            )

    def _linear(self, A_prev: np.ndarray, Z: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Z[l] = W[l]·A[l-1] + b[l], written into ``Z`` (n[l], m).

        When Z is column-major (see :func:`z_order`) the product is computed as its transpose,
        Zᵀ = A[l-1]ᵀ·W[l]ᵀ, into Zᵀ (row-major): the same numbers, but OpenBLAS runs a
        product with few output rows (n[l] < m) up to 1.8× faster this way round.
        """
        if Z.flags.f_contiguous and not Z.flags.c_contiguous:
            np.matmul(A_prev.T, W.T, out=Z.T)
        else:
            np.matmul(W, A_prev, out=Z)
        Z += b
        return Z

    def forward(self, A_prev: np.ndarray, training: bool) -> np.ndarray:
        """Z[l] = W[l]·A[l-1] + b[l], A[l] = g[l](Z[l]); keeps the cache (A[l-1], W, b, Z, A)."""
        W, b = self.W, self.b
        self._check_input(A_prev, W)
        shape = (self.units, A_prev.shape[1])
        order = z_order(*shape)
        Z = self._scratch("Z", shape, order)
        if self.input_gram is not None and training and A_prev.shape == self.input_gram.A0.shape:
            self.input_gram.linear(Z)
        else:
            self._linear(A_prev, Z, W, b)
        g = get_activation(self.activation)
        A = Z if g.name == "identity" else g.forward(Z, out=self._scratch("A", shape, order))
        self.cache = F.LayerCache(A_prev, W, b, Z, A)
        return A

    def infer(self, A_prev: np.ndarray) -> np.ndarray:
        """A[l] = g[l](W[l]·A[l-1] + b[l]), computed in one array (Z is not kept)."""
        W, b = self.W, self.b
        self._check_input(A_prev, W)
        m = A_prev.shape[1]
        Z = self._linear(A_prev, np.empty((self.units, m), self.dtype, order=z_order(self.units, m)), W, b)
        return get_activation(self.activation).forward(Z, out=Z)

    def backward(self, dA: np.ndarray, need_dA_prev: bool = True) -> np.ndarray | None:
        """dZ[l] = dA[l] ⊙ g[l]'(Z[l]), then :meth:`backward_dZ`."""
        cache, g = self.cache, get_activation(self.activation)
        out = None if g.name == "identity" else self._scratch("dZ", dA.shape, z_order(*dA.shape))
        return self.backward_dZ(g.backward(dA, cache.Z, cache.A, out=out), need_dA_prev)

    def backward_dZ(self, dZ: np.ndarray, need_dA_prev: bool = True) -> np.ndarray | None:
        """Backward from dZ[l] directly (the output layer's fused A − Y) — SPEC §3:

        dW[l] = (1/m)·dZ[l]·A[l-1]ᵀ (+ λ·W[l]),  db[l] = (1/m)·Σ_columns dZ[l],
        dA[l-1] = W[l]ᵀ·dZ[l] (only when ``need_dA_prev``).

        The 1/m is applied to dZ (n[l] × m numbers) rather than to dW (n[l] × n[l-1]).
        Writes into ``grads`` and returns dA[l-1] ``(n[l-1], m)``.
        """
        cache, l = self.cache, self.index
        if dZ.shape != cache.Z.shape:
            raise ValueError(f"layer {l}: dZ is {dZ.shape} but Z{l} is {cache.Z.shape}")
        dZ_mean = np.multiply(dZ, 1 / dZ.shape[1], out=self._scratch("dZ/m", dZ.shape, z_order(*dZ.shape)))
        self.dZ_mean = dZ_mean
        dW = np.matmul(dZ_mean, cache.A_prev.T, out=self._grad(f"W{l}"))
        np.sum(dZ_mean, axis=1, keepdims=True, out=self._grad(f"b{l}"))
        if self.l2:
            dW += self.l2 * self.W
        if not need_dA_prev:
            return None
        A_prev = cache.A_prev  # dA[l-1] in A[l-1]'s memory order, for the elementwise dZ[l-1]
        order = "F" if A_prev.flags.f_contiguous and not A_prev.flags.c_contiguous else "C"
        dA_prev = self._scratch("dA_prev", A_prev.shape, order)
        if order == "F":
            np.matmul(dZ.T, self.W, out=dA_prev.T)
        else:
            np.matmul(self.W.T, dZ, out=dA_prev)
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
        self.A = get_activation(self.activation).forward(A_prev, out=self._scratch("A", A_prev.shape))
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
        #: in a data-parallel run, (offset, B): this rank's columns start at ``offset`` of a
        #: global batch of B; the mask is drawn for all B columns, as one process would draw
        #: it, and this rank keeps its own (deepmat.distributed)
        self.batch_share: tuple[int, int] | None = None

    def build(self, n_in, index, weight_rng, dtype, default_init="scaled", noise_rng=None):
        self.rng = noise_rng if noise_rng is not None else np.random.default_rng()
        return super().build(n_in, index, weight_rng, dtype)

    def forward(self, A_prev: np.ndarray, training: bool) -> np.ndarray:
        if not training or self.rate == 0:
            self.mask = None
            return A_prev
        if not (self.frozen and self.mask is not None and self.mask.shape == A_prev.shape):
            if self.batch_share is None:
                keep = self.rng.random(A_prev.shape, dtype=A_prev.dtype) >= self.rate
            else:
                offset, total = self.batch_share
                keep = self.draw_mask(total, A_prev.dtype)[:, offset : offset + A_prev.shape[1]]
            self.mask = keep * A_prev.dtype.type(1 / (1 - self.rate))
        return A_prev * self.mask

    def draw_mask(self, m: int, dtype: np.dtype) -> np.ndarray:
        """D for a batch of m columns, ``(n, m)`` booleans (True: kept)."""
        return self.rng.random((self.n_out, m), dtype=dtype) >= self.rate

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
        np.divide((dA * x_hat).sum(axis=1, keepdims=True), m, out=self._grad(f"gamma{l}"))
        np.divide(dA.sum(axis=1, keepdims=True), m, out=self._grad(f"beta{l}"))
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
