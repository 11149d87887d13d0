"""The equations of :func:`deepmat.explain.explain` filled in with a network's numbers for one sample.

:func:`sample_values` runs one sample through the network — forward, the cost, and backward
for that sample's loss — in inference mode (what ``predict`` computes: dropout is the
identity, batch norm uses its running estimates) and keeps every matrix the one-sample
equations name, by the name they give it: ``a[0]`` ``(n[0], 1)``, ``W[1]`` ``(n[1], n[0])``,
``z[1]``, ``a[1]``, …, ``y``, ``dz[L]``, ``dW[L]``, ``db[L]``, ``da[L-1]``, …, ``da[0]``.
The numbers are those of :meth:`deepmat.Network.forward_steps` and
:meth:`~deepmat.Network.backward_steps` (the passes training runs), not computed again.

:func:`explain_values` writes the one-sample lines of ``explain`` in their order and wording
(the layers write them, :meth:`deepmat.layers.Layer.explain_steps`) and after each equation
the matrices it names that were not shown yet — its result last — with their shapes and at
most :data:`MAX_SHOWN` rows and columns, in one of :data:`FORMATS`:

- ``text``: explain's layout, a matrix row per line;
- ``markdown``: headings, each equation as code, each matrix as a table;
- ``latex``: a document (``amsmath`` only, ASCII) with each matrix a ``bmatrix``.

With m = 1, dW = dz·aᵀ and db = dz: the gradient of this one sample's loss, the cost J = L.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from deepmat._checks import check_number, unknown_name
from deepmat.explain import LINE_INDENT, ExplainLine, Writer, explain_groups, explain_lines
from deepmat.losses import get_loss

FORMATS = ("text", "markdown", "latex")
#: at most this many rows and columns of a matrix are shown: the first and the last half
MAX_SHOWN = 6

#: Every word this module adds to explain's lines (a language is another such table).
WORDS = {
    "subtitle": "with the numbers of one sample (m = 1), in inference mode: dropout is the identity, "
    "batch norm uses its running estimates",
    "digits": "numbers to {digits} significant digits; at most {shown} rows and columns of a matrix "
    "(the first and last {half})",
    "cost": "cost of this sample (m = 1): J = L(a[{L}], y) = {value}",
    "cost_l2": "cost of this sample (m = 1): J = L(a[{L}], y) + L2 penalty = {value}",
    "others": "gradients the one-sample equations leave to the vectorised form (batch norm's):",
}

#: the one-sample equations' writer of names (columns, m = 1)
_NAMES = Writer(rows=False, m=1, batch=False)


@dataclass
class SampleValues:
    """One sample's matrices, by their one-sample names (``"a[0]"``, ``"W[1]"``, ``"dz[2]"``,
    ``"y"``, …; each ``(rows, columns)``, a vector a column ``(n, 1)``).

    ``given``: what the passes start from — a[0], y and every parameter. ``forward`` and
    ``backward``: what each explanation step computes, by ``(id(layer), step kind)`` (a batch
    norm of A[l] computes a new a[l], and its backward a new da[l]). ``cost``: J of the sample."""

    given: dict[str, np.ndarray]
    forward: dict[tuple[int, str], dict[str, np.ndarray]]
    backward: dict[tuple[int, str], dict[str, np.ndarray]]
    cost: float
    has_penalty: bool


def _placement(net: Any) -> dict[int, tuple[int, list[Any]]]:
    """Each layer (by id) → its layer number l and its explanation steps, in order."""
    placed: dict[int, tuple[int, list[Any]]] = {}
    for g in explain_groups(net.layers, net.layer_dims[0]):
        for step in g.steps:
            placed.setdefault(id(step.layer), (g.l, []))[1].append(step)
    return placed


def _parameters(layer: Any, steps: list[Any], l: int) -> list[tuple[Any, str, str]]:
    """(step, name as the equations write it, key in ``layer.params``) of each parameter: a
    layer's parameters are its steps' in order (Dense: W, b; batch norm: γ, β)."""
    symbols = [(step, symbol) for step in steps for symbol in step.parameters]
    return [(step, f"{symbol}[{l}]", key) for (step, symbol), key in zip(symbols, layer.params, strict=True)]


def _d(letter: str, l: int) -> str:
    return "d" + _NAMES.name(letter, l)


def sample_values(net: Any, x: Any, y: Any) -> SampleValues:
    """One sample's matrices through ``net`` (a :class:`~deepmat.Network`), inference mode.

    Args:
        x: the sample, one row ``(1, n)`` of what the network takes (raw values when it has
            a preprocessor).
        y: its target: a class label, or ``(n[L],)`` values (what :meth:`Network.cost` takes).
    """
    A0 = net.input_columns(x)
    if A0.shape[1] != 1:
        raise ValueError(f"x must be one sample, a row (1, {net.layer_dims[0]}); received {A0.shape[1]} rows")
    Y = net.target_rows(np.asarray(y).reshape(1, -1) if np.ndim(y) else np.asarray([y]), 1).T
    placed = _placement(net)
    given = {_NAMES.name("A", 0): A0, "y": Y}
    forward: dict[tuple[int, str], dict[str, np.ndarray]] = {}
    for layer, A in net.forward_steps(A0, training=False):
        l, steps = placed[id(layer)]
        for _, name, key in _parameters(layer, steps, l):
            given[name] = layer.params[key]
        for i, step in enumerate(steps):
            inner = i + 1 < len(steps)  # a Dense layer's Z, the input of its activation step
            forward[(id(layer), step.kind)] = {
                _NAMES.name(step.out, l): layer.activation_input() if inner else A
            }
    AL, last = A, net.layers[-1]
    backward: dict[tuple[int, str], dict[str, np.ndarray]] = {}
    for layer, received, passed in net.backward_steps(AL, Y, need_dA0=True):
        l, steps = placed[id(layer)]
        for i, step in enumerate(steps):
            computed = backward[(id(layer), step.kind)] = {}
            if (
                layer is last
                and i == len(steps) - 1
                and get_loss(net.loss).canonical_activation != step.activation
            ):
                computed[_d(step.out, l)] = get_loss(net.loss).gradient(AL, Y)  # dA[L], then dZ[L] from it
            if i == 0:
                computed[_d(step.src, l - 1 if layer.numbered else l)] = passed
            elif layer is last:
                computed[_d(step.src, l)] = received  # the output error dZ[L]
            else:  # a Dense layer's dZ[l]: (1/m)·dZ[l] is kept, and m = 1
                computed[_d(step.src, l)] = layer.dZ_mean
            for owner, name, key in _parameters(layer, steps, l):
                if owner is step:
                    computed[f"d{name}"] = layer.grads[f"d{key}"]
    return SampleValues(
        given, forward, backward, net.compute_cost(AL, Y), any(layer.penalty() for layer in net.layers)
    )


# -- numbers and matrices ------------------------------------------------------------------


def number_text(value: float, digits: int) -> str:
    """``value`` to ``digits`` significant digits, as short as that allows (``0.1235``, ``-3e-07``)."""
    text = f"{float(value):.{digits}g}"
    return "0" if text == "-0" else text


def shown(n: int) -> list[int | None]:
    """The indices of the rows (or columns) of n that are shown, None where some are left out."""
    if n <= MAX_SHOWN:
        return list(range(n))
    half = MAX_SHOWN // 2
    return [*range(half), None, *range(n - half, n)]


def _cells(array: np.ndarray, digits: int, number: Callable[[str], str], dots: tuple[str, str, str]) -> list:
    """The shown cells as text: numbers, and ``dots`` = (a left-out row, column, both)."""
    vertical, horizontal, both = dots
    rows = []
    for i in shown(array.shape[0]):
        row = []
        for j in shown(array.shape[1]):
            if i is None:
                row.append(both if j is None else vertical)
            else:
                row.append(horizontal if j is None else number(number_text(array[i, j], digits)))
        rows.append(row)
    return rows


def _shape(array: np.ndarray) -> str:
    return f"({array.shape[0]}×{array.shape[1]})"


# -- the three formats ----------------------------------------------------------------------


class TextFormat:
    """explain's own layout: a matrix under its equation, one row per line, columns aligned."""

    def __init__(self, digits: int) -> None:
        self.digits = digits

    def escape(self, text: str) -> str:
        return text

    def line(self, kind: str, text: str) -> list[str]:
        return [" " * LINE_INDENT.get(kind, 0) + text]

    def matrix(self, name: str, array: np.ndarray) -> list[str]:
        """The matrix under its name and shape; a column (n×1) on one line, as a transposed row."""
        if array.shape[1] == 1:
            row = _cells(array.T, self.digits, str, ("⋮", "…", "⋱"))[0]
            return [f"      {name} {_shape(array)} = [ " + "  ".join(row) + " ]ᵀ"]
        rows = _cells(array, self.digits, str, ("⋮", "…", "⋱"))
        widths = [max(len(row[j]) for row in rows) for j in range(len(rows[0]))]
        pad = " " * 8
        body = [
            pad + "[ " + "  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) + " ]"
            for row in rows
        ]
        return [f"      {name} {_shape(array)} =", *body]

    def document(self, lines: list[str]) -> str:
        return "\n".join(lines)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|~$#])")


