"""How :mod:`deepmat.explain_values` writes its lines and matrices, one class per format.

- :class:`TextFormat`: explain's own layout; a matrix under its equation, one row per line
  (a column on one line, as a transposed row), columns aligned;
- :class:`MarkdownFormat`: headings for the sections and layers, each equation as code, each
  matrix as a table (row and column indices from 0, as NumPy counts);
- :class:`LatexFormat`: an ASCII LaTeX document (``article`` + ``amsmath``), each matrix a
  displayed ``bmatrix`` with its shape.

Every format shows at most :data:`MAX_SHOWN` rows and columns of a matrix — the first and
the last half, with ⋮, … and ⋱ (``\\vdots``, ``\\cdots``, ``\\ddots``) where some are left out —
at a given number of significant digits, and escapes the text it is given for itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from deepmat.explain import LINE_INDENT

FORMATS = ("text", "markdown", "latex")
#: at most this many rows and columns of a matrix are shown: the first and the last half
MAX_SHOWN = 6


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

    def __init__(self, digits: int, lang: str = "en") -> None:
        self.digits = digits
        self.lang = lang

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


#: The preamble of a LaTeX document with Chinese words: xelatex and the xeCJK package, with the
#: CJK font of the plots (Noto Sans CJK SC: Debian's fonts-noto-cjk; texlive-xetex, texlive-lang-chinese)
CJK_PREAMBLE = (
    "% Chinese words: compile with xelatex (xeCJK; the font from fonts-noto-cjk)",
    r"\usepackage{xeCJK}",
    r"\setCJKmainfont{Noto Sans CJK SC}",
)
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
        """The document: ASCII for English (pdflatex); with Chinese words, xeCJK and the
        Noto CJK font (:data:`CJK_PREAMBLE`: compile it with xelatex)."""
        packages = [r"\usepackage{amsmath}", *(CJK_PREAMBLE if self.lang != "en" else [])]
        head = [r"\documentclass{article}", *packages, r"\begin{document}", ""]
        return "\n".join([*head, *lines, r"\end{document}"])


FORMATTERS: dict[str, type[TextFormat]] = {
    "text": TextFormat,
    "markdown": MarkdownFormat,
    "latex": LatexFormat,
}
