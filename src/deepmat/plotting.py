"""Pictures of training: the cost curve J against iterations (SPEC §7), the per-epoch
loss and accuracy curves of training and validation, the confusion matrix of a test set, and a
grid of misclassified pictures.

matplotlib is an optional dependency (``pip install deepmat[plot]``), imported when a function is
called. Figures are drawn on the Agg canvas directly (``matplotlib.figure.Figure`` +
``FigureCanvasAgg``): no pyplot global state, no display needed, safe in scripts and tests.
"""

from __future__ import annotations

import functools
import io
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from deepmat._checks import check_number
from deepmat.data.images import PICTURE_SIZES
from deepmat.fonts import check_text, font_settings
from deepmat.i18n import Words
from deepmat.io import atomic_write

#: The plots' own words (axes, legends, default titles); ``WORDS_ZH`` the same in Chinese,
#: drawn with the CJK font of :mod:`deepmat.fonts`.
WORDS = {
    "cost_title": "Cost J against iterations",
    "iteration": "iteration",
    "epoch": "epoch",
    "cost": "cost J",
    "train": "train",
    "validation": "validation",
    "metric.loss": "loss",
    "metric.accuracy": "accuracy",
    "confusion_title": "Confusion matrix (test set)",
    "predicted_class": "predicted class",
    "true_class": "true class",
    "wrong_title": "Misclassified test pictures",
    "wrong_picture": "true: {true}\npred: {predicted}",
    "no_wrong": "no misclassified test pictures",
}
WORDS_ZH = {
    "cost_title": "[[cost]] J 随[[iteration]]次数的变化",
    "iteration": "[[iteration]]",
    "epoch": "[[epoch]]",
    "cost": "[[cost]] J",
    "train": "[[training_set]]",
    "validation": "验证集",
    "metric.loss": "[[loss]]",
    "metric.accuracy": "[[accuracy]]",
    "confusion_title": "[[confusion_matrix]]（[[test_set]]）",
    "predicted_class": "预测的[[class]]",
    "true_class": "真实的[[class]]",
    "wrong_title": "被误分类的[[test_set]]图片",
    "wrong_picture": "真实：{true}\n预测：{predicted}",
    "no_wrong": "没有被误分类的[[test_set]]图片",
}
words = Words(en=WORDS, zh=WORDS_ZH)


def _literal_text(function: Callable[..., Path]) -> Callable[..., Path]:
    """Draw what users wrote — class names, titles, file names — as written: matplotlib would
    read ``$…$`` as mathematics (a class named ``$x$`` would show an italic x) and, with TeX
    on, hand the text to TeX; and draw Chinese text with a CJK font (:mod:`deepmat.fonts`)."""

    @functools.wraps(function)
    def literal(*args: Any, **kwargs: Any) -> Path:
        try:
            import matplotlib
        except ImportError:
            return function(*args, **kwargs)  # which says how to install matplotlib
        texts = [a for a in args if isinstance(a, str)] + [str(c) for c in kwargs.get("classes", ()) or ()]
        texts += [str(c) for a in args if isinstance(a, (list, tuple)) for c in a if isinstance(c, str)]
        texts += [v for v in kwargs.values() if isinstance(v, str)]
        texts += [str(v) for v in words(kwargs.get("lang", "en")).values()]  # the plot's own words
        check_text(texts)
        settings = {"text.parse_math": False, "text.usetex": False, **font_settings()}
        with matplotlib.rc_context(settings):
            return function(*args, **kwargs)

    return literal


@_literal_text
def plot_cost_curve(
    costs: Sequence[float] | np.ndarray,
    path: str | os.PathLike,
    title: str | None = None,
    every: int = 1,
    lang: str = "en",
) -> Path:
    """Save the cost curve as a PNG at ``path`` and return the path.

    Args:
        costs: the costs J, ``(n_points,)`` — e.g. the :class:`~deepmat.callbacks.History`
            returned by :meth:`deepmat.Network.fit`. Non-finite values leave gaps.
        path: where to write the PNG; its folder is created if needed. The file is written to a
            temporary file in the same folder, then moved into place (``os.replace``), so a
            reader never sees a half-written picture.
        title: the figure's title (default: "Cost J against iterations" in ``lang``).
        lang: the language of the axes' labels (:mod:`deepmat.i18n`: ``"en"`` or ``"zh"``).
        every: the number of iterations between two recorded costs: ``costs[k]`` is drawn at
            iteration ``k·every`` (1 for one cost per iteration; 100 for the course's list of
            every hundredth cost).

    Raises:
        ValueError: ``costs`` is not a non-empty 1-D sequence of real numbers with at least one
            finite value, or ``every`` is not a positive integer.
        ImportError: matplotlib is not installed.
    """
    values = np.asarray(costs)
    if values.ndim != 1 or values.size == 0 or values.dtype.kind not in "biuf":
        raise ValueError(
            f"costs must be a non-empty 1-D sequence of numbers; received shape {values.shape} "
            f"dtype {values.dtype}"
        )
    values = values.astype(np.float64)
    if not np.isfinite(values).any():
        raise ValueError("costs has no finite value to plot")
    every = check_number(every, "every (iterations per cost)", 1, integer=True)
    figure = _figure("plot_cost_curve", (6.4, 4.0))
    axes = figure.add_subplot()
    axes.plot(np.arange(values.size) * int(every), values)
    w = words(lang)
    axes.set_xlabel(w["iteration"])
    axes.set_ylabel(w["cost"])
    axes.set_title(w["cost_title"] if title is None else title)
    axes.grid(True, alpha=0.3)
    figure.tight_layout()
    return _save_png(figure, path)


