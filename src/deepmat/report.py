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

from deepmat.fonts import BASE_FAMILY, CJK_FAMILIES
from deepmat.formatting import duration
from deepmat.i18n import Words, resolve

#: Every word of the page; ``WORDS_ZH`` the same in Chinese (:mod:`deepmat.i18n`).
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
WORDS_ZH = {
    "title": "deepmat 训练报告 — {run}",
    "generated": "deepmat {version}，写于 {when}",
    "results": "结果",
    "test_accuracy": "[[test_set]][[accuracy]]",
    "test_loss": "[[test_set]][[loss]]（[[cost]] J）",
    "train_accuracy": "[[training_set]][[accuracy]]",
    "train_loss": "[[training_set]][[loss]]（[[cost]] J）",
    "samples": "{n} 个[[sample]]中的 {correct} 个",
    "configuration": "配置",
    "config_note": "这次训练使用的设置，默认值已填入（config.json）",
    "setting": "设置",
    "value": "值",
    "curves": "训练曲线",
    "no_plots": "没有图：未安装 matplotlib（pip install 'deepmat[plot]' 可以画出它们）。",
    "confusion": "[[confusion_matrix]]（[[test_set]]）",
    "confusion_note": "行：真实的[[class]]，列：预测的[[class]]",
    "counts": "计数",
    "normalised": "按行归一化（每个真实[[class]]被预测为各[[class]]的比例）",
    "true_predicted": "真实 \\ 预测",
    "per_class": "每个[[class]]的[[precision]]、[[recall]]和 F1（[[test_set]]）",
    "class": "[[class]]",
    "precision": "[[precision]]",
    "recall": "[[recall]]",
    "f1": "F1",
    "support": "[[sample]]数",
    "wrong": "最有把握却错了的[[test_set]][[sample]]",
    "wrong_note": "网络最有把握的被误分类的[[test_set]][[sample]]，最有把握的在前",
    "no_wrong": "没有被误分类的[[test_set]][[sample]]。",
    "sample": "[[test_set]][[sample]]",
    "picture": "图片",
    "true": "真实的[[class]]",
    "predicted": "预测的[[class]]",
    "p_predicted": "P(预测)",
    "p_true": "P(真实)",
    "network": "网络",
    "explanation": "它的[[forward_propagation]]和[[backward_propagation]]的公式，以及每个[[matrix_shape]]（deepmat explain）",
    "gradcheck": "[[gradient_check]]",
    "gradcheck_about": "{samples} 个[[training_set]][[sample]]，每个[[parameter]]最多 {entries} 个元素，在网络的 float64 "
    "副本上用中心差分，[[inference]]模式",
    "passed": "通过",
    "failed": "未通过",
    "timing": "用时",
    "train_time": "训练用时",
    "steps": "{unit}数",
    "per_step": "每{unit}用时",
    "resumed": "继续的训练：时间是这次的，{unit}数是整个训练的",
}
words = Words(en=WORDS, zh=WORDS_ZH)
#: the units of the timing table, in Chinese (English writes the unit as it is)
UNITS_ZH = {"epoch": "[[epoch]]", "iteration": "次[[iteration]]"}

#: the page's fonts: the plots' (:mod:`deepmat.fonts`), a CJK one for Chinese class names and words
FONT_FAMILY = ", ".join(f'"{name}"' for name in (BASE_FAMILY, *CJK_FAMILIES)) + ", sans-serif"
#: the ``<html lang>`` of each language
HTML_LANG = {"en": "en", "zh": "zh-CN"}
STYLE = """
body { font-family: FONTS; margin: 2em auto; max-width: 72em; padding: 0 1em; color: #222; }
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


def _section(key: str, body: str, w: Any, note: str | None = None) -> str:
    note_html = f'<p class="note">{_e(w[note])}</p>\n' if note else ""
    return f'<section id="{key}">\n<h2>{_e(w[key])}</h2>\n{note_html}{body}\n</section>'


def _share(value: float) -> str:
    """A cell's shade for a share in [0, 1]."""
    return f"background: rgba(31, 119, 180, {0.85 * value:.3f}); color: {'#fff' if value > 0.55 else '#222'}"


def _results(results: dict[str, Any], w: Any) -> str:
    rows = [
        (w["test_accuracy"], f"{results['test_accuracy']:.4f}", w["samples"].format(correct=results["test_correct"], n=results["n_test"])),
        (w["test_loss"], f"{results['test_loss']:.4f}", ""),
        (w["train_accuracy"], f"{results['train_accuracy']:.4f}", w["samples"].format(correct=results["train_correct"], n=results["n_train"])),
        (w["train_loss"], f"{results['train_loss']:.4f}", ""),
    ]  # fmt: skip
    return _table(("", w["value"], ""), rows, numeric=(1,))


def _configuration(config: dict[str, Any], w: Any) -> str:
    rows = []
    for key, value in config.items():
        if isinstance(value, dict):
            rows += [(f"{key}.{sub}", json.dumps(v, ensure_ascii=False)) for sub, v in value.items()]
        else:
            rows.append((key, json.dumps(value, ensure_ascii=False)))
    return _table((w["setting"], w["value"]), rows)


