"""A network's architecture as text a learner reads beside the seeds' equations (SPEC §1–§3).

- :func:`summary`: a table of a :class:`~deepmat.Network`'s layers — output shape, W and b
  (γ and β for batch norm) shapes, parameter counts, activations — and its totals.
- :func:`explain`: for every Dense layer l = 1..L, the forward and backward equations with
  their concrete shapes, one sample at a time and vectorised over m samples, in the seeds'
  column layout or in seed 004's row layout.

Both speak English or Chinese (``lang="zh"``: the words around the equations in the seeds'
terms, :mod:`deepmat.i18n`); the equations and shapes are the same in either.

Notation: ``×`` between dimensions, ``·`` matrix product, ``⊙`` elementwise product,
``ᵀ`` transpose. dZ and dA are the gradients of the summed loss Σᵢ L(ŷ⁽ⁱ⁾, y⁽ⁱ⁾), as in the
seeds (dZ[L] = A[L] − Y), so the 1/m of the cost J appears in dW and db.

>>> text = explain([12288, 20, 7, 5, 1], m=209)
>>> "Z[1] (20×209) = W[1] (20×12288) · A[0] (12288×209) + b[1] (20×1, broadcast)" in text
True
>>> print(summary(Network([2, 3, 1])))
Network [2, 3, 1]: one sample per column inside, outputs (n[l], m) for a batch of m samples
layer    output shape  W / γ   b / β   parameters  activation
─────────────────────────────────────────────────────────────
1 Dense  (3, m)        (3, 2)  (3, 1)           9  relu
2 Dense  (1, m)        (1, 3)  (1, 1)           4  sigmoid
─────────────────────────────────────────────────────────────
Trainable parameters: 13
Non-trainable parameters: 0 (batch-norm running mean and variance)
Input n[0] = 2 · L = 2 · dtype float64 · loss binary_cross_entropy
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from deepmat._checks import unknown_name
from deepmat.activations import hidden_activations
from deepmat.i18n import Words, language
from deepmat.layers import ExplainStep, Layer, check_layer_dims, layers_from_dims
from deepmat.losses import DEFAULT_LOSS, get_loss
from deepmat.network import Network, default_output
from deepmat.summary import summary_text

#: The two ways of writing the equations: the seeds' (a sample is a column) and seed 004's (a row).
LAYOUTS = ("columns", "rows")
#: Output activations, each with its canonical loss.
OUTPUT_ACTIVATIONS = tuple(DEFAULT_LOSS)

#: Every word of the explanation around its equations (the layers' own notes are in their
#: modules); ``WORDS_ZH`` says the same in Chinese, its terms from the glossary (``[[key]]``).
WORDS = {
    "heading": "Forward and backward propagation of the network {dims}",
    "header_L": "L = {L} layers with parameters (layer 0 is the input), n = {dims}, {samples}",
    "samples_symbolic": "m samples (symbolic: no batch size given)",
    "samples": "m = {m} samples",
    "activations": "activations: {activations}; loss: {loss}",
    "then": " then ",
    "layers": "layers: ",
    "layout_rows": "layout: rows (seed 004's convention), a sample is a row: deepmat stores W[l] as "
    "(n[l], n[l-1]) and the row form uses its transpose, so here W[l] is (n[l-1], n[l]), "
    "b[l] is (1, n[l]), Z[l] and A[l] are (m, n[l])",
    "layout_columns": "layout: columns (the seeds' convention, deepmat's internal one), a sample is a column: "
    "W[l] is (n[l], n[l-1]), b[l] is (n[l], 1), Z[l] and A[l] are (n[l], m)",
    "notation": "notation: × between dimensions, · matrix product, ⊙ elementwise product, ᵀ transpose; "
    "dX is the gradient of the summed loss Σᵢ L(ŷ⁽ⁱ⁾, y⁽ⁱ⁾), so the 1/m of J = 1/m · Σᵢ L "
    "appears in dW and db",
    "one_sample_column": "one sample (m = 1, a column):",
    "one_sample_row": "one sample (m = 1, a row):",
    "vectorised_symbolic": "vectorised over m samples:",
    "vectorised": "vectorised over m = {m} samples:",
    "forward": "Forward propagation, l = 1..L (keep the cache A[l-1], W[l], b[l], Z[l] for the backward pass)",
    "backward": "Backward propagation, l = L..1",
    "update": "Update (gradient descent, learning rate α), every parameter; each keeps its shape",
    "title": "Layer {l}{where}: ",
    "join": ", ",
    "input": " (input)",
    "output": " (output)",
    "check_input_rows": "check: A[0] = X is (m, n[0]) = ({m}, {n})",
    "check_input": "check: A[0] = X is (n[0], m) = ({n}, {m})",
    "check_rows": "check (row form): W[{l}] is (n[{p}], n[{l}]) = ({n_prev}, {n}), deepmat's W[{l}]ᵀ; "
    "b[{l}] is (1, n[{l}]) = (1, {n}); Z[{l}] and A[{l}] are (m, n[{l}]) = ({m}, {n})",
    "check": "check: W[{l}] is (n[{l}], n[{p}]) = ({n}, {n_prev}); b[{l}] is (n[{l}], 1) = ({n}, 1); "
    "Z[{l}] and A[{l}] are (n[{l}], m) = ({n}, {m})",
    "check_gradients": "; dW[{l}], db[{l}] have the shapes of W[{l}], b[{l}] and dZ[{l}], dA[{l}] those of "
    "Z[{l}], A[{l}]",
    "dA0_needed": "dA[0] is needed here: it flows back into the input's batch norm γ[0], β[0]",
    "dA0_not_needed": "dA[0] is not needed for training: no parameter comes before layer 1 (A[0] = X is the data)",
    "broadcast": ", broadcast",
    "column": "column",
    "row": "row",
    # the output's loss (SPEC §5), and why dZ[L] = A[L] − Y for each canonical pair (SPEC §3, equation 1)
    "loss.binary_cross_entropy": "binary cross-entropy, L(a, y) = −[y·log a + (1 − y)·log(1 − a)] per output unit",
    "loss.cross_entropy": "cross-entropy, L(a, y) = −Σ_k y_k·log a_k",
    "loss.mse": "mean squared error, L(a, y) = ½‖a − y‖²",
    "why.sigmoid": "σ'(z) = a(1 − a) cancels the denominators of the cross-entropy gradient",
    "why.softmax": "the softmax Jacobian diag(a) − a·aᵀ times −y / a gives a − y, as Σ_k y_k = 1",
    "why.identity": "identity' = 1 and the gradient of ½‖a − y‖² is a − y",
}
WORDS_ZH = {
    "heading": "网络 {dims} 的[[forward_propagation]]和[[backward_propagation]]",
    "header_L": "L = {L} 个含[[parameter]]的[[layer]]（第 0 层即[[input_layer]]），各层的[[unit]]个数 n = {dims}，{samples}",
    "samples_symbolic": "[[number_of_samples]]（符号：未给出[[batch_size]]）",
    "samples": "[[number_of_samples]] = {m}",
    "activations": "[[activation_function]]：{activations}；[[loss_function]]：{loss}",
    "then": " 之后 ",
    "layers": "[[layer]]：",
    "layout_rows": "[[layout]]：[[row]]（文章 004 的约定），一个[[sample]]是一行：deepmat 把 W[l] 存为 "
    "(n[l], n[l-1])，行形式用它的[[transpose]]，所以这里 W[l] 是 (n[l-1], n[l])，"
    "b[l] 是 (1, n[l])，Z[l] 和 A[l] 是 (m, n[l])",
    "layout_columns": "[[layout]]：[[column]]（文章的约定，也是 deepmat 内部的约定），一个[[sample]]是一列："
    "W[l] 是 (n[l], n[l-1])，b[l] 是 (n[l], 1)，Z[l] 和 A[l] 是 (n[l], m)",
    "notation": "[[notation]]：× 分隔矩阵的各维，· [[matrix_product]]，⊙ [[elementwise_product]]，ᵀ [[transpose]]；"
    "[[number_of_units]]；dX 是[[loss]]之和 Σᵢ L(ŷ⁽ⁱ⁾, y⁽ⁱ⁾) 的[[gradient]]，所以[[cost_function]] "
    "J = 1/m · Σᵢ L 的 1/m 出现在 dW 和 db 中",
    "one_sample_column": "[[one_sample]]（m = 1，一[[column]]）：",
    "one_sample_row": "[[one_sample]]（m = 1，一[[row]]）：",
    "vectorised_symbolic": "[[vectorised]]，m 个[[sample]]：",
    "vectorised": "[[vectorised]]，m = {m} 个[[sample]]：",
    "forward": "[[forward_propagation]]，l = 1..L（为[[backward_propagation]]保存[[cache]] A[l-1]、W[l]、b[l]、Z[l]）",
    "backward": "[[backward_propagation]]，l = L..1",
    "update": "[[update]]（[[gradient_descent]]，[[learning_rate]] α），每个[[parameter]]；各自保持原来的[[shape]]",
    "title": "第 {l} [[layer]]{where}：",
    "join": "，",
    "input": "（[[input_layer]]）",
    "output": "（[[output_layer]]）",
    "check_input_rows": "[[dimension_check]]：A[0] = X 是 (m, n[0]) = ({m}, {n})",
    "check_input": "[[dimension_check]]：A[0] = X 是 (n[0], m) = ({n}, {m})",
    "check_rows": "[[dimension_check]]（行形式）：W[{l}] 是 (n[{p}], n[{l}]) = ({n_prev}, {n})，即 deepmat 的 "
    "W[{l}]ᵀ；b[{l}] 是 (1, n[{l}]) = (1, {n})；Z[{l}] 和 A[{l}] 是 (m, n[{l}]) = ({m}, {n})",
    "check": "[[dimension_check]]：W[{l}] 是 (n[{l}], n[{p}]) = ({n}, {n_prev})；b[{l}] 是 (n[{l}], 1) = ({n}, 1)；"
    "Z[{l}] 和 A[{l}] 是 (n[{l}], m) = ({n}, {m})",
    "check_gradients": "；dW[{l}]、db[{l}] 的[[shape]]与 W[{l}]、b[{l}] 相同，dZ[{l}]、dA[{l}] 的[[shape]]与 "
    "Z[{l}]、A[{l}] 相同",
    "dA0_needed": "这里需要 dA[0]：它流回输入的[[batch_norm]] γ[0]、β[0]",
    "dA0_not_needed": "训练不需要 dA[0]：第 1 层之前没有[[parameter]]（A[0] = X 是数据）",
    "broadcast": "，[[broadcast]]",
    "column": "[[column]]",
    "row": "[[row]]",
    "loss.binary_cross_entropy": "[[binary_cross_entropy]]，每个输出[[unit]] L(a, y) = −[y·log a + (1 − y)·log(1 − a)]",
    "loss.cross_entropy": "[[cross_entropy]]，L(a, y) = −Σ_k y_k·log a_k",
    "loss.mse": "[[mean_squared_error]]，L(a, y) = ½‖a − y‖²",
    "why.sigmoid": "σ'(z) = a(1 − a) 约去了[[cross_entropy]][[gradient]]的分母",
    "why.softmax": "softmax 的雅可比矩阵 diag(a) − a·aᵀ 乘以 −y / a 得 a − y，因为 Σ_k y_k = 1",
    "why.identity": "identity' = 1，而 ½‖a − y‖² 的[[gradient]]是 a − y",
}
words = Words(en=WORDS, zh=WORDS_ZH)
#: dA[L] = ∂L/∂A[L] per sample, written with ``{A}`` and ``{Y}`` (SPEC §5).
_LOSS_GRADIENT = {
    "binary_cross_entropy": "−({Y} / {A} − (1 − {Y}) / (1 − {A}))",
    "cross_entropy": "−{Y} / {A}",
    "mse": "{A} − {Y}",
}


@dataclass(frozen=True)
class _Output:
    """The output pair the last step's backward starts from (SPEC §3, equation 1)."""

    activation: str
    loss: str
    lang: str = "en"

    @property
    def fused(self) -> bool:
        return get_loss(self.loss).canonical_activation == self.activation

    @property
    def why(self) -> str:
        return words(self.lang)[f"why.{self.activation}"]

    @property
    def gradient(self) -> str:
        return _LOSS_GRADIENT[self.loss]


