"""One browser tab's playground: its settings, data set, network and training.

Training runs in slices — at most ``steps`` iterations and about ``seconds`` of CPU time per
request — so that nothing runs while nobody asks: a tab that closes mid-training leaves a
session that simply waits, then expires (:mod:`deepmat.playground.store`). Each iteration is
one :meth:`deepmat.training.Trainer.train_step`, the step ``Network.fit`` takes (forward,
cost, backward, optimiser step, divergence check), on the batches ``fit`` would draw: a
fresh permutation of the training points from the network's shuffle generator at the start
of every epoch. So E whole epochs here give exactly the parameters of
``net.fit(X, y, epochs=E, batch_size=…, optimizer=…, learning_rate=…)`` from the same seed —
which is what the exported snippet runs.
"""

from __future__ import annotations

import threading
import time
import warnings
from typing import Any

import numpy as np

from deepmat.network import Network
from deepmat.optimizers import get_optimizer
from deepmat.playground.datasets import PlaygroundData, make_dataset
from deepmat.playground.settings import Settings, dataset_arguments, network_arguments, training_arguments
from deepmat.training import Trainer, TrainingDiverged, validation_logs

#: the most iterations one request may ask for
MAX_STEPS = 2000
#: a request's training stops after this many seconds, whatever it asked for
MAX_SECONDS = 0.25
#: the cost curve keeps at most this many points (every other one is dropped beyond)
MAX_CURVE_POINTS = 600


class Session:
    """The network of ``settings`` on its data set, untrained; :meth:`train` trains it.

    Attributes: ``settings``, ``data`` (:class:`~deepmat.playground.datasets.PlaygroundData`),
    ``net`` (the :class:`~deepmat.Network`), ``iteration`` (optimiser steps taken),
    ``curve`` (rows ``[iteration, train loss, test loss, train accuracy, test accuracy]``),
    ``warnings`` (what building the network warned about, e.g. all-zero weights),
    ``diverged`` (the message once the cost has become NaN/inf, else None), ``lock`` (held
    while a request uses the session) and ``last_used`` (``time.monotonic()``)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.data: PlaygroundData = make_dataset(**dataset_arguments(settings))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            self.net = Network(**network_arguments(settings))
        self.warnings = [str(w.message) for w in caught]
        net = self.net
        self.X = net.input_rows(self.data.X_train)
        self.Y = net.target_rows(self.data.y_train, self.X.shape[0])
        self.X_test = net.input_rows(self.data.X_test)
        self.Y_test = net.target_rows(self.data.y_test, self.X_test.shape[0])
        args = training_arguments(settings)
        self.batch_size = min(args["batch_size"], self.X.shape[0])  # as fit does
        self.trainer = Trainer(net, get_optimizer(args["optimizer"], args["learning_rate"]), callbacks=[])
        self.trainer.buffers = (
            np.empty((self.batch_size, self.X.shape[1]), self.X.dtype),
            np.empty((self.batch_size, self.Y.shape[1]), self.Y.dtype),
        )
        self.order: np.ndarray | None = None
        self.iteration = 0
        self.curve: list[list[float]] = []
        self.diverged: str | None = None
        self.lock = threading.Lock()
        self.last_used = time.monotonic()
        self.record()

    @property
    def batches_per_epoch(self) -> int:
        return -(-self.X.shape[0] // self.batch_size)

    def train(self, steps: int, seconds: float = MAX_SECONDS) -> int:
        """Take up to ``steps`` iterations (at least one unless diverged), stopping early once
        ``seconds`` have passed; record the costs; return how many were taken. A cost that
        becomes NaN or infinite restores the parameters (and the count) of the slice's start, sets
        :attr:`diverged` and returns 0 (training then stays stopped until the settings are applied
        again)."""
        if self.diverged is not None:
            return 0
        net, trainer = self.net, self.trainer
        m, B, n_batches = self.X.shape[0], self.batch_size, self.batches_per_epoch
        deadline = time.monotonic() + seconds
        trainer.snapshot = (self.iteration // n_batches, {k: v.copy() for k, v in net.state_arrays().items()})
        taken, first = 0, self.iteration
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"), net.training_workspace():
                while taken < steps and (taken == 0 or time.monotonic() < deadline):
                    epoch, b = divmod(self.iteration, n_batches)
                    if b == 0:
                        self.order = net.shuffle_rng.permutation(m)
                    start, stop = b * B, min((b + 1) * B, m)
                    trainer.train_step(self.X, self.Y, self.order, start, stop, where=(epoch, b, n_batches))
                    self.iteration += 1
                    taken += 1
        except TrainingDiverged as error:  # the parameters are the slice's first again
            self.diverged = str(error)
            self.iteration, taken = first, 0
        self.record()
        return taken

    def record(self) -> None:
        """Append the current costs and accuracies on the training and test points to the curve."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            train = validation_logs(self.net, self.X, self.Y)
            test = validation_logs(self.net, self.X_test, self.Y_test)
        row = [
            self.iteration,
            train["val_loss"],
            test["val_loss"],
            train["val_accuracy"],
            test["val_accuracy"],
        ]
        if not all(np.isfinite(row)) and self.diverged is None:
            self.diverged = "the cost is no longer finite (NaN or inf); try a smaller learning rate"
        if self.curve and self.curve[-1][0] == self.iteration:
            self.curve[-1] = row
        else:
            self.curve.append(row)
        if len(self.curve) > MAX_CURVE_POINTS:
            self.curve = [*self.curve[:-1:2], self.curve[-1]]

    def summary(self) -> dict[str, Any]:
        """Where training stands: iterations, epochs, the curve, the last metrics (NaN where the
        cost has overflowed)."""
        last = self.curve[-1]
        return {
            "iteration": self.iteration,
            "epoch": self.iteration // self.batches_per_epoch,
            "batches_per_epoch": self.batches_per_epoch,
            "batch_size": self.batch_size,
            "layer_dims": self.net.layer_dims,
            "curve": self.curve,
            "train_loss": last[1],
            "test_loss": last[2],
            "train_accuracy": last[3],
            "test_accuracy": last[4],
            "diverged": self.diverged,
        }
