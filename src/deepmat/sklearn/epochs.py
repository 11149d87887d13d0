"""scikit-learn's training rules as deepmat callbacks: what ``MLPClassifier``/``MLPRegressor``
do at the end of every epoch (:class:`EpochRule`), and the L2 penalty λ_b of each batch
(:class:`BatchPenalty`, see :mod:`deepmat.sklearn.params`).

At the end of epoch k (scikit-learn's ``_fit_stochastic``): ``n_iter_`` += 1, ``t_`` += the
training samples, the epoch's mean loss is appended to ``loss_curve_``; then

- without ``early_stopping``: the count of epochs without improvement grows when
  loss_k > ``best_loss_`` − tol, else returns to 0, and ``best_loss_`` = min(it, loss_k);
- with ``early_stopping``: the validation score s_k (accuracy or R², sample-weighted) is
  appended to ``validation_scores_``; the count grows when s_k < best + tol; the parameters
  of the best s_k are kept and restored after the fit;
- ``learning_rate="invscaling"`` (sgd): α = α₀ / (t_ + 1)^power_t;
- once the count exceeds ``n_iter_no_change``: stop — or, with ``learning_rate="adaptive"``
  (sgd), α ← α / 5 and the count restarts, stopping only when α ≤ 1e-6.

scikit-learn's momentum keeps its velocity in units of the step (v ← μ·v − α·g) where deepmat's
(PyTorch's) keeps it in units of the gradient (v ← μ·v + g, θ ← θ − α·v); when the rate changes
from α to α', the velocity is scaled by α/α' so that both take the same steps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from deepmat.callbacks import Callback
from deepmat.layers import Dense
from deepmat.sklearn.params import ADAPTIVE_FACTOR, ADAPTIVE_MIN_RATE


def set_penalty(net: Any, penalty: float) -> None:
    """λ of every Dense layer of ``net`` (and the network's own, which its saved config records)."""
    net.l2 = penalty
    for layer in net.layers:
        if isinstance(layer, Dense):
            layer.l2 = penalty or None


class BatchPenalty(Callback):
    """Sets λ_b before each batch b of an epoch, from ``penalties`` (one per batch)."""

    touches_parameters = False
    in_checkpoint = False

    def __init__(self, net: Any, penalties: list[float]) -> None:
        self.target, self.penalties = net, penalties

    def on_epoch_begin(self, epoch: int) -> None:
        set_penalty(self.target, self.penalties[0])

    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
        set_penalty(self.target, self.penalties[(batch + 1) % len(self.penalties)])


def set_learning_rate(optimizer: Any, rate: float) -> None:
    """α ← ``rate``, with a momentum velocity scaled by α/α' (see the module docstring)."""
    old = optimizer.learning_rate
    for velocity in getattr(optimizer, "state", {}).get("velocity", {}).values():
        velocity *= old / rate
    optimizer.learning_rate = rate


class EpochRule(Callback):
    """scikit-learn's end of an epoch, written into the estimator ``est``'s attributes.

    Args:
        est: the estimator (``n_iter_``, ``t_``, ``loss_``, ``loss_curve_``, ``best_loss_``,
            ``validation_scores_``, ``best_validation_score_``, ``_no_improvement_count``,
            ``_best_state`` are read and written).
        n_train: training samples per epoch (``t_`` grows by it).
        stochastic: False for lbfgs: each call is one L-BFGS iteration, recorded and printed only.
        score: the validation score of the network as it stands (``early_stopping``), or None.
        schedule: ``"constant"``, ``"invscaling"`` or ``"adaptive"``.
    """

    touches_parameters = False
    in_checkpoint = False

    def __init__(
        self,
        est: Any,
        n_train: int,
        stochastic: bool = True,
        score: Callable[[], float] | None = None,
        schedule: str = "constant",
    ) -> None:
        self.est, self.n_train, self.stochastic = est, n_train, stochastic
        self.score, self.schedule = score, schedule
        self.stopped = False

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        est = self.est
        est.n_iter_ += 1
        est.loss_ = float(logs["loss"])
        est.loss_curve_.append(est.loss_)
        if est.verbose:
            print(f"Iteration {est.n_iter_}, loss = {est.loss_:.8f}", flush=True)
        if not self.stochastic:
            return
        est.t_ += self.n_train
        self.count_no_improvement()
        if self.schedule == "invscaling":
            set_learning_rate(self.optimizer, float(est.learning_rate_init) / (est.t_ + 1) ** est.power_t)
        if est._no_improvement_count > est.n_iter_no_change:
            watched = "Validation score" if self.score is not None else "Training loss"
            message = f"{watched} did not improve more than tol={est.tol:f} for {est.n_iter_no_change} consecutive epochs."
            if self.schedule == "adaptive" and self.optimizer.learning_rate > ADAPTIVE_MIN_RATE:
                set_learning_rate(self.optimizer, self.optimizer.learning_rate / ADAPTIVE_FACTOR)
                est._no_improvement_count = 0
                if est.verbose:
                    print(f"{message} Setting learning rate to {self.optimizer.learning_rate:f}", flush=True)
                return
            if est.verbose:
                print(f"{message} Stopping.", flush=True)
            self.net.stop_training = self.stopped = True

    def count_no_improvement(self) -> None:
        """scikit-learn's ``_update_no_improvement_count``."""
        est = self.est
        if self.score is None:
            if est.loss_ > est.best_loss_ - est.tol:
                est._no_improvement_count += 1
            else:
                est._no_improvement_count = 0
            est.best_loss_ = min(est.best_loss_, est.loss_)
            return
        score = float(self.score())
        est.validation_scores_.append(score)
        if est.verbose:
            print(f"Validation score: {score:f}", flush=True)
        if score < est.best_validation_score_ + est.tol:
            est._no_improvement_count += 1
        else:
            est._no_improvement_count = 0
        if score > est.best_validation_score_:
            est.best_validation_score_ = score
            est._best_state = {k: v.copy() for k, v in self.net.state_arrays().items()}
