"""``Dense``: the fully-connected layer of the seeds, Z[l] = W[l]·A[l-1] + b[l], A[l] = g[l](Z[l]).

Besides the maths (SPEC §2–§3) the layer owns its other forms: the PyTorch ``Linear`` (plus
its activation's module) with ``state_dict`` keys ``i.weight`` = W[l] and ``i.bias`` = b[l]
flattened; the ONNX ``Gemm(A, W, b, transB=1)`` (a following batch norm folded in); and its
lines of :func:`deepmat.explain.explain`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from deepmat import functional as F
from deepmat._checks import check_number
from deepmat.activations import LEAKY_RELU_SLOPE, get_activation
from deepmat.i18n import Words
from deepmat.initializers import check_init, draw_weights
from deepmat.layers.activation import ActivationStep
from deepmat.layers.base import ExplainStep, Layer, memory_order, z_order


class Dense(Layer):
    """A fully-connected layer: Z[l] = W[l]·A[l-1] + b[l], A[l] = g[l](Z[l]) (SPEC §2).

    Args:
        units: n[l].
        activation: g[l], a name from :data:`deepmat.activations.ACTIVATIONS`.
        init: weight initialiser (``None``: the network's ``init``).
        l2: L2 penalty λ: adds (λ/2)·‖W[l]‖²_F to J and λ·W[l] to dW[l] (``None``: the
            network's ``l2``). PyTorch's ``weight_decay=λ`` for SGD is the same step.

    Shape: A_prev ``(n[l-1], m)`` → A ``(n[l], m)``; W ``(n[l], n[l-1])``, b ``(n[l], 1)``.

    >>> import numpy as np
    >>> dense = Dense(3, activation="relu")
    >>> dense.build(n_in=2, index=1, weight_rng=np.random.RandomState(0), dtype=np.dtype("float64"))
    3
    >>> dense.forward(np.ones((2, 5)), training=True).shape
    (3, 5)
    """

    kind = "Dense"
    numbered = True
    torch_keys: ClassVar[dict[str, tuple[str, str]]] = {"W": ("weight", "W"), "b": ("bias", "b")}
    torch_types: ClassVar[tuple[str, ...]] = ("Linear",)

    def __init__(
        self, units: int, activation: str = "relu", init: str | None = None, l2: float | None = None
    ):
        super().__init__()
        self.units = check_number(units, "units", 1, integer=True)
        get_activation(activation)
        if init is not None:
            check_init(init)
        self.activation = activation
        self.init = init
        self.l2 = None if l2 is None else check_number(l2, "l2", 0)
        self.cache: F.LayerCache | None = None
        #: (1/m)·dZ[l] of the last backward pass
        self.dZ_mean: np.ndarray | None = None
        #: set by the trainer in full-batch gradient descent (deepmat.fullbatch.InputGram):
        #: the training forward then takes W·A[0] from it instead of multiplying
        self.input_gram: Any = None

    def out_units(self, n_in: int) -> int:
        return self.units

    def array_shapes(self, n_in: int, index: int) -> dict[str, tuple[int, ...]]:
        return {f"W{index}": (self.units, n_in), f"b{index}": (self.units, 1)}

    def configure(self, defaults: dict[str, Any]) -> None:
        if self.l2 is None:
            self.l2 = defaults.get("l2") or None

    def build(self, n_in, index, weight_rng, dtype, default_init="scaled", noise_rng=None):
        super().build(n_in, index, weight_rng, dtype)
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

    # -- the maths -----------------------------------------------------------------------

    def _check_input(self, A_prev: np.ndarray, W: np.ndarray) -> None:
        if A_prev.ndim != 2 or A_prev.shape[0] != W.shape[1] or A_prev.dtype != W.dtype:
            raise ValueError(
                f"layer {self.index}: A{self.index - 1} must be ({W.shape[1]}, m) {W.dtype} to match "
                f"W{self.index} {W.shape}; received {A_prev.shape} {A_prev.dtype}"
            )

    @staticmethod
    def product(A_prev: np.ndarray, Z: np.ndarray, W: np.ndarray) -> np.ndarray:
        """W[l]·A[l-1], written into ``Z`` (n[l], m).

        When Z is column-major (see :func:`z_order`) the product is computed as its transpose,
        Zᵀ = A[l-1]ᵀ·W[l]ᵀ, into Zᵀ (row-major): the same numbers, but OpenBLAS runs a
        product with few output rows (n[l] < m) up to 1.8× faster this way round.
        """
        if memory_order(Z) == "F":
            np.matmul(A_prev.T, W.T, out=Z.T)
        else:
            np.matmul(W, A_prev, out=Z)
        return Z

    def bias_activation(self, Z: np.ndarray, A: np.ndarray, check: bool = False) -> bool:
        """Z ← Z + b[l], then A = g[l](Z) (``A`` may be ``Z``; both in :func:`z_order`):
        :meth:`Layer.activate` with the layer's bias. With ``check``, returns whether Z + b[l]
        is finite; else True."""
        return self.activate(Z, A, self.b, check)

    def forward(self, A_prev: np.ndarray, training: bool) -> np.ndarray:
        """Z[l] = W[l]·A[l-1] + b[l], A[l] = g[l](Z[l]); keeps the cache (A[l-1], W, b, Z, A)."""
        W, b = self.W, self.b
        self._check_input(A_prev, W)
        shape = (self.units, A_prev.shape[1])
        order = z_order(*shape)
        Z = self.scratch("Z", shape, order)
        if self.input_gram is not None and training and A_prev.shape == self.input_gram.A0.shape:
            self.input_gram.linear(Z)
        else:
            self.product(A_prev, Z, W)
        A = Z if self.activation == "identity" else self.scratch("A", shape, order)
        self.bias_activation(Z, A)
        self.cache = F.LayerCache(A_prev, W, b, Z, A)
        return A

    def infer(self, A_prev: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """A[l] = g[l](W[l]·A[l-1] + b[l]), computed in one array (Z is not kept): ``out``
        ``(n[l], m)`` in :func:`z_order` when given (the lean inference path's buffer), else a
        new one."""
        W = self.W
        self._check_input(A_prev, W)
        m = A_prev.shape[1]
        Z = np.empty((self.units, m), self.dtype, order=z_order(self.units, m)) if out is None else out
        self.bias_activation(self.product(A_prev, Z, W), Z)
        return Z

    def activation_input(self) -> np.ndarray:
        return self.cache.Z

    def backward(self, dA: np.ndarray, need_dA_prev: bool = True) -> np.ndarray | None:
        """dZ[l] = dA[l] ⊙ g[l]'(Z[l]) (with the Numba kernels one fused pass,
        :func:`deepmat.kernels.passes.activation_backward`), then :meth:`backward_dZ`."""
        cache = self.cache
        if self.activation == "identity":
            return self.backward_dZ(dA, need_dA_prev)
        order = z_order(*dA.shape)
        dZ = self.scratch("dZ", dA.shape, order)
        found = None if self.activation == "softmax" else self.fused_code(order, dA)
        if found is None:
            get_activation(self.activation).backward(dA, cache.Z, cache.A, out=dZ)
        else:
            fast, code, rows = found
            arrays = (dA, cache.Z, cache.A, dZ) if rows else (dA.T, cache.Z.T, cache.A.T, dZ.T)
            fast.activation_backward(*arrays, code, dA.dtype.type(LEAKY_RELU_SLOPE))
        return self.backward_dZ(dZ, need_dA_prev)

    def backward_dZ(self, dZ: np.ndarray, need_dA_prev: bool = True) -> np.ndarray | None:
        """Backward from dZ[l] directly (the output layer's fused A − Y) — SPEC §3:

        dW[l] = (1/m)·dZ[l]·A[l-1]ᵀ (+ λ·W[l]),  db[l] = (1/m)·Σ_columns dZ[l],
        dA[l-1] = W[l]ᵀ·dZ[l] (only when ``need_dA_prev``).

        The 1/m is applied to dZ (n[l] × m numbers) rather than to dW (n[l] × n[l-1]); with the
        Numba kernels (1/m)·dZ and db are one pass (:func:`deepmat.kernels.passes.mean_and_bias_gradient`).
        Writes into ``grads`` and returns dA[l-1] ``(n[l-1], m)``.
        """
        l = self.index
        if dZ.shape != self.cache.Z.shape:
            raise ValueError(f"layer {l}: dZ is {dZ.shape} but Z{l} is {self.cache.Z.shape}")
        order = z_order(*dZ.shape)
        dZ_mean = self.scratch("dZ/m", dZ.shape, order)
        db = self.grad(f"b{l}")
        found = self.fused_code(order, dZ)
        if found is None:
            np.multiply(dZ, 1 / dZ.shape[1], out=dZ_mean)
            np.sum(dZ_mean, axis=1, keepdims=True, out=db)
        else:
            fast, _, rows = found
            inv_m = dZ.dtype.type(1 / dZ.shape[1])
            fast.mean_and_bias_gradient(
                dZ if rows else dZ.T, dZ_mean if rows else dZ_mean.T, db[:, 0], rows, inv_m
            )
        return self.weight_gradients(dZ, dZ_mean, need_dA_prev)

    def weight_gradients(self, dZ: np.ndarray, dZ_mean: np.ndarray, need_dA_prev: bool) -> np.ndarray | None:
        """dW[l] = (1/m)·dZ[l]·A[l-1]ᵀ (+ λ·W[l]) from ``dZ_mean`` = (1/m)·dZ[l], and dA[l-1] =
        W[l]ᵀ·dZ[l] when ``need_dA_prev`` (db[l] is in ``grads`` already)."""
        cache, l = self.cache, self.index
        self.dZ_mean = dZ_mean
        if self.input_gram is None or not self.input_gram.defers(cache.A_prev):
            dW = np.matmul(dZ_mean, cache.A_prev.T, out=self.grad(f"W{l}"))
            if self.l2:
                dW += self.l2 * self.W
        # else full-batch gradient descent defers W[1]'s step (deepmat.fullbatch): dW[1] stays 0
        if not need_dA_prev:
            return None
        A_prev = cache.A_prev  # dA[l-1] in A[l-1]'s memory order, for the elementwise dZ[l-1]
        order = memory_order(A_prev)
        dA_prev = self.scratch("dA_prev", A_prev.shape, order)
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

    # -- config --------------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "units": self.units,
            "activation": self.activation,
            "init": self.init,
            "l2": self.l2,
        }

    def describe(self) -> str:
        return f"Dense({self.units}, {self.activation})"

    # -- other runtimes and the explanation ----------------------------------------------

    def torch_module_count(self) -> int:
        return 1 if self.activation == "identity" else 2

    def to_torch(self, torch_context: Any) -> list[Any]:
        """``Linear(n[l-1], n[l])``, then g[l]'s module (none for identity)."""
        linear = torch_context.nn.Linear(torch_context.n, self.units, **torch_context.options)
        return [linear, *torch_context.activation_modules(self.activation)]

    @classmethod
    def from_torch(cls, module: Any, n: int | None) -> tuple[Layer, int | None]:
        """``Linear`` → ``Dense(out_features, "identity")``; the activation module after it, if
        any, becomes the layer's g (:mod:`deepmat.torch_interop`)."""
        if module.bias is None:
            raise ValueError("Linear without bias (bias=False) — deepmat's Dense layers have b[l]")
        if n is not None and module.in_features != n:
            raise ValueError(f"Linear(in_features={module.in_features}) receives {n} features")
        return cls(module.out_features, "identity"), module.in_features

    def to_onnx(self, graph: Any, following: Layer | None) -> int:
        """``Gemm(A, W[l], b[l], transB=1)`` and g[l]'s node; a batch norm right after an
        identity Dense is folded into W[l] and b[l] (:meth:`BatchNorm.fold_linear`)."""
        l = self.index
        W, b = graph.array(f"W{l}"), graph.array(f"b{l}")[:, 0]
        covered = 1
        fold = getattr(following, "fold_linear", None)
        if self.activation == "identity" and fold is not None:
            W, b = fold(graph, W, b)
            covered = 2  # the batch norm is in the Gemm now
        inputs = [graph.current, graph.constant(f"W{l}", W), graph.constant(f"b{l}", b)]
        graph.node("Gemm", inputs, f"dense{l}_gemm", transB=1)
        graph.activation(self.activation, f"dense{l}")
        return covered

    def explain_steps(self, current: str, has_activation_layer: bool) -> list[ExplainStep]:
        steps: list[ExplainStep] = [LinearStep(self, "A", "Z")]
        if not has_activation_layer or self.activation != "identity":
            steps.append(ActivationStep(self, "Z", "A", self.activation))
        return steps

    def summary_row(self) -> tuple[str, str, str, str]:
        return f"{self.index} {self.kind}", str(self.W.shape), str(self.b.shape), self.activation


#: The words of a Dense layer's explanation lines (:mod:`deepmat.i18n`: the same in Chinese).
WORDS = {"l2": "L2 penalty (λ/2)·‖W[{l}]‖²_F in J, λ = {l2:g}"}
WORDS_ZH = {"l2": "J 中的[[l2_penalty]] (λ/2)·‖W[{l}]‖²_F，λ = {l2:g}"}
words = Words(en=WORDS, zh=WORDS_ZH)


class LinearStep(ExplainStep):
    """Z[l] = W[l]·A[l-1] + b[l] and its gradients dW[l], db[l], dA[l-1]."""

    kind = "linear"
    parameters = ("W", "b")

    def title(self, g: Any, lang: str = "en") -> str:
        return f"Dense {g.n_prev} → {g.n}"

    def forward(self, g: Any, w: Any) -> list[str]:
        l = g.l
        A_prev, Z = w.name("A", l - 1), w.name("Z", l)
        if w.rows:
            return [
                f"{Z} {w.data(g.n)} = {A_prev} {w.data(g.n_prev)} · W[{l}] {w.weight(g)} + b[{l}] {w.vector(g.n)}"
            ]
        return [
            f"{Z} {w.data(g.n)} = W[{l}] {w.weight(g)} · {A_prev} {w.data(g.n_prev)} + b[{l}] {w.vector(g.n)}"
        ]

    def backward(self, g: Any, w: Any, output: Any, dA0_note: str) -> list[str]:
        l = g.l
        A_prev, dZ, dA_prev = w.name("A", l - 1), w.name("dZ", l), f"d{w.name('A', l - 1)}"
        if w.rows:
            dW = f"{A_prev}ᵀ {w.data_T(g.n_prev)} · {dZ} {w.data(g.n)}"
            dA = f"{dZ} {w.data(g.n)} · W[{l}]ᵀ {w.weight_T(g)}"
        else:
            dW = f"{dZ} {w.data(g.n)} · {A_prev}ᵀ {w.data_T(g.n_prev)}"
            dA = f"W[{l}]ᵀ {w.weight_T(g)} · {dZ} {w.data(g.n)}"
        if w.batch:
            lines = [
                f"dW[{l}] {w.weight(g)} = 1/m · {dW}",
                f"db[{l}] {w.param(g.n)} = 1/m · {w.sum_over_samples} {dZ} {w.data(g.n)}",
            ]
        else:
            lines = [f"dW[{l}] {w.weight(g)} = {dW}", f"db[{l}] = {dZ}"]
        if self.layer.l2:
            note = words(w.lang)["l2"].format(l=l, l2=self.layer.l2)
            lines.append(f"dW[{l}] += λ·W[{l}]  ({note})")
        lines.append(f"{dA_prev} {w.data(g.n_prev)} = {dA}")
        if l == 1 and w.batch:
            lines.append(dA0_note)
        return lines
