"""Pictures of training: the cost curve J against iterations (SPEC §7).

matplotlib is an optional dependency (``pip install deepmat[plot]``), imported when a function is
called. Figures are drawn on the Agg canvas directly (``matplotlib.figure.Figure`` +
``FigureCanvasAgg``): no pyplot global state, no display needed, safe in scripts and tests.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def plot_cost_curve(
    costs: Sequence[float] | np.ndarray,
    path: str | os.PathLike,
    title: str = "Cost J against iterations",
    every: int = 1,
) -> Path:
    """Save the cost curve as a PNG at ``path`` and return the path.

    Args:
        costs: the costs J, ``(n_points,)`` — e.g. the :class:`~deepmat.callbacks.History`
            returned by :meth:`deepmat.Network.fit`. Non-finite values leave gaps.
        path: where to write the PNG; its folder is created if needed. The file is written to a
            temporary file in the same folder, then moved into place (``os.replace``), so a
            reader never sees a half-written picture.
        title: the figure's title.
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
    if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every <= 0:
        raise ValueError(f"every must be a positive integer (iterations per cost); received {every!r}")
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(
            "plot_cost_curve needs matplotlib; install it with: pip install deepmat[plot]"
        ) from error

    figure = Figure(figsize=(6.4, 4.0), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.plot(np.arange(values.size) * int(every), values)
    axes.set_xlabel("iteration")
    axes.set_ylabel("cost J")
    axes.set_title(title)
    axes.grid(True, alpha=0.3)
    figure.tight_layout()

    target = Path(path)
    folder = target.absolute().parent
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            figure.savefig(f, format="png")
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; a picture is meant to be shared
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return target
