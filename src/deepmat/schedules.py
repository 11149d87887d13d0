"""Learning-rate schedules, as callbacks that set ``optimizer.learning_rate`` each epoch.

With α₀ the optimiser's learning rate when training starts and e the epoch (from 0):

=================  ==============================================  ===========================
StepDecay          α = α₀ · γ^⌊e / step_size⌋                      torch ``StepLR``
ExponentialDecay   α = α₀ · γ^e                                    torch ``ExponentialLR``
CosineDecay        α = α_min + (α₀ − α_min)·(1 + cos(π·e/T))/2     torch ``CosineAnnealingLR``
ReduceLROnPlateau  α ← max(α·factor, min_lr) after ``patience``    torch ``ReduceLROnPlateau``
                   epochs without improvement of ``monitor``
=================  ==============================================  ===========================
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from deepmat._checks import check_positive
from deepmat.callbacks import Callback, _mode


class Schedule(Callback):
    """Base class: ``rate(epoch)`` from the starting rate ``base_lr``."""

    touches_parameters = False

    base_lr: float | None = None

    def on_train_begin(self, net, optimizer) -> None:
        super().on_train_begin(net, optimizer)
        if self.base_lr is None:
            self.base_lr = optimizer.learning_rate

    def on_epoch_begin(self, epoch: int) -> None:
        self.optimizer.learning_rate = self.rate(epoch)

    def rate(self, epoch: int) -> float:
        raise NotImplementedError

    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return {"base_lr": self.base_lr}, {}

    def set_state(self, scalars: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.base_lr = scalars["base_lr"]


def _check_gamma(gamma: float) -> float:
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or not 0 < gamma <= 1:
        raise ValueError(f"gamma must be in (0, 1]; received {gamma!r}")
    return float(gamma)


class StepDecay(Schedule):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs."""

    def __init__(self, step_size: int, gamma: float = 0.1) -> None:
        check_positive(step_size, "step_size", integer=True)
        self.step_size = step_size
        self.gamma = _check_gamma(gamma)

    def rate(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialDecay(Schedule):
    """Multiply the rate by ``gamma`` every epoch."""

    def __init__(self, gamma: float) -> None:
        self.gamma = _check_gamma(gamma)

    def rate(self, epoch: int) -> float:
        return self.base_lr * self.gamma**epoch


class CosineDecay(Schedule):
    """Anneal from the starting rate to ``min_lr`` along half a cosine over ``T_max`` epochs."""

    def __init__(self, T_max: int, min_lr: float = 0.0) -> None:
        check_positive(T_max, "T_max", integer=True)
        if not min_lr >= 0:
            raise ValueError(f"min_lr must be ≥ 0; received {min_lr!r}")
        self.T_max = T_max
        self.min_lr = float(min_lr)

    def rate(self, epoch: int) -> float:
        e = min(epoch, self.T_max)
        return self.min_lr + (self.base_lr - self.min_lr) * (1 + math.cos(math.pi * e / self.T_max)) / 2


class ReduceLROnPlateau(Callback):
    """Multiply the rate by ``factor`` when ``monitor`` has not improved for ``patience`` epochs."""

    touches_parameters = False

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        min_lr: float = 0.0,
        min_delta: float = 1e-4,
        mode: str = "auto",
    ) -> None:
        if not 0 < factor < 1:
            raise ValueError(f"factor must be in (0, 1); received {factor!r}")
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"patience must be an integer ≥ 0; received {patience!r}")
        self.monitor = monitor
        self.factor = float(factor)
        self.patience = patience
        self.min_lr = float(min_lr)
        self.min_delta = float(min_delta)
        self.mode = _mode(monitor, mode)
        self.best = math.inf if self.mode == "min" else -math.inf
        self.wait = 0

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if self.monitor not in logs:
            raise ValueError(f"ReduceLROnPlateau monitors {self.monitor!r} but the logs hold {sorted(logs)}")
        value = logs[self.monitor]
        better = (
            value < self.best - self.min_delta if self.mode == "min" else value > self.best + self.min_delta
        )
        if better:
            self.best, self.wait = value, 0
            return
        self.wait += 1
        if self.wait > self.patience:
            self.optimizer.learning_rate = max(self.optimizer.learning_rate * self.factor, self.min_lr)
            self.wait = 0

    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return {"best": self.best, "wait": self.wait}, {}

    def set_state(self, scalars: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.best = float(scalars["best"])
        self.wait = int(scalars["wait"])
