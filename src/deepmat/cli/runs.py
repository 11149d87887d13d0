"""The run folder ``deepmat train`` writes: the model, the resolved config, the metrics, the
per-epoch history, the plots and the checkpoint — and the lines that describe a run."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from deepmat.callbacks import History
from deepmat.data import dataset_key, picture_sizes_text, take_rows
from deepmat.explain import explain
from deepmat.gradcheck import gradcheck_rows
from deepmat.i18n import Words
from deepmat.io import atomic_write
from deepmat.network import Network
from deepmat.plotting import (
    image_shape,
    plot_confusion_matrix,
    plot_history,
    plot_misclassified,
    require_matplotlib,
)
from deepmat.png import png_bytes
from deepmat.report import RunReport, WrongExample, render
from deepmat.summary import summary_html
from deepmat.version import __version__ as deepmat_version

#: what a finished run folder holds (and checkpoint.safetensors, written as it trains)
RUN_FILES = (
    "model.safetensors",
    "config.json",
    "metrics.json",
    "history.csv",
    "loss.png",
    "accuracy.png",
    "confusion_matrix.png",
    "misclassified.png",
    "report.html",
)
#: the plots' titles (each followed by the run's name)
PLOT_TITLES = {
    "loss.png": "Loss (cost J)",
    "accuracy.png": "Accuracy",
    "confusion_matrix.png": "Confusion matrix (test set)",
    "misclassified.png": "Misclassified test pictures",
}
#: the plots' titles in Chinese, and the units of their horizontal axis in either language
PLOT_TITLES_ZH = {
    "loss.png": "[[loss]]（[[cost]] J）",
    "accuracy.png": "[[accuracy]]",
    "confusion_matrix.png": "[[confusion_matrix]]（[[test_set]]）",
    "misclassified.png": "被误分类的[[test_set]]图片",
}
plot_words = Words(
    en={**PLOT_TITLES, "epoch": "epoch", "iteration": "iteration"},
    zh={**PLOT_TITLES_ZH, "epoch": "[[epoch]]", "iteration": "[[iteration]]"},
)
#: the columns of history.csv after ``epoch``
HISTORY_COLUMNS = ("loss", "accuracy", "val_loss", "val_accuracy", "lr")


def default_out(name: str) -> Path:
    """``runs/<data>-<YYYYmmdd-HHMMSS>`` (with ``-2``, ``-3`` … if it exists)."""
    stem = name if dataset_key(name) is not None else (Path(name).stem or "data")
    base = Path("runs", f"{stem}-{datetime.now():%Y%m%d-%H%M%S}")
    out, n = base, 1
    while out.exists():
        n += 1
        out = base.with_name(f"{base.name}-{n}")
    return out


def write_json(path: Path, value: Any) -> None:
    atomic_write(path, (json.dumps(value, indent=2) + "\n").encode("utf-8"))


def write_history(path: Path, history: History) -> None:
    """history.csv: one row per epoch (1-based), the metrics at full precision."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(("epoch", *HISTORY_COLUMNS))
    values = history.history
    for row, epoch in enumerate(history.epoch):
        cells = [values[c][row] if c in values and row < len(values[c]) else "" for c in HISTORY_COLUMNS]
        writer.writerow((epoch + 1, *(repr(float(c)) if c != "" else "" for c in cells)))
    atomic_write(path, text.getvalue().encode("utf-8"))


def picture_shape(dataset: Any) -> tuple[int, ...] | None:
    """The shape of one sample as a picture (the model's picture preprocessing, else by its
    number of features: :func:`deepmat.plotting.image_shape`), None when it is not one."""
    pre = dataset.preprocessor
    if pre is not None and pre.picture_shape is not None:
        return pre.picture_shape
    return image_shape(dataset.X_test.shape[1]) if isinstance(dataset.X_test, np.ndarray) else None