class MarkdownFormat(TextFormat):
    """Headings for the sections and layers, each equation as code, each matrix as a table
    (row and column indices from 0, as NumPy counts)."""

    def escape(self, text: str) -> str:
        return _MARKDOWN_SPECIAL.sub(r"\\\1", text)

    def line(self, kind: str, text: str) -> list[str]:
        if kind == "blank":
            return [""]
        if kind in ("equation", "update"):
            return [f"`{text}`", ""]
        prefix = {"heading": "# ", "section": "## ", "title": "### ", "form": "", "header": "- "}.get(
            kind, ""
        )
        text = self.escape(text)
        return [prefix + (f"*{text}*" if kind == "form" else text), *([] if kind == "header" else [""])]

    def matrix(self, name: str, array: np.ndarray) -> list[str]:
        rows = _cells(array, self.digits, str, ("⋮", "…", "⋱"))
        columns = ["…" if j is None else str(j) for j in shown(array.shape[1])]
        labels = ["⋮" if i is None else str(i) for i in shown(array.shape[0])]
        lines = [
            f"| `{name}` {_shape(array)} | " + " | ".join(columns) + " |",
            "|---|" + "---:|" * len(columns),
            *(f"| {label} | " + " | ".join(row) + " |" for label, row in zip(labels, rows, strict=True)),
        ]
        return [*lines, ""]

    def document(self, lines: list[str]) -> str:
        """The lines, never two blank ones in a row."""
        return "\n".join(line for i, line in enumerate(lines) if line or (i and lines[i - 1])).strip() + "\n"


