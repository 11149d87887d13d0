"""Callbacks: code that runs at fixed points of training (Keras-style hooks).

A callback sees the network and the per-epoch ``logs`` (``loss``, ``accuracy``,
``val_loss``, ``val_accuracy``, ``lr``) and may set ``net.stop_training = True``.
Learning-rate schedules are callbacks too (:mod:`deepmat.schedules`).

The hooks, in order: ``on_train_begin(net, optimizer)``, then per epoch
``on_epoch_begin(epoch)``, ``on_batch_end(batch, batch_logs)`` and
``on_epoch_end(epoch, logs)``, then ``on_train_end()``. A callback whose behaviour depends
on the past (early stopping, plateaus) saves that past with :meth:`Callback.get_state`, so
resuming from a checkpoint continues exactly.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from deepmat._checks import check_number
from deepmat.formatting import duration, learning_rate, number

if TYPE_CHECKING:
    from deepmat.optimizers import Optimizer


class Callback:
    """Base class: every hook does nothing."""

    #: whether a checkpoint records this callback (progress displays are not part of the run)
    in_checkpoint: bool = True
    #: whether the callback may change the network's parameters while training runs (assume
    #: so for your own callbacks; deepmat's only read them, or restore them after the loop).
    #: Full-batch gradient descent takes its Gram shortcut only when none does
    #: (:mod:`deepmat.fullbatch`).
    touches_parameters: bool = True
    #: whether the callback may read the parameters while training runs (assume so for your
    #: own callbacks; deepmat's progress displays do not). Full-batch gradient descent defers
    #: W[1]'s steps only when none does (:mod:`deepmat.fullbatch`).
    reads_parameters: bool = True

    def on_train_begin(self, net: Any, optimizer: Optimizer) -> None:
        """Training starts: ``net`` is the :class:`deepmat.Network` being trained."""
        self.net = net
        self.optimizer = optimizer

    def on_epoch_begin(self, epoch: int) -> None: ...

    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None: ...

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None: ...

    def on_train_end(self) -> None: ...

    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """(JSON-ready scalars, arrays) that a checkpoint keeps; none by default."""
        return {}, {}

    def set_state(self, scalars: dict[str, Any], arrays: dict[str, np.ndarray]) -> None: ...


class History(list):
    """The training record. As a list: the cost J of every epoch (of every iteration in the
    seeds' full-batch mode, recorded before that iteration's update). ``history`` maps each
    metric name — ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``, ``lr`` — to its
    per-epoch values; ``epoch`` lists the epoch numbers."""

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def record(self, epoch: int, logs: dict[str, float]) -> None:
        self.epoch.append(epoch)
        self.append(logs["loss"])
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def to_json(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "history": self.history}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> History:
        history = cls()
        history.epoch = [int(e) for e in data["epoch"]]
        history.history = {k: [float(v) for v in values] for k, values in data["history"].items()}
        history.extend(history.history.get("loss", []))
        return history


def _mode(monitor: str, mode: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max'; received {mode!r}")
    if mode == "auto":
        return "max" if "acc" in monitor else "min"
    return mode


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs; with
    ``restore_best_weights`` the network ends with the parameters of its best epoch."""

    touches_parameters = False

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 5,
        min_delta: float = 0.0,
        mode: str = "auto",
        restore_best_weights: bool = True,
    ) -> None:
        self.monitor = monitor
        self.patience = check_number(patience, "patience", 0, integer=True)
        self.min_delta = check_number(min_delta, "min_delta", 0)
        self.mode = _mode(monitor, mode)
        self.restore_best_weights = restore_best_weights
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = -1
        self.wait = 0
        self.best_params: dict[str, np.ndarray] | None = None
        self.stopped_epoch: int | None = None

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if self.monitor not in logs:
            raise ValueError(
                f"EarlyStopping monitors {self.monitor!r} but the logs hold {sorted(logs)}; "
                "pass validation_data or validation_split to monitor a val_ metric"
            )
        value = logs[self.monitor]
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_params = {k: v.copy() for k, v in self.net.state_arrays().items()}
            return
        self.wait += 1
        if self.wait > self.patience:
            self.net.stop_training = True
            self.stopped_epoch = epoch

    def on_train_end(self) -> None:
        if self.stopped_epoch is not None and self.restore_best_weights and self.best_params is not None:
            self.net.load_state_arrays(self.best_params)

    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        scalars = {
            "best": self.best,
            "best_epoch": self.best_epoch,
            "wait": self.wait,
            "stopped_epoch": self.stopped_epoch,
        }
        return scalars, dict(self.best_params or {})

    def set_state(self, scalars: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.best = float(scalars["best"])
        self.best_epoch = int(scalars["best_epoch"])
        self.wait = int(scalars["wait"])
        stopped = scalars.get("stopped_epoch")
        self.stopped_epoch = None if stopped is None else int(stopped)
        self.best_params = {k: np.array(v) for k, v in arrays.items()} or None


def _tqdm() -> Any:
    """tqdm's bar class, or None when tqdm is not installed (progress is then plain lines)."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm


def _columns(stream: Any) -> int:
    """The width of the terminal ``stream`` writes to; 80 when it cannot tell."""
    try:
        return os.get_terminal_size(stream.fileno()).columns or 80
    except (AttributeError, OSError, ValueError):
        return 80


class ProgressBar(Callback):
    """Progress per epoch, as a table of one row per epoch that fits 80 columns:

    >>> bar = ProgressBar(epochs=30, n_batches=422, verbose=2)
    >>> logs = {"loss": 0.58912, "accuracy": 0.7882, "val_loss": 0.3984, "val_accuracy": 0.8535, "lr": 1e-3}
    >>> print(bar.header_line(logs)); print(bar.row(0, logs, seconds=4.213))
                   loss  accuracy  val_loss  val_accuracy        lr         time
    epoch 1/30   0.5891    0.7882    0.3984        0.8535     1e-03       4.21 s

    The header names the columns (printed before the first row, and again if the metrics
    change); numbers have 4 significant digits, the learning rate looks like ``1e-03`` and the
    time is the epoch's (:mod:`deepmat.formatting`). With ``verbose=1`` and a terminal, a tqdm
    bar shows the batches and the running mean of the batch losses while the epoch runs; when
    the epoch ends the bar is removed and the row printed in its place, so no metric is ever
    cut off at the terminal's edge. Without a terminal, with ``verbose=2``, or without tqdm
    installed, only the rows are printed.
    """

    touches_parameters = False
    reads_parameters = False

    in_checkpoint = False

    #: the narrowest column of each metric (a value is 6 characters, ``0.5891``; a learning rate 8)
    MIN_WIDTH: ClassVar[dict[str, int]] = {"lr": 8}
    #: the width of the time column (``12 min 05 s``)
    TIME_WIDTH = 11

    def __init__(self, epochs: int, n_batches: int, verbose: int = 1, stream: Any = None) -> None:
        self.epochs = epochs
        self.n_batches = n_batches
        self.stream = stream if stream is not None else sys.stdout
        terminal = verbose == 1 and getattr(self.stream, "isatty", lambda: False)()
        self.tqdm = _tqdm() if terminal else None
        self.use_bar = self.tqdm is not None
        self.bar: Any = None
        self.header: tuple[str, ...] | None = None  # the metrics of the header printed last
        self.started = 0.0
        self.loss_sum, self.n_losses = 0.0, 0

    def on_train_begin(self, net: Any, optimizer: Optimizer) -> None:
        super().on_train_begin(net, optimizer)
        self.header = None  # every fit prints its header

    def on_epoch_begin(self, epoch: int) -> None:
        self.started = time.perf_counter()
        self.loss_sum, self.n_losses = 0.0, 0
        if self.use_bar:
            self.bar = self.tqdm(
                total=self.n_batches,
                desc=self.label(epoch),
                file=self.stream,
                ncols=_columns(self.stream),
                leave=False,
            )

    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
        if self.bar is not None:
            self.loss_sum += logs["loss"]
            self.n_losses += 1
            self.bar.set_postfix_str(f"loss {number(self.loss_sum / self.n_losses)}", refresh=False)
            self.bar.update(1)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        seconds = time.perf_counter() - self.started
        if self.bar is not None:
            self.bar.refresh()  # the finished bar, then the row in its place
            self.bar.close()
            self.bar = None
        lines = []
        if tuple(logs) != self.header:
            self.header = tuple(logs)
            lines.append(self.header_line(self.header))
        lines.append(self.row(epoch, logs, seconds))
        print("\n".join(lines), file=self.stream, flush=True)

    def label(self, epoch: int) -> str:
        """``epoch 3/30``: the first cell of a row (``epoch`` counts from 0)."""
        return f"epoch {epoch + 1}/{self.epochs}"

    def width(self, key: str) -> int:
        return max(len(key), self.MIN_WIDTH.get(key, 6))

    def header_line(self, keys: Sequence[str]) -> str:
        """The column names, each above its column."""
        cells = [" " * len(self.label(self.epochs - 1))]
        cells += [f"{key:>{self.width(key)}}" for key in keys]
        cells.append(f"{'time':>{self.TIME_WIDTH}}")
        return "  ".join(cells)

    def row(self, epoch: int, logs: dict[str, float], seconds: float) -> str:
        """One epoch: its label, every metric of ``logs`` and the time it took."""
        cells = [f"{self.label(epoch):<{len(self.label(self.epochs - 1))}}"]
        for key, value in logs.items():
            text = learning_rate(value) if key == "lr" else number(value)
            cells.append(f"{text:>{self.width(key)}}")
        cells.append(f"{duration(seconds):>{self.TIME_WIDTH}}")
        return "  ".join(cells)


class CostPrinter(Callback):
    """The seeds' progress: ``Cost after iteration i: J`` every ``every`` iterations."""

    touches_parameters = False
    reads_parameters = False

    in_checkpoint = False

    def __init__(self, every: int, stream: Any = None) -> None:
        self.every = every
        self.stream = stream if stream is not None else sys.stdout

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if epoch % self.every == 0:
            print(f"Cost after iteration {epoch}: {logs['loss']:.7f}", file=self.stream, flush=True)