#: The kinds of line :func:`explain_lines` gives, and how far :func:`explain` indents each.
LINE_INDENT = {
    "heading": 0,  # the first line: the network
    "header": 0,  # L and n, activations and loss, layers, layout, notation
    "blank": 0,
    "section": 0,  # forward, backward, update
    "title": 0,  # a layer: "Layer 1: Dense 12288 → 20, relu"
    "check": 2,  # a layer's dimension check
    "form": 2,  # "one sample (m = 1, a column):", "vectorised over m samples:"
    "equation": 4,  # an equation of a layer's step, or its note
    "update": 2,  # W[l] ← W[l] − α·dW[l]
}


@dataclass(frozen=True)
class ExplainLine:
    """One line of :func:`explain`: its kind (a key of :data:`LINE_INDENT`), its text
    unindented, for an equation the step that wrote it (its ``layer`` and ``kind``), and for
    the lines of a layer (title, check, form, equation) its number l."""

    kind: str
    text: str
    step: ExplainStep | None = None
    l: int | None = None


# -- the network as a list of steps ------------------------------------------------------


@dataclass
class ExplainGroup:
    """Dense layer l and the layers up to the next Dense (l = 0: the layers before the first),
    as the steps their layers write (:meth:`deepmat.layers.Layer.explain_steps`)."""

    l: int
    n: int
    n_prev: int
    steps: list[ExplainStep] = field(default_factory=list)

    @property
    def parameters(self) -> list[str]:
        """The group's parameters as the update lines name them (W, b, then γ, β)."""
        return [p for step in self.steps for p in step.parameters]

    @property
    def activations(self) -> list[str]:
        return [s.activation for s in self.steps if s.activation]