#: Unicode of explain's lines → LaTeX math (each put in ``\ensuremath``); longest first
_LATEX_MATH = {
    "X̂": r"\hat{X}",
    "⁽ⁱ⁾": "^{(i)}",
    "·": r"\cdot",
    "⊙": r"\odot",
    "ᵀ": r"^{\mathsf{T}}",
    "−": "-",
    "×": r"\times",
    "Σ": r"\Sigma",
    "√": r"\surd",
    "σ": r"\sigma",
    "ε": r"\varepsilon",
    "μ": r"\mu",
    "γ": r"\gamma",
    "β": r"\beta",
    "α": r"\alpha",
    "λ": r"\lambda",
    "←": r"\leftarrow",
    "→": r"\to",
    "²": "^{2}",
    "‖": r"\|",
    "½": r"\tfrac{1}{2}",
    "ᵢ": "_{i}",
    "…": r"\dots",
    "ẑ": r"\hat{z}",
    "Ẑ": r"\hat{Z}",
    "ŷ": r"\hat{y}",
    "≥": r"\geq",
    "∂": r"\partial",
}
#: characters LaTeX reads as commands or draws as others in text (OT1: < > |), and text dashes
_LATEX_TEXT = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "^": r"\^{}",
    "_": r"\_",
    "%": r"\%",
    "~": r"\~{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    "§": r"\S{}",
    "–": "--",
    "—": "---",
}
_LATEX_PIECE = re.compile(
    "|".join(map(re.escape, sorted([*_LATEX_MATH, *_LATEX_TEXT], key=len, reverse=True)))
)
_NAME = re.compile(r"^(d?)(.+?)\[(\d+)\]$")


