"""The report of a training run: one self-contained HTML page, ``report.html`` in the run
folder — the style inline, the plots and pictures embedded as ``data:`` PNGs, no script, no
font and no file or address outside the page (its Content-Security-Policy forbids them).

:func:`render` writes the sections of a :class:`RunReport`, in this order (the ``id`` of each
``<section>`` in brackets): the results [results], the resolved configuration [configuration],
the loss and accuracy curves [curves], the confusion matrix in counts and normalised by row
[confusion], each class's precision, recall and F1 [per-class], the most confidently wrong
test examples with their probabilities and pictures [wrong], the network — its layer table and
the explanation of its equations [network] — the gradient check [gradcheck] and the timing
[timing]. Every text that comes from outside (class names, file and folder names, config
values) is HTML-escaped: it shows as the characters it is.

Gathering the numbers is the run folder's business (:mod:`deepmat.cli.runs`); this module
only writes the page.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from deepmat.formatting import duration

#: Every word of the page (a language is another such table).
WORDS = {
    "title": "deepmat run report — {run}",
    "generated": "deepmat {version}, written {when}",
    "results": "Results",
    "test_accuracy": "test accuracy",
    "test_loss": "test loss (cost J)",
    "train_accuracy": "train accuracy",
    "train_loss": "train loss (cost J)",
    "samples": "{correct} of {n} samples",
    "configuration": "Configuration",
    "config_note": "the settings the run used, defaults resolved (config.json)",
    "setting": "setting",
    "value": "value",
    "curves": "Training curves",
    "no_plots": "No plots: matplotlib is not installed (pip install 'deepmat[plot]' draws them).",
    "confusion": "Confusion matrix (test set)",
    "confusion_note": "rows: the true class, columns: the predicted class",
    "counts": "counts",
    "normalised": "normalised by row (the share of each true class predicted as each class)",
    "true_predicted": "true \\ predicted",
    "per_class": "Precision, recall and F1 per class (test set)",
    "class": "class",
    "precision": "precision",
    "recall": "recall",
    "f1": "F1",
    "support": "samples",
    "wrong": "Most confidently wrong test examples",
    "wrong_note": "the misclassified test samples the network was surest of, surest first",
    "no_wrong": "No test sample is misclassified.",
    "sample": "test sample",
    "picture": "picture",
    "true": "true class",
    "predicted": "predicted class",
    "p_predicted": "P(predicted)",
    "p_true": "P(true)",
    "network": "Network",
    "explanation": "The equations of its forward and backward pass, with every shape (deepmat explain)",
    "gradcheck": "Gradient check",
    "gradcheck_about": "{samples} training samples, up to {entries} entries per parameter, central "
    "differences on a float64 copy of the network, inference mode",
    "passed": "passed",
    "failed": "FAILED",
    "timing": "Timing",
    "train_time": "training time",
    "steps": "{unit}s",
    "per_step": "time per {unit}",
    "resumed": "resumed run: the time is this session's, the {unit}s the whole run's",
}

STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; border-bottom: 1px solid #ccc; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { padding: 2px 8px; border: 1px solid #ddd; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
img.plot { max-width: 48%; margin-right: 1%; }
img.picture { width: 84px; image-rendering: pixelated; }
.note { color: #555; font-size: 0.9em; }
.ok { color: #1a7f37; font-weight: bold; } .fail { color: #c00; font-weight: bold; }
""".strip()
#: nothing but the page itself: inline style, data: pictures, no script, no connection
POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


@dataclass
class WrongExample:
    """A misclassified test sample: its row, its true and predicted class names, their
    probabilities, and its picture as PNG bytes (None when the samples are not pictures)."""

    index: int
    true: str
    predicted: str
    p_predicted: float
    p_true: float
    picture: bytes | None = None


