"""A network's layers as a table — output shape, W and b (γ and β for batch norm) shapes,
parameter counts, activations — and its totals: as text (``deepmat summary``,
:func:`deepmat.explain.summary`) and as HTML (``Network._repr_html_`` in a notebook, the run
report).

The table is read from the network's layers (``summary_row``, ``params``, ``n_out``); this
module imports no network, so :class:`~deepmat.Network` itself can show it.
"""

from __future__ import annotations

import html
import unicodedata
from dataclasses import dataclass
from typing import Any

from deepmat.i18n import Words

#: The table's words; ``WORDS_ZH`` the same in Chinese (:mod:`deepmat.i18n`).
WORDS = {
    "title": "Network {dims}: one sample per column inside, outputs (n[l], m) for a batch of m samples",
    "columns": ("layer", "output shape", "W / γ", "b / β", "parameters", "activation"),
    "trainable": "Trainable parameters: {count:,}",
    "non_trainable": "Non-trainable parameters: {count:,} (batch-norm running mean and variance)",
    "input": "Input n[0] = {n0} · L = {L} · dtype {dtype} · loss {loss}",
    "l2": "L2 penalty: ",
}
WORDS_ZH = {
    "title": "网络 {dims}：内部[[one_sample]]是一[[column]]，m 个[[sample]]的一[[batch]]输出 (n[l], m)",
    "columns": (
        "[[layer]]",
        "输出的[[shape]]",
        "W / γ",
        "b / β",
        "[[parameter]]个数",
        "[[activation_function]]",
    ),
    "trainable": "可训练的[[parameter]]：{count:,}",
    "non_trainable": "不可训练的[[parameter]]：{count:,}（[[batch_norm]]的运行均值和方差）",
    "input": "输入 n[0] = {n0} · L = {L} · 数据类型 {dtype} · [[loss_function]] {loss}",
    "l2": "[[l2_penalty]]：",
}
words = Words(en=WORDS, zh=WORDS_ZH)
#: the column of parameter counts, right-aligned
COUNT_COLUMN = 4


@dataclass(frozen=True)
class SummaryTable:
    """The title, the column names, one row of cells per layer object, and the footer lines."""

    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]
    footer: list[str]


def summary_table(net: Any, lang: str = "en") -> SummaryTable:
    """The table of a :class:`~deepmat.Network` ``net``: a row per layer object (label, output
    shape (n[l], m), W or γ shape, b or β shape, trainable parameters, activation), its words
    in ``lang``."""
    w = words(lang)
    rows = []
    for layer in net.layers:
        label, weight, bias, activation = layer.summary_row()
        count = sum(a.size for a in layer.params.values())
        rows.append((label, f"({layer.n_out}, m)", weight, bias, f"{count:,}", activation))
    l2 = {layer.index: layer.l2 for layer in net.layers if getattr(layer, "l2", None)}
    footer = [
        w["trainable"].format(count=sum(a.size for a in net.params.values())),
        w["non_trainable"].format(count=sum(a.size for a in net.buffers.values())),
        w["input"].format(n0=net.layer_dims[0], L=net.L, dtype=net.dtype.name, loss=net.loss),
    ]
    if l2:
        footer.append(w["l2"] + ", ".join(f"λ[{l}] = {v:g}" for l, v in l2.items()))
    return SummaryTable(w["title"].format(dims=net.layer_dims), w["columns"], rows, footer)


def display_width(text: str) -> int:
    """The columns ``text`` takes in a terminal: two for a wide (Chinese) character."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def summary_text(net: Any, lang: str = "en") -> str:
    """:func:`summary_table` as aligned text, the columns two spaces apart, ruled above and below
    the rows (aligned by :func:`display_width`, so Chinese headers line up too)."""
    table = summary_table(net, lang)
    every = [table.columns, *table.rows]
    widths = [max(display_width(row[i]) for row in every) for i in range(len(table.columns))]

    def line(row: tuple[str, ...]) -> str:
        cells = [
            " " * (w - display_width(c)) + c if i == COUNT_COLUMN else c + " " * (w - display_width(c))
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    rule = "─" * (sum(widths) + 2 * (len(widths) - 1))
    return "\n".join([table.title, line(table.columns), rule, *map(line, table.rows), rule, *table.footer])


def summary_html(net: Any, lang: str = "en") -> str:
    """:func:`summary_table` as an HTML ``<table>`` (class ``deepmat-summary``): the title as
    its caption, the footer lines in ``<tfoot>``; every text escaped, styled inline."""
    table = summary_table(net, lang)
    e = html.escape
    cell = 'style="padding:2px 10px;text-align:{align};font-family:monospace"'

    def row(tag: str, cells: tuple[str, ...]) -> str:
        return (
            "<tr>"
            + "".join(
                f"<{tag} {cell.format(align='right' if i == COUNT_COLUMN else 'left')}>{e(c)}</{tag}>"
                for i, c in enumerate(cells)
            )
            + "</tr>"
        )

    span = len(table.columns)
    return "\n".join(
        [
            '<table class="deepmat-summary" style="border-collapse:collapse">',
            f'<caption style="text-align:left;font-weight:bold">{e(table.title)}</caption>',
            f"<thead>{row('th', table.columns)}</thead>",
            "<tbody>",
            *(row("td", r) for r in table.rows),
            "</tbody>",
            "<tfoot>",
            *(
                f'<tr><td colspan="{span}" style="padding:2px 10px">{e(text)}</td></tr>'
                for text in table.footer
            ),
            "</tfoot>",
            "</table>",
        ]
    )