def latex_text(text: str) -> str:
    """``text`` as LaTeX text: its special characters escaped, explain's symbols as math."""

    def piece(match: re.Match[str]) -> str:
        found = match.group(0)
        return _LATEX_TEXT.get(found) or "\\ensuremath{" + _LATEX_MATH[found] + "}"

    return _LATEX_PIECE.sub(piece, text)


class LatexFormat(TextFormat):
    """A LaTeX document (``article`` + ``amsmath``): sections for the passes and layers, each
    equation a paragraph, each matrix a displayed ``bmatrix`` with its shape."""

    def escape(self, text: str) -> str:
        return latex_text(text)

    def line(self, kind: str, text: str) -> list[str]:
        if kind == "blank":
            return []
        command = {"heading": "section*", "section": "subsection*", "title": "subsubsection*"}.get(kind)
        if command:
            return [f"\\{command}{{{latex_text(text)}}}", ""]
        return [f"\\noindent {latex_text(text)}", ""]

    @staticmethod
    def math_name(name: str) -> str:
        """``dW[1]`` → ``\\mathrm{d}W^{[1]}``, ``ẑ[1]`` → ``\\hat{z}^{[1]}``."""
        match = _NAME.match(name)
        if match is None:
            return name
        d, letter, l = match.groups()
        letter = _LATEX_MATH.get(letter, letter)
        return ("\\mathrm{d}" if d else "") + f"{letter}^{{[{l}]}}"

    @staticmethod
    def number(text: str) -> str:
        if text in ("nan", "inf", "-inf"):
            return {"nan": r"\text{NaN}", "inf": r"\infty", "-inf": r"-\infty"}[text]
        mantissa, _, exponent = text.partition("e")
        return mantissa if not exponent else f"{mantissa} \\times 10^{{{int(exponent)}}}"

    def matrix(self, name: str, array: np.ndarray) -> list[str]:
        rows = _cells(array, self.digits, self.number, (r"\vdots", r"\cdots", r"\ddots"))
        shape = f"{array.shape[0]} \\times {array.shape[1]}"
        body = " \\\\\n".join(" & ".join(row) for row in rows).splitlines()
        return [
            r"\[",
            f"{self.math_name(name)}_{{({shape})}} = \\begin{{bmatrix}}",
            *body,
            r"\end{bmatrix}",
            r"\]",
            "",
        ]

    def document(self, lines: list[str]) -> str:
        head = [r"\documentclass{article}", r"\usepackage{amsmath}", r"\begin{document}", ""]
        return "\n".join([*head, *lines, r"\end{document}"])


FORMATTERS: dict[str, type[TextFormat]] = {
    "text": TextFormat,
    "markdown": MarkdownFormat,
    "latex": LatexFormat,
}


# -- the document ---------------------------------------------------------------------------


def _names_in(text: str, names: Sequence[str]) -> list[str]:
    """The names of ``names`` that ``text`` mentions, in order (``W[1]ᵀ`` mentions W[1];
    ``da[1]`` does not mention ``a[1]``)."""
    pattern = "|".join(map(re.escape, sorted(names, key=len, reverse=True)))
    return [m.group(0) for m in re.finditer(rf"(?<!\w)(?:{pattern})(?![\w\[])", text)]


class _Shown:
    """The matrices in effect at a point of the passes (each name's latest value) and which
    of them the reader has seen."""

    def __init__(self, fmt: TextFormat, given: dict[str, np.ndarray]) -> None:
        self.fmt = fmt
        self.current = dict(given)
        self.seen: dict[str, np.ndarray] = {}
        self.out: list[str] = []

    def show(self, name: str) -> None:
        """Show ``name``'s current value, unless the reader has seen it with these numbers."""
        array = self.current[name]
        if name not in self.seen or not np.array_equal(self.seen[name], array):
            self.seen[name] = array
            self.out += self.fmt.matrix(name, array)