def explain_groups(layers: Sequence[Layer], input_dim: int) -> list[ExplainGroup]:
    """Split ``layers`` at each numbered (Dense) layer and collect each group's steps; every
    group ends with A[l]."""
    groups = [ExplainGroup(0, input_dim, input_dim)]
    chunks: list[list[Layer]] = [[]]
    for layer in layers:
        if layer.numbered:
            chunks.append([])
            groups.append(ExplainGroup(len(groups), layer.out_units(groups[-1].n), groups[-1].n))
        chunks[-1].append(layer)
    for group, chunk in zip(groups, chunks, strict=True):
        current = "A"
        has_activation_layer = any(x.activation and not x.numbered for x in chunk)
        for layer in chunk:
            for step in layer.explain_steps(current, has_activation_layer):
                group.steps.append(step)
                current = step.out
    return groups


# -- shapes and names in either layout ---------------------------------------------------


def _dims(a: Any, b: Any, extra: str = "") -> str:
    return f"({a}×{b}{extra})"


@dataclass(frozen=True)
class Writer:
    """Writes names and shapes for one layout and one batch size (``batch``: m, else 1)."""

    rows: bool
    m: int | str
    batch: bool
    lang: str = "en"

    @property
    def words(self) -> Any:
        """The explanation's words in the writer's language."""
        return words(self.lang)

    def name(self, letter: str, l: int | None = None) -> str:
        letter = letter if self.batch else letter.lower()
        return letter if l is None else f"{letter}[{l}]"

    @property
    def k(self) -> int | str:
        return self.m if self.batch else 1

    def data(self, n: int) -> str:
        """Z, A and their gradients: (n×m) in columns, (m×n) in rows."""
        return _dims(self.k, n) if self.rows else _dims(n, self.k)

    def data_T(self, n: int) -> str:
        return _dims(n, self.k) if self.rows else _dims(self.k, n)

    def weight(self, g: ExplainGroup) -> str:
        return _dims(g.n_prev, g.n) if self.rows else _dims(g.n, g.n_prev)

    def weight_T(self, g: ExplainGroup) -> str:
        return _dims(g.n, g.n_prev) if self.rows else _dims(g.n_prev, g.n)

    def vector(self, n: int) -> str:
        extra = self.words["broadcast"] if self.batch else ""
        return _dims(1, n, extra) if self.rows else _dims(n, 1, extra)

    def param(self, n: int) -> str:
        """b, γ, β and their gradients, never broadcast."""
        return _dims(1, n) if self.rows else _dims(n, 1)

    @property
    def sum_over_samples(self) -> str:
        return "Σ_rows" if self.rows else "Σ_columns"

    @property
    def sample_axis(self) -> str:
        """What a unit's values over the batch form."""
        return self.words["column" if self.rows else "row"]


