"""``BatchNorm``: batch normalisation of each unit (Ioffe & Szegedy, 2015), PyTorch's
``BatchNorm1d``; in ONNX folded into the Dense layer before it, or a
``BatchNormalization`` node."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from deepmat._checks import check_number
from deepmat.i18n import Words
from deepmat.layers.base import ExplainStep, Layer

#: batch norm of Z[l] is written Ẑ[l]; of A[l], A[l] again (like dropout's A[l] = A[l] ⊙ …)
NORMALISED_LETTER = {"Z": "Ẑ"}


class BatchNorm(Layer):
    """Batch normalisation of each unit over the m samples of a batch:

        x̂ = (X − μ) / √(σ² + ε),  A = γ ⊙ x̂ + β

    with μ, σ² the batch mean and (biased) variance of each row in training, and the running
    estimates at inference: running ← (1 − momentum)·running + momentum·batch (the variance
    estimate unbiased, m/(m − 1)), PyTorch's ``BatchNorm1d`` convention.

    Shape: ``(n, m)`` → ``(n, m)``; γ, β, running mean and variance ``(n, 1)``.
    """

    kind = "BatchNorm"
    couples_samples = True
    torch_keys: ClassVar[dict[str, tuple[str, str]]] = {
        "gamma": ("weight", "vector"),
        "beta": ("bias", "vector"),
        "running_mean": ("running_mean", "vector"),
        "running_var": ("running_var", "vector"),
    }
    torch_types: ClassVar[tuple[str, ...]] = ("BatchNorm1d",)

    def __init__(self, momentum: float = 0.1, eps: float = 1e-5):
        super().__init__()
        self.momentum = check_number(momentum, "BatchNorm momentum", 0, 1, low_open=True)
        self.eps = check_number(eps, "eps", 0, low_open=True)
        self.cache: tuple[np.ndarray, np.ndarray, bool] | None = None
        self.num_batches_tracked = 0

    def array_shapes(self, n_in: int, index: int) -> dict[str, tuple[int, ...]]:
        return {f"{stem}{index}": (n_in, 1) for stem in self.torch_keys}

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
        np.divide((dA * x_hat).sum(axis=1, keepdims=True), m, out=self.grad(f"gamma{l}"))
        np.divide(dA.sum(axis=1, keepdims=True), m, out=self.grad(f"beta{l}"))
        if not need_dA_prev:
            return None
        if not training:  # μ and σ² are constants at inference
            return dA * (gamma * inv_std)
        # μ and σ² depend on every column, hence the two mean terms (the batch couples samples)
        mean_dA = dA.mean(axis=1, keepdims=True)
        mean_dA_x_hat = (dA * x_hat).mean(axis=1, keepdims=True)
        return (gamma * inv_std) * (dA - mean_dA - x_hat * mean_dA_x_hat)

    def check_state(self, state: dict[str, np.ndarray], counters: dict[str, int]) -> None:
        """A running variance is a mean of squares: ≥ 0; the batch count is ≥ 0."""
        name = f"running_var{self.index}"
        var = state[name]
        if (var < 0).any():
            bad = tuple(int(i) for i in np.argwhere(var < 0)[0])
            raise ValueError(f"{name} must be ≥ 0 (a variance); received {var[bad]} at index {bad}")
        if counters.get("num_batches_tracked", 0) < 0:
            raise ValueError(f"num_batches_tracked must be ≥ 0; received {counters['num_batches_tracked']}")

    def get_counters(self) -> dict[str, int]:
        return {"num_batches_tracked": self.num_batches_tracked}

    def set_counters(self, counters: dict[str, int]) -> None:
        self.num_batches_tracked = int(counters["num_batches_tracked"])

    def get_config(self) -> dict[str, Any]:
        return {"type": self.kind, "momentum": self.momentum, "eps": self.eps}

    # -- other runtimes and the explanation ----------------------------------------------

    def to_torch(self, torch_context: Any) -> list[Any]:
        nn = torch_context.nn
        return [
            nn.BatchNorm1d(torch_context.n, eps=self.eps, momentum=self.momentum, **torch_context.options)
        ]

    @classmethod
    def from_torch(cls, module: Any, n: int | None) -> tuple[Layer, int | None]:
        if not module.affine or not module.track_running_stats or module.momentum is None:
            raise ValueError(
                "BatchNorm1d needs affine=True, track_running_stats=True and a momentum "
                f"(deepmat's BatchNorm); received affine={module.affine}, "
                f"track_running_stats={module.track_running_stats}, momentum={module.momentum}"
            )
        if n is not None and module.num_features != n:
            raise ValueError(f"BatchNorm1d(num_features={module.num_features}) receives {n} features")
        return cls(momentum=module.momentum, eps=module.eps), module.num_features

    def _onnx_arrays(self, graph: Any) -> tuple[np.ndarray, ...]:
        """(running mean, running variance, γ, β), float64 vectors ``(n,)``."""
        l = self.index
        return tuple(
            graph.array(f"{stem}{l}")[:, 0] for stem in ("running_mean", "running_var", "gamma", "beta")
        )

    def fold_linear(self, graph: Any, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The Dense layer before it, W·a + b, with the batch norm folded in: with
        s = γ / √(running_var + ε), s ⊙ (W·a + b − μ) + β = (diag(s)·W)·a + s ⊙ (b − μ) + β."""
        mean, var, gamma, beta = self._onnx_arrays(graph)
        s = gamma / np.sqrt(var + self.eps)
        return W * s[:, None], s * (b - mean) + beta

    def to_onnx(self, graph: Any, following: Layer | None) -> int:
        """``BatchNormalization`` in inference mode (running statistics)."""
        l = self.index
        mean, var, gamma, beta = self._onnx_arrays(graph)
        if graph.dtype == "float64":  # ε is a float32 attribute: move its rounding error into the variance
            var = var + (self.eps - float(np.float32(self.eps)))
        stems = {"gamma": gamma, "beta": beta, "running_mean": mean, "running_var": var}
        inputs = [graph.current, *(graph.constant(f"{stem}{l}", array) for stem, array in stems.items())]
        graph.node("BatchNormalization", inputs, f"batchnorm{l}", epsilon=self.eps)
        return 1

    def explain_steps(self, current: str, has_activation_layer: bool) -> list[ExplainStep]:
        return [BatchNormStep(self, current, NORMALISED_LETTER.get(current, current))]

    def summary_row(self) -> tuple[str, str, str, str]:
        l = self.index
        gamma, beta = self.params[f"gamma{l}"], self.params[f"beta{l}"]
        return f"{l} {self.kind}", f"γ {gamma.shape}", f"β {beta.shape}", "—"