#: How a row of pixels is shown, by its number of features: 28×28 grey (MNIST, Fashion-MNIST),
#: 64×64 RGB (the cat pictures), 8×8 grey (scikit-learn's digits) — the shapes of
#: :data:`deepmat.data.images.PICTURE_SIZES`, the one table of picture sizes.
IMAGE_SHAPES: dict[int, tuple[int, ...]] = {n: size.shape for n, size in PICTURE_SIZES.items()}


def image_shape(n_features: int) -> tuple[int, ...] | None:
    """The picture shape of a row of ``n_features`` pixels (:data:`IMAGE_SHAPES`), or None."""
    return IMAGE_SHAPES.get(int(n_features))


@_literal_text
def plot_history(
    history: dict[str, Sequence[float]],
    path: str | os.PathLike,
    metric: str = "loss",
    title: str | None = None,
    xlabel: str | None = None,
    lang: str = "en",
) -> Path:
    """Save the training curve of ``metric`` and, when recorded, its validation curve
    ``val_<metric>`` as a PNG at ``path`` (written atomically, like :func:`plot_cost_curve`).

    Args:
        history: per-epoch values by metric name, e.g. ``History.history`` of
            :meth:`deepmat.Network.fit` (``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``).
        path: where to write the PNG; its folder is created if needed.
        metric: ``"loss"``, ``"accuracy"`` or any other recorded name.
        title: the figure's title (default: the metric's name).
        xlabel: the horizontal axis' label (default: "epoch" in ``lang``; ``"iteration"`` for
            the seeds' full-batch form).
        lang: the language of the axes' labels and the legend (``"en"`` or ``"zh"``).

    Raises:
        ValueError: ``metric`` was not recorded, or holds no finite value.
        ImportError: matplotlib is not installed.
    """
    if metric not in history:
        raise ValueError(f"the history has no {metric!r}; it records {sorted(history)}")
    w = words(lang)
    curves = {w["train"]: _finite_curve(history[metric], metric)}
    if f"val_{metric}" in history:
        curves[w["validation"]] = _finite_curve(history[f"val_{metric}"], f"val_{metric}")
    figure = _figure("plot_history", (6.4, 4.0))
    axes = figure.add_subplot()
    for label, values in curves.items():
        x = np.arange(1, values.size + 1)
        axes.plot(x, values, label=label, marker="o" if values.size <= 50 else None, markersize=3)
    from matplotlib.ticker import MaxNLocator

    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    name = w.get(f"metric.{metric}", metric.replace("_", " "))
    axes.set_xlabel(w["epoch"] if xlabel is None else xlabel)
    axes.set_ylabel(name)
    axes.set_title(title if title is not None else name)
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    return _save_png(figure, path)


@_literal_text
def plot_confusion_matrix(
    matrix: np.ndarray | Sequence[Sequence[int]],
    classes: Sequence[str],
    path: str | os.PathLike,
    title: str | None = None,
    lang: str = "en",
) -> Path:
    """Save a confusion matrix as a PNG at ``path``: ``matrix[i, j]`` counts the samples of
    true class ``i`` predicted as class ``j`` (rows true, columns predicted, scikit-learn's
    convention); class names label both axes and each cell shows its count. ``title``
    (default: "Confusion matrix (test set)") and the axes' labels in ``lang``.

    Raises:
        ValueError: ``matrix`` is not a square ``(k, k)`` array of counts with ``k = len(classes)``.
        ImportError: matplotlib is not installed.
    """
    counts = np.asarray(matrix)
    k = len(classes)
    if counts.ndim != 2 or counts.shape != (k, k) or counts.dtype.kind not in "iu":
        raise ValueError(
            f"matrix must be ({k}, {k}) integer counts, one row and column per class; received "
            f"shape {counts.shape} dtype {counts.dtype}"
        )
    side = min(max(4.8, 0.55 * k + 2.5), 20.0)
    figure = _figure("plot_confusion_matrix", (side, side * 0.9))
    axes = figure.add_subplot()
    image = axes.imshow(counts, cmap="Blues", interpolation="nearest")
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    names = [str(c) for c in classes]
    slanted = max(map(len, names), default=0) > 2  # long names would overlap side by side
    axes.set_xticks(
        np.arange(k), labels=names, rotation=45 if slanted else 0, ha="right" if slanted else "center"
    )
    axes.set_yticks(np.arange(k), labels=names)
    w = words(lang)
    axes.set_xlabel(w["predicted_class"])
    axes.set_ylabel(w["true_class"])
    axes.set_title(w["confusion_title"] if title is None else title)
    if k <= 30:
        threshold = counts.max() / 2 if counts.size else 0
        size = 9 if k <= 12 else 6
        for i in range(k):
            for j in range(k):
                axes.text(
                    j,
                    i,
                    str(int(counts[i, j])),
                    ha="center",
                    va="center",
                    fontsize=size,
                    color="white" if counts[i, j] > threshold else "black",
                )
    figure.tight_layout()
    return _save_png(figure, path)


