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
most :data:`MAX_SHOWN` rows and columns, in one of :data:`FORMATS` (text, Markdown, LaTeX;
:mod:`deepmat.explain_formats` lays them out).

With m = 1, dW = dz·aᵀ and db = dz: the gradient of this one sample's loss, the cost J = L.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from deepmat._checks import check_number, unknown_name
from deepmat.explain import ExplainLine, Writer, explain_groups, explain_lines
from deepmat.explain_formats import FORMATS, FORMATTERS, MAX_SHOWN, TextFormat, number_text
from deepmat.i18n import Words, language
from deepmat.losses import get_loss

#: Every word this module adds to explain's lines; ``WORDS_ZH`` the same in Chinese (:mod:`deepmat.i18n`).
WORDS = {
    "subtitle": "with the numbers of one sample (m = 1), in inference mode: dropout is the identity, "
    "batch norm uses its running estimates",
    "digits": "numbers to {digits} significant digits; at most {shown} rows and columns of a matrix "
    "(the first and last {half})",
    "cost": "cost of this sample (m = 1): J = L(a[{L}], y) = {value}",
    "cost_l2": "cost of this sample (m = 1): J = L(a[{L}], y) + L2 penalty = {value}",
    "others": "gradients the one-sample equations leave to the vectorised form (batch norm's):",
}
WORDS_ZH = {
    "subtitle": "[[one_sample]]（m = 1）的数值，[[inference]]模式：[[dropout]]不起作用，[[batch_norm]]使用运行估计",
    "digits": "数值保留 {digits} 位有效数字；矩阵最多显示 {shown} 行、{shown} 列（前 {half} 个和后 {half} 个）",
    "cost": "这个[[sample]]的[[cost]]（m = 1）：J = L(a[{L}], y) = {value}",
    "cost_l2": "这个[[sample]]的[[cost]]（m = 1）：J = L(a[{L}], y) + [[l2_penalty]] = {value}",
    "others": "[[one_sample]]的公式留给[[vectorised]]形式的[[gradient]]（[[batch_norm]]的）：",
}
words = Words(en=WORDS, zh=WORDS_ZH)

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
    given = {name: array.copy() for name, array in given.items()}  # not the network's live arrays
    forward, backward = (
        {key: {name: array.copy() for name, array in d.items()} for key, d in part.items()}
        for part in (forward, backward)
    )
    return SampleValues(
        given, forward, backward, net.compute_cost(AL, Y), any(layer.penalty() for layer in net.layers)
    )


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
    net: Any,
    x: Any,
    y: Any,
    format: str = "text",
    digits: int = 4,
    about: Sequence[str] = (),
    lang: str | None = "en",
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
        lang: the language of the words (:func:`deepmat.explain.explain_lines`); the LaTeX
            document of a Chinese text compiles with xelatex (xeCJK).

    Raises:
        ValueError: an unknown format, language or a bad ``digits``; ``x`` or ``y`` that the
            network does not take (the message says what it expected).
    """
    if format not in FORMATTERS:
        raise unknown_name("format", format, FORMATS)
    digits = check_number(digits, "digits", 1, 17, integer=True)
    lang = language(lang)
    w = words(lang)
    values = sample_values(net, x, y)
    fmt = FORMATTERS[format](digits, lang)
    lines = explain_lines(net=net, m=1, vectorised=False, lang=lang)
    sections = [i for i, line in enumerate(lines) if line.kind == "section"]
    cost = w["cost_l2" if values.has_penalty else "cost"].format(
        L=net.L, value=number_text(values.cost, digits)
    )
    digits_line = w["digits"].format(digits=digits, shown=MAX_SHOWN, half=MAX_SHOWN // 2)
    lines = [
        lines[0],
        *(ExplainLine("header", text) for text in (w["subtitle"], *about, digits_line)),
        *lines[1 : sections[1] - 1],
        ExplainLine("blank", ""),
        ExplainLine("header", cost),
        *lines[sections[1] - 1 : sections[2] - 1],
    ]
    return fmt.document(_render(fmt, lines, values, w))


def _render(fmt: TextFormat, lines: list[ExplainLine], values: SampleValues, w: Any) -> list[str]:
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
        shown.out += fmt.line("form", w["others"])
        for name in rest:
            shown.show(name)
    return shown.out
