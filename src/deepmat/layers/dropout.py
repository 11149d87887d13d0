"""``Dropout``: inverted dropout, the identity at inference; PyTorch's ``Dropout(p)``, no ONNX
node."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from deepmat._checks import check_number
from deepmat.i18n import Words
from deepmat.layers.base import ExplainStep, Layer


class Dropout(Layer):
    """Inverted dropout: in training, A = A_prev ⊙ D / (1 − p) with D ~ Bernoulli(1 − p) per
    entry; at inference, A = A_prev (the 1/(1 − p) keeps the expected activation unchanged).

    ``freeze_noise()`` (``frozen = True``) reuses the last mask (for gradient checks: J must
    be a fixed function).

    Shape: ``(n, m)`` → ``(n, m)``; the mask D ``(n, m)``.
    """

    kind = "Dropout"
    torch_types: ClassVar[tuple[str, ...]] = ("Dropout",)

    def __init__(self, rate: float):
        super().__init__()
        self.rate = check_number(rate, "dropout rate", 0, 1, high_open=True)
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

    def freeze_noise(self, frozen: bool = True) -> None:
        self.frozen = frozen

    def share_noise(self, share: tuple[int, int] | None) -> None:
        self.batch_share = share if self.rate > 0 else None

    def skip_noise(self, m: int) -> None:
        if self.rate > 0:
            self.draw_mask(m, self.dtype)

    def get_config(self) -> dict[str, Any]:
        return {"type": self.kind, "rate": self.rate}

    def describe(self) -> str:
        return f"Dropout({self.rate:g})"

    def to_torch(self, torch_context: Any) -> list[Any]:
        return [torch_context.nn.Dropout(self.rate)]

    @classmethod
    def from_torch(cls, module: Any, n: int | None) -> tuple[Layer, int | None]:
        return cls(module.p), None

    def to_onnx(self, graph: Any, following: Layer | None) -> int:
        return 1  # the identity at inference: no node

    def explain_steps(self, current: str, has_activation_layer: bool) -> list[ExplainStep]:
        return [DropoutStep(self, current, current)]

    def summary_row(self) -> tuple[str, str, str, str]:
        return f"{self.index} {self.kind} p={self.rate:g}", "—", "—", "—"


#: The words of dropout's explanation lines (:mod:`deepmat.i18n`: the same in Chinese).
WORDS = {
    "title": "dropout p = {rate:g}",
    "mask": "{D} {shape}: keep-mask, each entry 1 with probability 1 − p = {keep:g} (p = {rate:g}); "
    "training only, at inference {X} is unchanged",
}
WORDS_ZH = {
    "title": "[[dropout]] p = {rate:g}",
    "mask": "{D} {shape}：保留掩码，每个元素以[[probability]] 1 − p = {keep:g} 取 1（p = {rate:g}）；"
    "只在训练时使用，[[inference]]时 {X} 不变",
}
words = Words(en=WORDS, zh=WORDS_ZH)


class DropoutStep(ExplainStep):
    """X ⊙ D / (1 − p) forward and backward."""

    kind = "dropout"

    def title(self, g: Any, lang: str = "en") -> str:
        return words(lang)["title"].format(rate=self.layer.rate)

    def _mask(self, g: Any, w: Any) -> str:
        return f"{'D' if w.batch else 'd'}[{g.l}]"

    def forward(self, g: Any, w: Any) -> list[str]:
        X, D, rate = w.name(self.src, g.l), self._mask(g, w), self.layer.rate
        return [
            f"{X} {w.data(g.n)} = {X} ⊙ {D} / (1 − p)",
            words(w.lang)["mask"].format(D=D, shape=w.data(g.n), keep=1 - rate, rate=rate, X=X),
        ]

    def backward(self, g: Any, w: Any, output: Any, dA0_note: str) -> list[str]:
        X = w.name(self.src, g.l)
        return [f"d{X} {w.data(g.n)} = d{X} ⊙ {self._mask(g, w)} / (1 − p)"]