def _curves(report: RunReport, w: Any) -> str:
    if report.plots_missing or not report.curves:
        return f"<p>{_e(w['no_plots'])}</p>"
    return "\n".join(
        f'<img class="plot" alt="{_e(title)}" src="{data_uri(png)}">' for title, png in report.curves.items()
    )


def _confusion(classes: list[str], confusion: np.ndarray, w: Any) -> str:
    counts = np.asarray(confusion)
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    peak = max(int(counts.max()), 1) if counts.size else 1
    header = (w["true_predicted"], *classes)
    counted = [
        (name, *((int(c), _share(c / peak)) for c in row)) for name, row in zip(classes, counts, strict=True)
    ]
    normalised = [
        (name, *((f"{s:.3f}", _share(s)) for s in row)) for name, row in zip(classes, shares, strict=True)
    ]
    numeric = range(1, len(classes) + 1)
    return "\n".join(
        [
            f"<h3>{_e(w['counts'])}</h3>",
            _table(header, counted, numeric),
            f"<h3>{_e(w['normalised'])}</h3>",
            _table(header, normalised, numeric),
        ]
    )


def _per_class(per_class: list[dict[str, Any]], w: Any) -> str:
    rows = [
        (c["class"], f"{c['precision']:.4f}", f"{c['recall']:.4f}", f"{c['f1']:.4f}", c["count"])
        for c in per_class
    ]
    header = (w["class"], w["precision"], w["recall"], w["f1"], w["support"])
    return _table(header, rows, numeric=(1, 2, 3, 4))


def _wrong(wrong: list[WrongExample], w: Any) -> str:
    if not wrong:
        return f"<p>{_e(w['no_wrong'])}</p>"
    pictures = any(example.picture is not None for example in wrong)
    header = [*([w["picture"]] if pictures else []), w["sample"], w["true"], w["predicted"],
              w["p_predicted"], w["p_true"]]  # fmt: skip
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    rows = []
    for example in wrong:
        cells = []
        if pictures:
            image = (
                ""
                if example.picture is None
                else f'<img class="picture" alt="{_e(example.index)}" src="{data_uri(example.picture)}">'
            )
            cells.append(f"<td>{image}</td>")
        cells += [f'<td class="n">{_e(example.index)}</td>', f"<td>{_e(example.true)}</td>", f"<td>{_e(example.predicted)}</td>",
                  f'<td class="n">{example.p_predicted:.4f}</td>', f'<td class="n">{example.p_true:.4f}</td>']  # fmt: skip
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>"


def _network(report: RunReport, w: Any) -> str:
    return f"{report.network_html}\n<h3>{_e(w['explanation'])}</h3>\n<pre>{_e(report.explain_text)}</pre>"


def _gradcheck(report: RunReport, w: Any) -> str:
    verdict = (
        f'<span class="ok">{_e(w["passed"])}</span>'
        if report.gradcheck_passed
        else f'<span class="fail">{_e(w["failed"])}</span>'
    )
    samples, entries = report.gradcheck_checked
    about = w["gradcheck_about"].format(samples=samples, entries=entries)
    return f"<p>{verdict}: {_e(about)}</p>\n<pre>{_e(report.gradcheck)}</pre>"


def _timing(timing: dict[str, Any], w: Any) -> str:
    unit, steps, seconds = timing["unit"], timing["steps"], timing["seconds"]
    rows = [(w["train_time"], duration(seconds)), (w["steps"].format(unit=unit), steps)]
    if timing.get("resumed"):
        rows.append(("", w["resumed"].format(unit=unit)))
    elif steps:
        rows.append((w["per_step"].format(unit=unit), duration(seconds / steps)))
    return _table(("", w["value"]), rows)


def render(report: RunReport, lang: str = "en") -> str:
    """The page of ``report``, its words in ``lang``: a complete HTML document, every outside
    text escaped, its ``<html lang>`` the language's and its fonts CJK-capable
    (:data:`FONT_FAMILY`), so Chinese class names and words show as characters."""
    w = words(lang)
    timing = report.timing
    if lang == "zh":
        timing = {**timing, "unit": resolve(UNITS_ZH.get(timing["unit"], timing["unit"]), lang)}
    title = w["title"].format(run=report.run)
    sections = [
        _section("results", _results(report.results, w), w),
        _section("configuration", _configuration(report.config, w), w, "config_note"),
        _section("curves", _curves(report, w), w),
        _section("confusion", _confusion(report.classes, report.confusion, w), w, "confusion_note"),
        _section("per_class", _per_class(report.per_class, w), w),
        _section("wrong", _wrong(report.wrong, w), w, "wrong_note"),
        _section("network", _network(report, w), w),
        _section("gradcheck", _gradcheck(report, w), w),
        _section("timing", _timing(timing, w), w),
    ]
    return "\n".join(
        [
            "<!DOCTYPE html>",
            f'<html lang="{HTML_LANG[lang]}">',
            "<head>",
            '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">',
            f"<title>{_e(title)}</title>",
            f"<style>\n{STYLE.replace('FONTS', FONT_FAMILY)}\n</style>",
            "</head>",
            "<body>",
            f"<h1>{_e(title)}</h1>",
            f'<p class="note">{_e(w["generated"].format(version=report.version, when=report.written))}</p>',
            *sections,
            "</body>",
            "</html>",
            "",
        ]
    )