@_literal_text
def plot_misclassified(
    images: np.ndarray,
    true_labels: Sequence[int],
    predicted_labels: Sequence[int],
    classes: Sequence[str],
    path: str | os.PathLike,
    title: str | None = None,
    max_images: int = 25,
    lang: str = "en",
) -> Path:
    """Save a grid of up to ``max_images`` pictures (5 per row) as a PNG at ``path``, each
    titled with its true and predicted class.

    Args:
        images: ``(k, h, w)`` grey levels or ``(k, h, w, 3)`` RGB, values in [0, 1]; e.g. the
            misclassified rows of X reshaped by :func:`image_shape`. ``k`` may be 0 (the figure
            then says that nothing was misclassified).
        true_labels, predicted_labels: ``(k,)`` class indices.
        classes: the class names, indexed by label.
        title: the figure's title (default: "Misclassified test pictures" in ``lang``).
        lang: the language of the words (``"en"`` or ``"zh"``).

    Raises:
        ValueError: the shapes disagree.
        ImportError: matplotlib is not installed.
    """
    pictures = np.asarray(images)
    true_labels, predicted_labels = np.asarray(true_labels), np.asarray(predicted_labels)
    if pictures.ndim not in (3, 4) or (pictures.ndim == 4 and pictures.shape[3] != 3):
        raise ValueError(f"images must be (k, h, w) or (k, h, w, 3); received shape {pictures.shape}")
    if not true_labels.shape == predicted_labels.shape == (pictures.shape[0],):
        raise ValueError(
            f"one true and one predicted label per picture: received {pictures.shape[0]} pictures, "
            f"labels {true_labels.shape} and {predicted_labels.shape}"
        )
    n = min(pictures.shape[0], max_images)
    columns = 5
    rows = max(1, -(-n // columns))
    figure = _figure("plot_misclassified", (columns * 1.9, rows * 2.3 + 0.5))
    w = words(lang)
    if n == 0:
        axes = figure.add_subplot()
        axes.axis("off")
        axes.text(0.5, 0.5, w["no_wrong"], ha="center", va="center", fontsize=12)
    for i in range(n):
        axes = figure.add_subplot(rows, columns, i + 1)
        picture = np.clip(pictures[i], 0.0, 1.0)
        if picture.ndim == 2:
            axes.imshow(picture, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
        else:
            axes.imshow(picture, interpolation="nearest")
        axes.set_xticks([])
        axes.set_yticks([])
        true_name = _class_name(classes, int(true_labels[i]))
        predicted_name = _class_name(classes, int(predicted_labels[i]))
        axes.set_title(
            w["wrong_picture"].format(true=true_name, predicted=predicted_name), fontsize=8, color="firebrick"
        )
    figure.suptitle(w["wrong_title"] if title is None else title)
    figure.tight_layout()
    return _save_png(figure, path)


def _class_name(classes: Sequence[str], label: int) -> str:
    return str(classes[label]) if 0 <= label < len(classes) else str(label)


def _finite_curve(values: Sequence[float], name: str) -> np.ndarray:
    curve = np.asarray(values, dtype=np.float64)
    if curve.ndim != 1 or curve.size == 0 or not np.isfinite(curve).any():
        raise ValueError(f"{name} must be a non-empty 1-D sequence with a finite value; received {values!r}")
    return curve


def require_matplotlib(caller: str) -> tuple[type, type]:
    """matplotlib's ``(Figure, FigureCanvasAgg)``, imported now.

    Raises:
        ImportError: matplotlib cannot be imported; the message names ``caller`` and says
            how to install it (``pip install deepmat[plot]``).
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(f"{caller} needs matplotlib; install it with: pip install deepmat[plot]") from error
    return Figure, FigureCanvasAgg


def _figure(caller: str, size: tuple[float, float]):
    """A matplotlib Figure on its own Agg canvas (no pyplot state)."""
    Figure, FigureCanvasAgg = require_matplotlib(caller)
    figure = Figure(figsize=size, dpi=100)
    FigureCanvasAgg(figure)
    return figure


def _save_png(figure: Any, path: str | os.PathLike) -> Path:
    """Write ``figure`` as a PNG at ``path`` atomically (:func:`deepmat.io.atomic_write`), so a
    reader never sees a half-written picture."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    atomic_write(path, buffer.getvalue())
    return Path(path)
