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
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from deepmat._checks import check_number
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


class StepDecay(Schedule):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs."""

    def __init__(self, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = check_number(step_size, "step_size", 1, integer=True)
        self.gamma = check_number(gamma, "gamma", 0, 1, low_open=True)

    def rate(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialDecay(Schedule):
    """Multiply the rate by ``gamma`` every epoch."""

    def __init__(self, gamma: float) -> None:
        self.gamma = check_number(gamma, "gamma", 0, 1, low_open=True)

    def rate(self, epoch: int) -> float:
        return self.base_lr * self.gamma**epoch


class CosineDecay(Schedule):
    """Anneal from the starting rate to ``min_lr`` along half a cosine over ``T_max`` epochs."""

    def __init__(self, T_max: int, min_lr: float = 0.0) -> None:
        self.T_max = check_number(T_max, "T_max", 1, integer=True)
        self.min_lr = check_number(min_lr, "min_lr", 0)

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
        self.monitor = monitor
        self.factor = check_number(factor, "factor", 0, 1, low_open=True, high_open=True)
        self.patience = check_number(patience, "patience", 0, integer=True)
        self.min_lr = check_number(min_lr, "min_lr", 0)
        self.min_delta = check_number(min_delta, "min_delta", 0)
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


def changes_learning_rate(callback: Callback) -> bool:
    """Whether ``callback`` sets the optimiser's learning rate (a schedule or a plateau rule):
    meaningless for an optimiser without one (L-BFGS)."""
    return isinstance(callback, (Schedule, ReduceLROnPlateau))


class ScheduleRecipe(NamedTuple):
    """A schedule over a whole run, as ``deepmat train --schedule NAME`` applies it:
    ``make(steps, monitor)`` builds the callback for a run of ``steps`` epochs (or
    iterations) that can watch the metric ``monitor``; ``description`` says what it does."""

    make: Callable[[int, str], Callback]
    description: str


#: the schedules a run can name (``deepmat train --schedule``, config files, the docs)
SCHEDULES: dict[str, ScheduleRecipe] = {
    "step": ScheduleRecipe(
        lambda steps, monitor: StepDecay(step_size=max(1, steps // 3), gamma=0.1),
        "×0.1 every third of the run",
    ),
    "exponential": ScheduleRecipe(lambda steps, monitor: ExponentialDecay(gamma=0.95), "×0.95 per epoch"),
    "cosine": ScheduleRecipe(lambda steps, monitor: CosineDecay(T_max=steps), "to 0 over the run"),
    "plateau": ScheduleRecipe(
        lambda steps, monitor: ReduceLROnPlateau(monitor, factor=0.1, patience=3),
        "×0.1 after 3 epochs without improvement",
    ),
}
