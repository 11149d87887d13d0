"""``Activation``: A = g(Z) as a layer of its own, e.g. after batch normalisation
(Dense → BatchNorm → Activation); and the explanation step every activation shares (a Dense
layer's g[l] is written by the same :class:`ActivationStep`).

g is any name of :data:`deepmat.activations.ACTIVATIONS`; its PyTorch module and ONNX node
come from the tables of :mod:`deepmat.torch_interop` and :mod:`deepmat.onnx_export`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deepmat.activations import get_activation
from deepmat.i18n import Words
from deepmat.layers.base import ExplainStep, Layer, memory_order


class Activation(Layer):
    """A[l] = g(Z) on its own, e.g. after :class:`BatchNorm` (Dense → BatchNorm → Activation).

    Shape: ``(n, m)`` → ``(n, m)``.
    """

    kind = "Activation"

    def __init__(self, activation: str):
        super().__init__()
        get_activation(activation)
        self.activation = activation
        self.Z: np.ndarray | None = None
        self.A: np.ndarray | None = None

    def forward(self, A_prev: np.ndarray, training: bool) -> np.ndarray:
        self.Z = A_prev
        A = self.scratch("A", A_prev.shape, memory_order(A_prev))
        self.activate(A_prev, A)
        self.A = A
        return A

    def backward(self, dA: np.ndarray, need_dA_prev: bool = True) -> np.ndarray | None:
        return get_activation(self.activation).backward(dA, self.Z, self.A)

    def backward_dZ(self, dZ: np.ndarray, need_dA_prev: bool = True) -> np.ndarray | None:
        """The output layer's fused dZ is already the gradient of this layer's input."""
        return dZ

    def activation_input(self) -> np.ndarray:
        return self.Z

    def get_config(self) -> dict[str, Any]:
        return {"type": self.kind, "activation": self.activation}

    def describe(self) -> str:
        return f"Activation({self.activation})"

    def torch_module_count(self) -> int:
        return 0 if self.activation == "identity" else 1

    def to_torch(self, torch_context: Any) -> list[Any]:
        return torch_context.activation_modules(self.activation)

    def to_onnx(self, graph: Any, following: Layer | None) -> int:
        graph.activation(self.activation, f"layer{graph.position}")
        return 1

    def explain_steps(self, current: str, has_activation_layer: bool) -> list[ExplainStep]:
        return [ActivationStep(self, current, "A", self.activation)]

    def summary_row(self) -> tuple[str, str, str, str]:
        return f"{self.index} {self.kind}", "—", "—", self.activation


#: The words of an activation's explanation notes (:mod:`deepmat.i18n`: the same in Chinese).
WORDS = {
    "softmax": "softmax over each {axis} (one sample's {n} scores): a_k = e^(z_k) / Σ_j e^(z_j)",
    "softmax_backward": "softmax's Jacobian diag(a) − a·aᵀ, per sample: Σ_units sums over the sample's units",
    "row": "row",
    "column": "column",
}
WORDS_ZH = {
    "softmax": "softmax 作用于每一{axis}（[[one_sample]]的 {n} 个分数）：a_k = e^(z_k) / Σ_j e^(z_j)",
    "softmax_backward": "softmax 的雅可比矩阵 diag(a) − a·aᵀ，逐个[[sample]]：Σ_units 对该[[sample]]的各[[unit]]求和",
    "row": "[[row]]",
    "column": "[[column]]",
}
words = Words(en=WORDS, zh=WORDS_ZH)


class ActivationStep(ExplainStep):
    """A = g(X) and dX = dA ⊙ g'(X) (softmax through its Jacobian; the output layer's dZ[L]
    from the loss, fused to A[L] − Y for the canonical pairs)."""

    kind = "act"

    def __init__(self, layer: Layer, src: str, out: str, activation: str) -> None:
        super().__init__(layer, src, out)
        self.activation = activation

    def title(self, g: Any, lang: str = "en") -> str:
        return self.activation

    def forward(self, g: Any, w: Any) -> list[str]:
        X, O = w.name(self.src, g.l), w.name(self.out, g.l)
        lines = [f"{O} {w.data(g.n)} = {self.activation}({X})"]
        if self.activation == "softmax":
            text = words(w.lang)
            lines.append(text["softmax"].format(axis=text["row" if w.rows else "column"], n=g.n))
        return lines

    def backward(self, g: Any, w: Any, output: Any, dA0_note: str) -> list[str]:
        """``output``: the output pair (``activation``, ``loss``, ``fused``, ``why``,
        ``gradient`` — dA[L] written with ``{A}`` and ``{Y}``) when this is the last step."""
        X, O = w.name(self.src, g.l), w.name(self.out, g.l)
        lines: list[str] = []
        if output is not None:
            Y = w.name("Y")
            if output.fused:
                lines = [f"d{X} {w.data(g.n)} = {O} − {Y} {w.data(g.n)}"]
                if w.batch:
                    lines.append(f"{output.activation} + {output.loss}: {output.why}")
                return lines
            lines = [f"d{O} {w.data(g.n)} = " + output.gradient.format(A=O, Y=Y)]
        if self.activation == "softmax":
            lines += [
                f"d{X} {w.data(g.n)} = {O} ⊙ (d{O} − Σ_units({O} ⊙ d{O}))",
                words(w.lang)["softmax_backward"],
            ]
        else:
            lines.append(f"d{X} {w.data(g.n)} = d{O} ⊙ {self.activation}'({X})")
        return lines
