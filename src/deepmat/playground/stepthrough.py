"""One forward and backward pass of the network on a small batch, equation by equation: the
vectorised lines of :func:`deepmat.explain.explain_lines` (the same text ``deepmat explain``
prints, in English or Chinese), each with the values of every matrix it names.

The values are computed in the seeds' column layout with :mod:`deepmat.functional` —
:func:`~deepmat.functional.linear_forward` and the activations forward,
:func:`~deepmat.functional.output_delta`, the activations' backward and
:func:`~deepmat.functional.linear_backward` backward — on the network's parameters; a
dropout layer draws its mask with the network's own :class:`~deepmat.layers.Dropout` (on a
copy of the network, so that the session's random stream does not move), and the L2 line adds
λ·W[l] as :class:`~deepmat.layers.Dense` does. A[l] and Z[l] are ``(n[l], m)``, W[l]
``(n[l], n[l-1])``, b[l] ``(n[l], 1)``.

Each line is matched to the computation by the matrix it defines (its left-hand side): the
values of a group's left-hand sides are queued in the order the equations compute them, a
line takes the next value queued under its name, and the right-hand side reads the values as
they stand before the line. A line whose name finds nothing queued, or a value left over,
raises ``RuntimeError`` — the equations and the computation disagree.
"""

from __future__ import annotations

import re
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from deepmat import functional as F
from deepmat.activations import get_activation
from deepmat.explain import ExplainLine, explain_lines
from deepmat.layers import Dense, Dropout
from deepmat.losses import get_loss
from deepmat.network import Network

#: the largest batch the step-through shows (its matrices have m columns)
MAX_M = 16

#: a matrix named in an equation: name[l], an optional transpose, an optional (rows×cols)
MATRIX = re.compile(
    r"(?<![\w'])(dA|dZ|dW|db|A|Z|W|b|D)\[(\d+)\](ᵀ)?(?: \((\d+)×(\d+)[^)]*\))?|(?<!\w)(Y)\b(?: \((\d+)×(\d+)\))?"
)
#: an equation: its left-hand side, then = or +=
EQUATION = re.compile(r"^(d?[A-Za-z])\[(\d+)\](?: \([^)]*\))? \+?= ")
#: a definition: a matrix and its shape, then a colon (the dropout mask)
DEFINITION = re.compile(r"^(D)\[(\d+)\] \([^)]*\): ")


@dataclass
class _Group:
    """A layer's lines in one phase and the values its equations define, in order."""

    phase: str
    l: int
    title: str
    check: str = ""
    lines: list[str] = field(default_factory=list)
    one_sample: list[str] = field(default_factory=list)


def _parse(lines: list[ExplainLine]) -> list[_Group]:
    """The forward and backward groups of :func:`explain_lines`, with their vectorised lines
    and their layer's dimension check (read by the lines' kinds, in any language)."""
    groups: list[_Group] = []
    phases = iter(["forward", "backward", "update"])
    phase, forms = "", 0
    for line in lines:
        if line.kind == "section":
            phase = next(phases)
            if phase == "update":
                break
        elif phase and line.kind == "title":
            groups.append(_Group(phase, line.l, line.text))
            forms = 0
        elif groups and line.kind == "check":
            groups[-1].check = line.text
        elif groups and line.kind == "form":
            forms += 1  # a layer's one-sample form comes first, then the vectorised one
        elif groups and line.kind == "equation":
            (groups[-1].lines if forms == 2 else groups[-1].one_sample).append(line.text)
    checks = {g.l: g.check for g in groups if g.phase == "forward"}
    for group in groups:  # the layer's check covers dW, db, dZ and dA too
        group.check = group.check or checks.get(group.l, "")
    return groups


def _compute(net: Network, X: np.ndarray, y: np.ndarray) -> tuple[dict, dict]:
    """(the values each group's equations define, queued by name, keyed by (phase, l); the
    values known before any line: A[0], Y, W[l], b[l], D[l])."""
    copy = net.copy()
    dense = [layer for layer in copy.layers if isinstance(layer, Dense)]
    dropout = {layer.index: layer for layer in copy.layers if isinstance(layer, Dropout) and layer.rate > 0}
    L = len(dense)
    A = copy.input_columns(X)
    Y = copy.target_rows(y, X.shape[0]).T
    known: dict[str, np.ndarray] = {"A[0]": A, "Y": Y}
    queued: dict[tuple[str, int], dict[str, deque]] = defaultdict(lambda: defaultdict(deque))
    caches = []
    for layer in dense:
        l, W, b = layer.index, layer.W, layer.b
        known[f"W[{l}]"], known[f"b[{l}]"] = W, b
        Z, linear_cache = F.linear_forward(A, W, b, layer=l)
        A = get_activation(layer.activation).forward(Z)
        out = queued[("forward", l)]
        out[f"Z[{l}]"].append(Z)
        out[f"A[{l}]"].append(A)
        caches.append((linear_cache, Z, A))
        if l in dropout:
            A = dropout[l].forward(A, training=True)
            known[f"D[{l}]"] = (dropout[l].mask != 0).astype(A.dtype)
            out[f"A[{l}]"].append(A)
    AL, ZL = A, caches[-1][1]
    loss = get_loss(copy.loss)
    dA = None
    for layer in reversed(dense):
        l = layer.index
        linear_cache, Z, A_pre = caches[l - 1]
        out = queued[("backward", l)]
        if l == L:
            if loss.canonical_activation != copy.output_activation:
                out[f"dA[{l}]"].append(loss.gradient(AL, Y))
            dZ = F.output_delta(AL, Y, ZL, copy.loss, copy.output_activation)
        else:
            if l in dropout:
                dA = dropout[l].backward(dA)
                out[f"dA[{l}]"].append(dA)
            dZ = get_activation(layer.activation).backward(dA, Z, A_pre)
        out[f"dZ[{l}]"].append(dZ)
        dA, dW, db = F.linear_backward(dZ, linear_cache)
        out[f"dW[{l}]"].append(dW)
        out[f"db[{l}]"].append(db)
        if layer.l2:
            out[f"dW[{l}]"].append(dW + layer.l2 * layer.W)
        out[f"dA[{l - 1}]"].append(dA)
    return queued, known