def sample_pictures(dataset: Any, rows: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Test samples ``rows`` as pictures ``(k, *shape)``, values in [0, 1] (raw grey levels of a
    model that divides them itself are divided here)."""
    pictures = np.asarray(take_rows(dataset.X_test, rows), dtype=np.float64).reshape(len(rows), *shape)
    pre = dataset.preprocessor
    if pre is not None and pre.scaling == "divide":
        pictures = pictures / pre.divide_by
    return np.clip(pictures, 0.0, 1.0)


def write_plots(
    out: Path, history: History, dataset: Any, classes: list[str], test: dict, unit: str, lang: str = "en"
) -> list[str]:
    """loss.png, accuracy.png, confusion_matrix.png and, for pictures, misclassified.png, each
    titled with the run's name (its folder's), their words in ``lang``.

    Returns the plots it could not draw because matplotlib is not installed (all of them, then;
    none when it is): training has done its work, so a missing plotting library costs the
    pictures, not the run."""
    shape = picture_shape(dataset)
    planned = [
        "loss.png",
        *(["accuracy.png"] if "accuracy" in history.history else []),
        "confusion_matrix.png",
    ]
    planned += ["misclassified.png"] if shape is not None else []
    try:
        require_matplotlib("the run's plots")
    except ImportError:
        return planned
    w = plot_words(lang)
    titles = {name: f"{w[name]} — {out.name}" for name in PLOT_TITLES}
    xlabel = w[unit]
    plot_history(
        history.history, out / "loss.png", "loss", title=titles["loss.png"], xlabel=xlabel, lang=lang
    )
    if "accuracy" in history.history:
        plot_history(
            history.history,
            out / "accuracy.png",
            "accuracy",
            title=titles["accuracy.png"],
            xlabel=xlabel,
            lang=lang,
        )
    plot_confusion_matrix(
        test["confusion"],
        classes,
        out / "confusion_matrix.png",
        title=titles["confusion_matrix.png"],
        lang=lang,
    )
    if shape is None:
        print(
            f"misclassified.png skipped: the samples are not pictures deepmat knows ({picture_sizes_text()})"
        )
        return []
    wrong = np.flatnonzero(test["predicted"] != dataset.y_test)[:25]
    plot_misclassified(
        sample_pictures(dataset, wrong, shape),
        dataset.y_test[wrong],
        test["predicted"][wrong],
        classes,
        out / "misclassified.png",
        title=titles["misclassified.png"],
        lang=lang,
    )
    return []


#: how many of the most confidently wrong test samples the report shows
REPORT_WRONG = 12
#: the report's gradient check: training samples, and entries checked per parameter
REPORT_GRADCHECK = (8, 10)


def confident_mistakes(
    net: Network, dataset: Any, predicted: np.ndarray, classes: list[str], k: int = REPORT_WRONG
) -> list[WrongExample]:
    """The ``k`` misclassified test samples with the highest probability of their predicted
    class (``predicted`` ``(m_test,)``), surest first, with their pictures when they are."""
    y = np.asarray(dataset.y_test)
    wrong = np.flatnonzero(predicted != y)
    if wrong.size == 0:
        return []
    proba = net.predict_proba(take_rows(dataset.X_test, wrong))
    sure = proba[np.arange(wrong.size), predicted[wrong]]
    order = np.argsort(-sure, kind="stable")[:k]
    shape = picture_shape(dataset)
    pictures = sample_pictures(dataset, wrong[order], shape) if shape is not None else None
    return [
        WrongExample(
            index=int(wrong[j]),
            true=classes[y[wrong[j]]],
            predicted=classes[predicted[wrong[j]]],
            p_predicted=float(proba[j, predicted[wrong[j]]]),
            p_true=float(proba[j, y[wrong[j]]]),
            picture=None if pictures is None else png_bytes(pictures[i]),
        )
        for i, j in enumerate(order)
    ]


def write_report(
    out: Path,
    net: Network,
    dataset: Any,
    config: dict[str, Any],
    results: tuple[dict[str, Any], dict[str, Any]],
    history: History,
    timing: dict[str, Any],
    plots_skipped: bool,
    lang: str = "en",
) -> Path:
    """report.html (:mod:`deepmat.report`): ``results`` are the train and test
    :func:`~deepmat.metrics.classification_report`; ``timing`` holds ``seconds``, ``unit``
    and ``resumed``. The gradient check runs here, on a few training samples (fast: a float64
    copy, a few entries per parameter). Its words, the layer table's and the equations' are in
    ``lang``."""
    train, test = results
    parts = (("train", train), ("test", test))
    classes = list(dataset.classes)
    samples, entries = REPORT_GRADCHECK
    checked = min(len(dataset.y_train), samples)
    check = gradcheck_rows(net, dataset.X_train, dataset.y_train, samples=checked, max_entries=entries)
    curves = {
        plot_words(lang)[name]: (out / name).read_bytes()
        for name in ("loss.png", "accuracy.png")
        if not plots_skipped and (out / name).is_file()
    }
    report = RunReport(
        run=out.name,
        version=deepmat_version,
        written=f"{datetime.now():%Y-%m-%d %H:%M:%S}",
        config=config,
        results={
            **{f"{part}_{key}": r[key] for part, r in parts for key in ("accuracy", "loss", "correct")},
            **{f"n_{part}": r["n_samples"] for part, r in parts},
        },
        classes=classes,
        confusion=test["confusion"],
        per_class=test["per_class"],
        wrong=confident_mistakes(net, dataset, test["predicted"], classes),
        network_html=summary_html(net, lang),
        explain_text=explain(net=net, lang=lang),
        gradcheck_checked=(checked, entries),
        gradcheck=check.report(),
        gradcheck_passed=check.passed,
        timing={**timing, "steps": len(history)},
        curves=curves,
        plots_missing=plots_skipped,
    )
    path = out / "report.html"
    atomic_write(path, render(report, lang).encode("utf-8"))
    return path


def count(n: int, unit: str) -> str:
    return f"{n} {unit}{'' if n == 1 else 's'}"


def describe_model(net: Network, model: dict[str, Any]) -> str:
    n_params = sum(int(p.size) for p in net.params.values())
    extras = []
    if model["dropout"]:
        extras.append(f"dropout {model['dropout']:g}")
    if model["batch_norm"]:
        extras.append("batch norm")
    if model["l2"]:
        extras.append(f"L2 {model['l2']:g}")
    extras += [f"init {model['init']}", model["dtype"], f"seed {model['seed']}"]
    dims = "-".join(str(n) for n in model["layers"])
    return (
        f"model: {dims}, {model['activation']} → {model['output_activation']}, {', '.join(extras)} "
        f"({n_params:,} parameters)"
    )


def describe_training(train: dict[str, Any]) -> str:
    rate = train["learning_rate"]
    parts = [f"{train['optimizer']} ({'line search' if rate is None else f'learning rate {rate:g}'})"]
    if train.get("iterations"):
        parts += ["full batch", count(train["iterations"], "iteration")]
    else:
        parts += [f"batch {train['batch_size']}", count(train["epochs"], "epoch")]
    if train["schedule"] != "none":
        parts.append(f"{train['schedule']} schedule")
    if train.get("validation_split"):
        parts.append(f"validation split {train['validation_split']:g}")
    if train.get("early_stopping"):
        parts.append(f"early stopping (patience {train['early_stopping']})")
    return "train: " + ", ".join(parts)


def class_table(per_class: list[dict[str, Any]]) -> str:
    """Per class: precision, recall and count, aligned."""
    width = max(5, *(len(row["class"]) for row in per_class))
    lines = [f"{'class':<{width}}  precision  recall  count"]
    for row in per_class:
        lines.append(
            f"{row['class']:<{width}}  {row['precision']:9.4f}  {row['recall']:6.4f}  {row['count']:5d}"
        )
    return "\n".join(lines)


#: everything deepmat writes in a run folder (what ``--overwrite`` removes, and nothing else)
OWNED_FILES = (*RUN_FILES, "checkpoint.safetensors")
LOCK_FILE = ".deepmat.lock"


class RunFolderError(ValueError):
    """A run folder that this run may not write into."""


class RunFolder:
    """The folder of one run. While :meth:`lock` is held (the whole training), a second
    deepmat that wants the folder is refused: a run folder is owned by one run.

    The lock is ``fcntl.flock`` on ``.deepmat.lock`` inside the folder: the operating system
    releases it when the process ends, however it ends, so a crashed run never leaves a
    folder locked."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock_fd: int | None = None

    def held_files(self) -> list[str]:
        """The run files the folder holds already."""
        return [name for name in OWNED_FILES if (self.path / name).exists()]

    def check_new(self, overwrite: bool) -> None:
        """Refuse a path that is a file, and a folder that holds a run unless ``overwrite``."""
        if self.path.exists() and not self.path.is_dir():
            raise RunFolderError(
                f"--out {str(self.path)!r} is a file; expected a run folder (a new or empty one)"
            )
        held = self.held_files()
        if held and not overwrite:
            raise RunFolderError(
                f"the run folder {str(self.path)!r} holds a run already ({', '.join(held)}); give --overwrite to "
                "replace it, another --out, or --resume its checkpoint"
            )

    def clear(self) -> None:
        """Remove the files of the run the folder held (``--overwrite``); other files stay."""
        for name in self.held_files():
            (self.path / name).unlink()

    @contextlib.contextmanager
    def lock(self) -> Iterator[RunFolder]:
        """Own the folder for the duration (creating it); refused when another run owns it."""
        import fcntl

        self.path.mkdir(parents=True, exist_ok=True)
        lock_path = self.path / LOCK_FILE
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "another process"
            os.close(fd)
            raise RunFolderError(
                f"the run folder {str(self.path)!r} is in use by another training (process {owner}); wait for "
                "it to finish, or choose another --out"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        try:
            yield self
        finally:
            with contextlib.suppress(OSError):
                lock_path.unlink()
            os.close(fd)  # closing releases the lock