@dataclass
class RunReport:
    """What the page shows.

    ``config``: the resolved configuration (nested dicts: section → key → value).
    ``results``: ``test_accuracy``, ``test_loss``, ``train_accuracy``, ``train_loss``,
    ``test_correct``, ``n_test``, ``train_correct``, ``n_train``. ``curves``: PNG bytes by
    title (empty when ``plots_missing``). ``confusion``: ``(k, k)`` counts, true class by row.
    ``per_class``: dicts with ``class``, ``precision``, ``recall``, ``f1``, ``count``.
    ``network_html``: the layer table as HTML (:func:`deepmat.summary.summary_html`, escaped
    already). ``gradcheck``: the check's report lines, ``gradcheck_checked`` its (samples,
    entries per parameter); ``timing``: ``seconds``, ``steps``,
    ``unit`` (epoch or iteration), ``resumed``.
    """

    run: str
    version: str
    written: str
    config: dict[str, Any]
    results: dict[str, Any]
    classes: list[str]
    confusion: np.ndarray
    per_class: list[dict[str, Any]]
    wrong: list[WrongExample]
    network_html: str
    explain_text: str
    gradcheck_checked: tuple[int, int]
    gradcheck: str
    gradcheck_passed: bool
    timing: dict[str, Any]
    curves: dict[str, bytes] = field(default_factory=dict)
    plots_missing: bool = False


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def data_uri(png: bytes) -> str:
    """A PNG as a ``data:`` address the page embeds."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], numeric: Sequence[int] = ()) -> str:
    """An HTML table; a cell given as ``(text, style)`` gets that inline style; every text escaped."""

    def cell(i: int, value: Any) -> str:
        text, style = value if isinstance(value, tuple) else (value, "")
        attrs = (' class="n"' if i in numeric else "") + (f' style="{style}"' if style else "")
        return f"<td{attrs}>{_e(text)}</td>"

    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "\n".join("<tr>" + "".join(cell(i, v) for i, v in enumerate(row)) + "</tr>" for row in rows)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def _section(key: str, body: str, note: str | None = None) -> str:
    note_html = f'<p class="note">{_e(WORDS[note])}</p>\n' if note else ""
    return f'<section id="{key}">\n<h2>{_e(WORDS[key])}</h2>\n{note_html}{body}\n</section>'


def _share(value: float) -> str:
    """A cell's shade for a share in [0, 1]."""
    return f"background: rgba(31, 119, 180, {0.85 * value:.3f}); color: {'#fff' if value > 0.55 else '#222'}"


def _results(results: dict[str, Any]) -> str:
    rows = [
        (WORDS["test_accuracy"], f"{results['test_accuracy']:.4f}", WORDS["samples"].format(correct=results["test_correct"], n=results["n_test"])),
        (WORDS["test_loss"], f"{results['test_loss']:.4f}", ""),
        (WORDS["train_accuracy"], f"{results['train_accuracy']:.4f}", WORDS["samples"].format(correct=results["train_correct"], n=results["n_train"])),
        (WORDS["train_loss"], f"{results['train_loss']:.4f}", ""),
    ]  # fmt: skip
    return _table(("", WORDS["value"], ""), rows, numeric=(1,))


def _configuration(config: dict[str, Any]) -> str:
    rows = []
    for key, value in config.items():
        if isinstance(value, dict):
            rows += [(f"{key}.{sub}", json.dumps(v, ensure_ascii=False)) for sub, v in value.items()]
        else:
            rows.append((key, json.dumps(value, ensure_ascii=False)))
    return _table((WORDS["setting"], WORDS["value"]), rows)


def _curves(report: RunReport) -> str:
    if report.plots_missing or not report.curves:
        return f"<p>{_e(WORDS['no_plots'])}</p>"
    return "\n".join(
        f'<img class="plot" alt="{_e(title)}" src="{data_uri(png)}">' for title, png in report.curves.items()
    )


def _confusion(classes: list[str], confusion: np.ndarray) -> str:
    counts = np.asarray(confusion)
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    peak = max(int(counts.max()), 1) if counts.size else 1
    header = (WORDS["true_predicted"], *classes)
    counted = [
        (name, *((int(c), _share(c / peak)) for c in row)) for name, row in zip(classes, counts, strict=True)
    ]
    normalised = [
        (name, *((f"{s:.3f}", _share(s)) for s in row)) for name, row in zip(classes, shares, strict=True)
    ]
    numeric = range(1, len(classes) + 1)
    return "\n".join(
        [
            f"<h3>{_e(WORDS['counts'])}</h3>",
            _table(header, counted, numeric),
            f"<h3>{_e(WORDS['normalised'])}</h3>",
            _table(header, normalised, numeric),
        ]
    )