def explain_values(
    net: Any, x: Any, y: Any, format: str = "text", digits: int = 4, about: Sequence[str] = ()
) -> str:
    """The one-sample equations of :func:`deepmat.explain.explain` with ``net``'s numbers for
    sample ``x`` with target ``y`` (see :func:`sample_values`): after each equation, the
    matrices it reads that were not shown with these numbers before, then its result; the
    cost after the forward pass; the update lines are left out (they need a learning rate,
    not a sample).

    Args:
        format: one of :data:`FORMATS`.
        digits: significant digits of every number (1 to 17).
        about: lines that say which sample this is (user text: escaped for the format).

    Raises:
        ValueError: an unknown format or a bad ``digits``; ``x`` or ``y`` that the network
            does not take (the message says what it expected).
    """
    if format not in FORMATTERS:
        raise unknown_name("format", format, FORMATS)
    digits = check_number(digits, "digits", 1, 17, integer=True)
    values = sample_values(net, x, y)
    fmt = FORMATTERS[format](digits)
    lines = explain_lines(net=net, m=1, vectorised=False)
    sections = [i for i, line in enumerate(lines) if line.kind == "section"]
    cost = WORDS["cost_l2" if values.has_penalty else "cost"].format(
        L=net.L, value=number_text(values.cost, digits)
    )
    digits_line = WORDS["digits"].format(digits=digits, shown=MAX_SHOWN, half=MAX_SHOWN // 2)
    lines = [
        lines[0],
        *(ExplainLine("header", text) for text in (WORDS["subtitle"], *about, digits_line)),
        *lines[1 : sections[1] - 1],
        ExplainLine("blank", ""),
        ExplainLine("header", cost),
        *lines[sections[1] - 1 : sections[2] - 1],
    ]
    return fmt.document(_render(fmt, lines, values))


def _render(fmt: TextFormat, lines: list[ExplainLine], values: SampleValues) -> list[str]:
    """The lines in ``fmt``, each equation followed by the matrices it reads that the reader
    has not seen with these numbers, then its result (after the last line of its step that
    computes it: dW[l] after "dW[l] += λ·W[l]" when there is an L2 penalty); what no
    one-sample equation names comes last."""
    shown = _Shown(fmt, values.given)
    names = list(dict.fromkeys([*values.given, *(n for d in values.backward.values() for n in d)]))
    names += [n for d in values.forward.values() for n in d if n not in names]
    mentions = [_names_in(line.text, names) if line.kind == "equation" else [] for line in lines]
    results = [
        m[0] if m and line.text.startswith(m[0] + " ") else None
        for m, line in zip(mentions, lines, strict=True)
    ]
    last_result = {
        (id(line.step), result): i
        for i, (line, result) in enumerate(zip(lines, results, strict=True))
        if result
    }
    passes = iter([values.forward, values.backward])  # one per section: forward, backward
    computed = values.forward
    for i, line in enumerate(lines):
        if line.kind == "section":
            computed = next(passes)
        shown.out += fmt.line(line.kind, line.text)
        if line.kind != "equation":
            continue
        step, result = computed[(id(line.step.layer), line.step.kind)], results[i]
        for name in mentions[i][1:] if result else mentions[i]:
            if name in shown.current:
                shown.show(name)
        if result in step and last_result[(id(line.step), result)] == i:
            shown.current[result] = step[result]
            shown.show(result)
        following = lines[i + 1] if i + 1 < len(lines) else None
        if following is None or following.step is not line.step:  # the step's other results take effect
            shown.current.update(step)
    rest = [
        name
        for name, array in shown.current.items()
        if name not in shown.seen or not np.array_equal(shown.seen[name], array)
    ]
    if rest:
        shown.out += fmt.line("form", WORDS["others"])
        for name in rest:
            shown.show(name)
    return shown.out