# -- the equations ------------------------------------------------------------------------


def _check_line(g: ExplainGroup, rows: bool, m: int | str, lang: str) -> str:
    l, n, p, w = g.l, g.n, g.n_prev, words(lang)
    if l == 0:
        text = w["check_input_rows" if rows else "check_input"].format(m=m, n=n)
    else:
        text = w["check_rows" if rows else "check"].format(l=l, p=l - 1, n=n, n_prev=p, m=m)
    text += "".join(step.check(g, rows, lang) for step in g.steps)
    if l > 0:
        text += w["check_gradients"].format(l=l)
    return text


def _title(g: ExplainGroup, L: int, lang: str) -> str:
    w = words(lang)
    parts = [title for step in g.steps if (title := step.title(g, lang))]
    where = w["input"] if g.l == 0 else w["output"] if g.l == L else ""
    return w["title"].format(l=g.l, where=where) + w["join"].join(parts)


def _activation_header(groups: list[ExplainGroup], lang: str) -> str:
    """``g[1..3] = relu, g[4] = sigmoid``: runs of layers with the same activation."""
    runs: list[list[Any]] = []
    for g in groups[1:]:
        act = words(lang)["then"].join(g.activations) or "identity"
        if runs and runs[-1][2] == act:
            runs[-1][1] = g.l
        else:
            runs.append([g.l, g.l, act])
    return words(lang)["join"].join(
        f"g[{a}] = {act}" if a == b else f"g[{a}..{b}] = {act}" for a, b, act in runs
    )