def _significant(values: np.ndarray, digits: int = 6) -> list[Any]:
    """``values`` rounded to ``digits`` significant digits (what a hover shows), as lists."""
    values = values.astype(np.float64)
    magnitude = np.floor(np.log10(np.abs(values), where=values != 0, out=np.zeros_like(values)))
    scale = 10.0 ** (digits - 1 - magnitude)
    return (np.round(values * scale) / scale).tolist()


class _Arrays:
    """The distinct arrays the steps show, each sent once and referred to by its index."""

    def __init__(self) -> None:
        self.index: dict[int, int] = {}
        self.kept: list[np.ndarray] = []  # keeps each array alive, so that its id stays its own

    def ref(self, value: np.ndarray) -> int:
        if id(value) not in self.index:
            self.index[id(value)] = len(self.kept)
            self.kept.append(value)
        return self.index[id(value)]

    def to_json(self) -> list[dict[str, Any]]:
        return [{"shape": list(a.shape), "values": _significant(a)} for a in self.kept]


def _matrices(
    line: str, state: dict[str, np.ndarray], lhs: tuple[str, np.ndarray] | None, arrays: _Arrays
) -> list[dict]:
    """The matrices ``line`` names, in order, once each: the left-hand side (``side`` "left")
    with its new value, the others ("right") with their values in ``state``. Raises
    ``RuntimeError`` where the line writes a shape the array does not have."""
    found, seen = [], set()
    for match in MATRIX.finditer(line):
        if match.group(6):
            name, transposed, written = "Y", False, match.group(7, 8)
        else:
            name, transposed = f"{match.group(1)}[{match.group(2)}]", bool(match.group(3))
            written = match.group(4, 5)
        side = "left" if lhs is not None and not found and name == lhs[0] else "right"
        if (name, transposed, side) in seen:
            continue
        seen.add((name, transposed, side))
        value = lhs[1] if side == "left" else state.get(name)
        if value is None:
            continue
        shape = list(value.T.shape if transposed else value.shape)
        written = None if written[0] is None else [int(written[0]), int(written[1])]
        if written is not None and written != shape:
            raise RuntimeError(f"{line!r} writes {name} as {written} but it is {shape}")
        found.append(
            {
                "name": name + ("ᵀ" if transposed else ""),
                "array": arrays.ref(value),
                "transposed": transposed,
                "shape": shape,
                "written": written,
                "side": side,
            }
        )
    return found


def step_through(
    net: Network, X: np.ndarray, y: np.ndarray, m: int = MAX_M, lang: str = "en"
) -> dict[str, Any]:
    """The step-through of one forward and backward pass of ``net`` on rows ``X`` ``(m, n[0])``
    and labels ``y``: the first ``m`` rows (a batch; :data:`MAX_M` at most). Returns ``m``, ``layer_dims``, a
    list of ``steps``, each ``{phase, l, title, check, equation, notes, matrices,
    one_sample}``, and the ``arrays`` they show, each ``{shape, values}`` (rows of values to 6
    significant digits) and sent once. ``matrices`` lists ``{name, array, transposed, shape,
    written, side}``: ``array`` an index into ``arrays``, shown transposed or not, ``shape``
    (rows, columns) as shown, ``written`` the shape the equation writes (None where it writes
    none; when given, always ``shape``), ``side`` "left" for the matrix the line defines.
    Titles, checks and notes are in ``lang``; the equations are the same in every language."""
    m = min(m, MAX_M, X.shape[0])
    X, y = X[:m], y[:m]
    queued, state = _compute(net, X, y)
    arrays = _Arrays()
    steps: list[dict[str, Any]] = []
    for group in _parse(explain_lines(net=net, m=m, lang=lang)):
        values = queued[(group.phase, group.l)]
        for line in group.lines:
            equation = EQUATION.match(line)
            if equation is None and DEFINITION.match(line) is None:
                if steps:  # a note on the equation before it
                    steps[-1]["notes"].append(line)
                continue
            lhs, shown = None, line
            if equation is None:  # the mask's definition: the mask alone, not the words after it
                shown = line.split(":", 1)[0]
            else:
                name = f"{equation.group(1)}[{equation.group(2)}]"
                if not values[name]:
                    raise RuntimeError(f"the step-through computed no value for {name} in {line!r}")
                lhs = (name, values[name].popleft())
            steps.append(
                {
                    "phase": group.phase,
                    "l": group.l,
                    "title": group.title,
                    "check": group.check,
                    "equation": line,
                    "notes": [],
                    "matrices": _matrices(shown, state, lhs, arrays),
                    "one_sample": group.one_sample,
                }
            )
            if lhs is not None:
                state[lhs[0]] = lhs[1]
        left = [name for name, queue in values.items() if queue]
        if left:
            raise RuntimeError(f"layer {group.l}, {group.phase}: no equation shows {left}")
    return {"m": m, "layer_dims": net.layer_dims, "arrays": arrays.to_json(), "steps": steps}