def _per_class(per_class: list[dict[str, Any]]) -> str:
    rows = [
        (c["class"], f"{c['precision']:.4f}", f"{c['recall']:.4f}", f"{c['f1']:.4f}", c["count"])
        for c in per_class
    ]
    header = (WORDS["class"], WORDS["precision"], WORDS["recall"], WORDS["f1"], WORDS["support"])
    return _table(header, rows, numeric=(1, 2, 3, 4))


def _wrong(wrong: list[WrongExample]) -> str:
    if not wrong:
        return f"<p>{_e(WORDS['no_wrong'])}</p>"
    pictures = any(w.picture is not None for w in wrong)
    header = [*([WORDS["picture"]] if pictures else []), WORDS["sample"], WORDS["true"], WORDS["predicted"],
              WORDS["p_predicted"], WORDS["p_true"]]  # fmt: skip
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    rows = []
    for w in wrong:
        cells = []
        if pictures:
            image = (
                ""
                if w.picture is None
                else f'<img class="picture" alt="{_e(w.index)}" src="{data_uri(w.picture)}">'
            )
            cells.append(f"<td>{image}</td>")
        cells += [f'<td class="n">{_e(w.index)}</td>', f"<td>{_e(w.true)}</td>", f"<td>{_e(w.predicted)}</td>",
                  f'<td class="n">{w.p_predicted:.4f}</td>', f'<td class="n">{w.p_true:.4f}</td>']  # fmt: skip
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>"


def _network(report: RunReport) -> str:
    return f"{report.network_html}\n<h3>{_e(WORDS['explanation'])}</h3>\n<pre>{_e(report.explain_text)}</pre>"


def _gradcheck(report: RunReport) -> str:
    verdict = (
        f'<span class="ok">{_e(WORDS["passed"])}</span>'
        if report.gradcheck_passed
        else f'<span class="fail">{_e(WORDS["failed"])}</span>'
    )
    samples, entries = report.gradcheck_checked
    about = WORDS["gradcheck_about"].format(samples=samples, entries=entries)
    return f"<p>{verdict}: {_e(about)}</p>\n<pre>{_e(report.gradcheck)}</pre>"


def _timing(timing: dict[str, Any]) -> str:
    unit, steps, seconds = timing["unit"], timing["steps"], timing["seconds"]
    rows = [(WORDS["train_time"], duration(seconds)), (WORDS["steps"].format(unit=unit), steps)]
    if timing.get("resumed"):
        rows.append(("", WORDS["resumed"].format(unit=unit)))
    elif steps:
        rows.append((WORDS["per_step"].format(unit=unit), duration(seconds / steps)))
    return _table(("", WORDS["value"]), rows)


def render(report: RunReport) -> str:
    """The page of ``report``: a complete HTML document, every outside text escaped."""
    title = WORDS["title"].format(run=report.run)
    sections = [
        _section("results", _results(report.results)),
        _section("configuration", _configuration(report.config), "config_note"),
        _section("curves", _curves(report)),
        _section("confusion", _confusion(report.classes, report.confusion), "confusion_note"),
        _section("per_class", _per_class(report.per_class)),
        _section("wrong", _wrong(report.wrong), "wrong_note"),
        _section("network", _network(report)),
        _section("gradcheck", _gradcheck(report)),
        _section("timing", _timing(report.timing)),
    ]
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">',
            f"<title>{_e(title)}</title>",
            f"<style>\n{STYLE}\n</style>",
            "</head>",
            "<body>",
            f"<h1>{_e(title)}</h1>",
            f'<p class="note">{_e(WORDS["generated"].format(version=report.version, when=report.written))}</p>',
            *sections,
            "</body>",
            "</html>",
            "",
        ]
    )