def _check_m(m: Any) -> int | str:
    if isinstance(m, str) and m == "m":
        return m
    if isinstance(m, (int, np.integer)) and not isinstance(m, bool) and m > 0:
        return int(m)
    raise ValueError(f"m must be a positive integer (the batch size) or 'm' (symbolic); received {m!r}")


def explain_lines(
    layer_dims: list[int] | None = None,
    net: Network | None = None,
    m: int | str = "m",
    layout: str = "columns",
    hidden_activation: str = "relu",
    output_activation: str | None = None,
    vectorised: bool = True,
    lang: str | None = "en",
) -> list[ExplainLine]:
    """The lines of the forward and backward equations (SPEC §2–§3) of every Dense layer
    l = 1..L, with their concrete shapes, one sample at a time (m = 1) and vectorised over m
    samples.

    Args:
        layer_dims: ``[n[0], …, n[L]]``: the seeds' plain network with ``hidden_activation``
            and ``output_activation`` and the output's canonical loss.
        net: a :class:`~deepmat.Network`, explained with its own layers (batch norm,
            dropout, separate activations), activations, loss and L2 penalties. Give
            ``layer_dims`` or ``net``, not both.
        m: the batch size, or ``"m"`` to keep it symbolic.
        layout: ``"columns"`` (the seeds' and deepmat's internal convention: a sample is a
            column, Z[l] = W[l]·A[l-1] + b[l]) or ``"rows"`` (seed 004's: a sample is a row,
            Z[l] = A[l-1]·W[l] + b[l] with W[l] the transpose of deepmat's).
        hidden_activation, output_activation: g[1..L-1] and g[L] for ``layer_dims`` (g[L]
            ``None``: sigmoid for one output unit, softmax for more).
        vectorised: also the form vectorised over m samples (False: the one-sample form
            alone, the form :mod:`deepmat.explain_values` fills in with numbers).
        lang: the language of the words around the equations, a key of
            :data:`deepmat.i18n.LANGUAGES` (``"zh"``: Chinese, in the seeds' terms); ``None``:
            :func:`deepmat.i18n.language` decides (``DEEPMAT_LANG``, then the locale). The
            equations and shapes are the same in every language.

    Returns:
        The lines, each with its kind (:data:`LINE_INDENT`) and, for an equation, the step
        that wrote it — for a caller that lays them out otherwise (Markdown, LaTeX) or adds
        to them; :func:`explain` gives them as text.

    Raises:
        ValueError: unknown layout, activation or language (the message lists the valid
            ones), both or neither of ``layer_dims`` and ``net``, a bad ``m`` or ``layer_dims``.
    """
    lang = language(lang)
    w = words(lang)
    if layout not in LAYOUTS:
        raise unknown_name("layout", layout, LAYOUTS)
    if hidden_activation not in hidden_activations():
        raise unknown_name("hidden activation", hidden_activation, hidden_activations())
    if output_activation is not None and output_activation not in OUTPUT_ACTIVATIONS:
        raise unknown_name("output activation", output_activation, OUTPUT_ACTIVATIONS)
    m = _check_m(m)
    if (layer_dims is None) == (net is None):
        raise ValueError("give either layer_dims (e.g. [12288, 20, 7, 5, 1]) or net=, not both")
    if net is not None:
        if not isinstance(net, Network):
            raise TypeError(f"net must be a deepmat.Network; received {type(net).__name__}")
        if (hidden_activation, output_activation) != ("relu", None):
            raise ValueError(
                "hidden_activation and output_activation describe a layer_dims network; "
                "a net brings its own activations"
            )
        layers, dims, loss = net.layers, net.layer_dims, net.loss
    else:
        dims = check_layer_dims(layer_dims)
        output_activation = output_activation or default_output(dims[-1])
        if output_activation == "softmax" and dims[-1] < 2:
            raise ValueError(
                f"a softmax output needs n[L] ≥ 2 classes; received n[L] = {dims[-1]} "
                "(use output_activation='sigmoid' for one output)"
            )
        layers = layers_from_dims(dims, hidden_activation, output_activation)
        loss = DEFAULT_LOSS[output_activation]

    rows = layout == "rows"
    groups = explain_groups(layers, dims[0])
    L = len(groups) - 1
    last_step = groups[-1].steps[-1]
    dA0_note = w["dA0_needed" if groups[0].parameters else "dA0_not_needed"]

    samples = w["samples_symbolic"] if m == "m" else w["samples"].format(m=m)
    out = [
        ExplainLine("heading", w["heading"].format(dims=dims)),
        ExplainLine("header", w["header_L"].format(L=L, dims=dims, samples=samples)),
        ExplainLine(
            "header",
            w["activations"].format(activations=_activation_header(groups, lang), loss=w[f"loss.{loss}"]),
        ),
        ExplainLine("header", w["layers"] + " → ".join(layer.describe() for layer in layers)),
        ExplainLine("header", w["layout_rows" if rows else "layout_columns"]),
        ExplainLine("header", w["notation"]),
    ]
    forms = [(w["one_sample_row" if rows else "one_sample_column"], Writer(rows, m, False, lang))]
    if vectorised:
        heading = w["vectorised_symbolic"] if m == "m" else w["vectorised"].format(m=m)
        forms.append((heading, Writer(rows, m, True, lang)))

    def section(text: str) -> None:
        out.extend([ExplainLine("blank", ""), ExplainLine("section", text)])

    def title(g: ExplainGroup) -> None:
        out.extend([ExplainLine("blank", ""), ExplainLine("title", _title(g, L, lang), l=g.l)])

    section(w["forward"])
    for g in groups:
        if not g.steps:
            continue
        title(g)
        out.append(ExplainLine("check", _check_line(g, rows, m, lang), l=g.l))
        for heading, writer in forms:
            out.append(ExplainLine("form", heading, l=g.l))
            out += [
                ExplainLine("equation", line, step, g.l)
                for step in g.steps
                for line in step.forward(g, writer)
            ]

    section(w["backward"])
    for g in reversed(groups):
        if not g.steps or (g.l == 0 and not g.parameters):
            continue
        title(g)
        for heading, writer in forms:
            out.append(ExplainLine("form", heading, l=g.l))
            for step in reversed(g.steps):
                output = _Output(last_step.activation, loss, lang) if step is last_step else None
                lines = step.backward(g, writer, output, dA0_note)
                out += [ExplainLine("equation", line, step, g.l) for line in lines]

    section(w["update"])
    for g in groups:
        out += [ExplainLine("update", f"{p}[{g.l}] ← {p}[{g.l}] − α·d{p}[{g.l}]") for p in g.parameters]
    return out