#: The words of batch norm's explanation lines (:mod:`deepmat.i18n`: the same in Chinese).
WORDS = {
    "title": "batch norm",
    "statistics": "μ, σ² {shape}: mean and biased variance of each {axis} of {X} over the batch (running "
    "estimates at inference); ε = {eps:g}; write X̂[{l}] = ({X} − μ) / √(σ² + ε)",
    "one_sample": "one sample: μ, σ² are the running estimates (inference); training needs m ≥ 2",
    "couples": "batch norm couples the samples of a batch in training: see the vectorised form",
    "means": "mean over the batch, per {axis}: μ and σ² depend on every sample, hence the two mean terms",
    "check": "; γ[{l}] and β[{l}] are {shape}",
}
WORDS_ZH = {
    "title": "[[batch_norm]]",
    "statistics": "μ, σ² {shape}：{X} 的每一{axis}在这[[batch]][[sample]]上的均值和有偏方差（[[inference]]时用运行"
    "估计）；ε = {eps:g}；记 X̂[{l}] = ({X} − μ) / √(σ² + ε)",
    "one_sample": "[[one_sample]]：μ, σ² 是运行估计（[[inference]]）；训练需要 m ≥ 2",
    "couples": "训练时[[batch_norm]]把一[[batch]]中的[[sample]]联系在一起：见[[vectorised]]形式",
    "means": "mean 对这[[batch]][[sample]]求均值，每一{axis}：μ 和 σ² 依赖于每个[[sample]]，所以有两个 mean 项",
    "check": "；γ[{l}] 和 β[{l}] 是 {shape}",
}
words = Words(en=WORDS, zh=WORDS_ZH)


class BatchNormStep(ExplainStep):
    """Ẑ = γ ⊙ (Z − μ)/√(σ² + ε) + β, and the gradients dγ, dβ, dZ through the batch statistics."""

    kind = "bn"
    parameters = ("γ", "β")

    def title(self, g: Any, lang: str = "en") -> str:
        return words(lang)["title"]

    def forward(self, g: Any, w: Any) -> list[str]:
        l, X, O = g.l, w.name(self.src, g.l), w.name(self.out, g.l)
        lines = [f"{O} {w.data(g.n)} = γ[{l}] {w.param(g.n)} ⊙ ({X} − μ) / √(σ² + ε) + β[{l}] {w.param(g.n)}"]
        text = words(w.lang)
        if w.batch:
            lines.append(
                text["statistics"].format(
                    shape=w.param(g.n), axis=w.sample_axis, X=X, eps=self.layer.eps, l=l
                )
            )
        else:
            lines.append(text["one_sample"])
        return lines

    def backward(self, g: Any, w: Any, output: Any, dA0_note: str) -> list[str]:
        if not w.batch:
            return [words(w.lang)["couples"]]
        l, X, O = g.l, w.name(self.src, g.l), w.name(self.out, g.l)
        S, Xh = w.sum_over_samples, f"X̂[{l}]"
        return [
            f"dγ[{l}] {w.param(g.n)} = 1/m · {S} (d{O} ⊙ {Xh}) {w.data(g.n)}",
            f"dβ[{l}] {w.param(g.n)} = 1/m · {S} d{O} {w.data(g.n)}",
            f"d{X} {w.data(g.n)} = γ[{l}] ⊙ (d{O} − mean(d{O}) − {Xh} ⊙ mean(d{O} ⊙ {Xh})) / √(σ² + ε)",
            words(w.lang)["means"].format(axis=w.sample_axis),
        ]

    def check(self, g: Any, rows: bool, lang: str = "en") -> str:
        l, n = g.l, g.n
        shape = f"(1, n[{l}]) = (1, {n})" if rows else f"(n[{l}], 1) = ({n}, 1)"
        return words(lang)["check"].format(l=l, shape=shape)
