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
import sys
from typing import TYPE_CHECKING, Any

import numpy as np

from deepmat._checks import check_number

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


def _format_logs(logs: dict[str, float]) -> str:
    return " - ".join(f"{k}: {v:.4g}" if k == "lr" else f"{k}: {v:.4f}" for k, v in logs.items())


class ProgressBar(Callback):
    """Progress per epoch: a tqdm bar over the batches when output is a terminal, one plain
    line per epoch otherwise (``verbose=2`` forces plain lines)."""

    touches_parameters = False

    in_checkpoint = False

    def __init__(self, epochs: int, n_batches: int, verbose: int = 1, stream: Any = None) -> None:
        self.epochs = epochs
        self.n_batches = n_batches
        self.stream = stream if stream is not None else sys.stdout
        self.use_bar = verbose == 1 and getattr(self.stream, "isatty", lambda: False)()
        self.bar = None

    def on_epoch_begin(self, epoch: int) -> None:
        if self.use_bar:
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=self.n_batches, desc=f"epoch {epoch + 1}/{self.epochs}", file=self.stream, leave=True
            )

    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
        if self.bar is not None:
            self.bar.update(1)
            if batch % 10 == 0:
                self.bar.set_postfix(loss=f"{logs['loss']:.4f}", refresh=False)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(_format_logs(logs))
            self.bar.close()
            self.bar = None
        else:
            print(f"epoch {epoch + 1}/{self.epochs} - {_format_logs(logs)}", file=self.stream, flush=True)


class CostPrinter(Callback):
    """The seeds' progress: ``Cost after iteration i: J`` every ``every`` iterations."""

    touches_parameters = False

    in_checkpoint = False

    def __init__(self, every: int, stream: Any = None) -> None:
        self.every = every
        self.stream = stream if stream is not None else sys.stdout

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if epoch % self.every == 0:
            print(f"Cost after iteration {epoch}: {logs['loss']:.7f}", file=self.stream, flush=True)