def explain(*args: Any, **kwargs: Any) -> str:
    """The forward and backward equations (SPEC §2–§3) of every Dense layer l = 1..L, with
    their concrete shapes, one sample at a time (m = 1) and vectorised over m samples: the
    lines of :func:`explain_lines` (same arguments) as plain text, one equation per line,
    indented by kind. For ``[12288, 20, 7, 5, 1]`` and m = 209, e.g.::

        Z[1] (20×209) = W[1] (20×12288) · A[0] (12288×209) + b[1] (20×1, broadcast)
        dW[1] (20×12288) = 1/m · dZ[1] (20×209) · A[0]ᵀ (209×12288)
    """
    return "\n".join(" " * LINE_INDENT[line.kind] + line.text for line in explain_lines(*args, **kwargs))


explain.__signature__ = inspect.signature(explain_lines).replace(return_annotation=str)  # type: ignore[attr-defined]


# -- the table ------------------------------------------------------------------------------


def summary(net: Network, lang: str | None = "en") -> str:
    """A table of ``net``'s layers, one row per layer object: the Dense number l, the output
    shape (n[l], m), the W and b shapes (γ and β for batch norm), the trainable parameter
    count and the activation; then the trainable and non-trainable (batch-norm running
    statistics) totals, n[0], dtype and loss (:func:`deepmat.summary.summary_text`), in
    ``lang`` (``None``: :func:`deepmat.i18n.language` decides)."""
    if not isinstance(net, Network):
        raise TypeError(f"summary needs a deepmat.Network; received {type(net).__name__}")
    return summary_text(net, language(lang))
