"""L-BFGS training: the full-batch cost J(θ) minimised by SciPy's L-BFGS-B over the network's
flat parameter vector θ, with the network's own exact gradient ∂J/∂θ (``fit(optimizer="lbfgs")``).

The function minimised, for the m training samples (rows of X, targets Y, weights w of mean 1
or none):

    J(θ) = (1/m)·Σᵢ wᵢ·L(a⁽ⁱ⁾(θ), y⁽ⁱ⁾) + Σ_l (λ/2)·‖W[l]‖²_F

    θ ``(P,)`` every parameter (:attr:`Network.theta`); A[0] = Xᵀ ``(n[0], m)``; Y ``(n[L], m)``.

One evaluation is one training-mode forward pass, ``compute_cost`` and ``backward_pass`` —
the mini-batch trainer's step without the optimiser (:mod:`deepmat.training`). L-BFGS keeps the
last ``memory`` pairs (s, y) = (θₖ₊₁ − θₖ, ∇Jₖ₊₁ − ∇Jₖ) to approximate the inverse Hessian H,
steps along d = −H·∇J with a line search (Moré–Thuente: sufficient decrease and curvature),
and stops when max|∂J/∂θ| ≤ ``tol``, when J falls by a relative 2.2e-9 or less (SciPy's
``ftol``), after ``iterations`` iterations or after ``max_fun`` evaluations. SciPy computes
in float64; a float32 network's θ and gradient are converted at each evaluation.

The history has one entry per iteration: J (and accuracy, validation metrics) *after* it.
Callbacks see each iteration as an epoch; one that sets ``net.stop_training``
(:class:`~deepmat.callbacks.EarlyStopping`) ends the minimisation there.

What it refuses, and why (:func:`check_options`): mini-batches and shuffling (L-BFGS's
curvature pairs need one deterministic function; scikit-learn's lbfgs is full-batch too);
dropout (a new mask at every evaluation makes J random and the line search compares costs of
different functions; scikit-learn's MLP has no dropout); batch normalisation (its running
statistics would be updated at every trial point of the line search, rejected ones included);
learning-rate schedules (there is no learning rate); data-parallel training; checkpoints and
resuming (the curvature pairs live inside SciPy and cannot be saved). Ctrl-C ends the
minimisation after the current iteration and returns the history so far.

SciPy is imported only when L-BFGS runs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from deepmat.callbacks import Callback, History
from deepmat.interrupts import DeferredInterrupt
from deepmat.schedules import changes_learning_rate

#: SciPy's ``maxls``: evaluations one line search may take
MAX_LINE_SEARCH = 20


class LBFGSResult(NamedTuple):
    """How a minimisation ended: ``converged`` (SciPy's status 0: the gradient or the decrease
    of J fell below its tolerance), SciPy's ``message``, the ``iterations`` and function
    ``evaluations`` it took, and the final ``cost`` J."""

    converged: bool
    message: str
    iterations: int
    evaluations: int
    cost: float


def scipy_minimize() -> Callable[..., Any]:
    """``scipy.optimize.minimize``, or an ``ImportError`` saying how to install SciPy."""
    try:
        from scipy.optimize import minimize
    except ImportError:
        raise ImportError(
            "optimizer='lbfgs' needs SciPy (its L-BFGS-B): pip install scipy, or pip install 'deepmat[lbfgs]'"
        ) from None
    return minimize


def check_options(
    net: Any,
    *,
    batch_size: int | None,
    shuffle: bool | None,
    distributed: Any,
    checkpoint: Any,
    resume_from: Any,
    callbacks: Sequence[Callback],
) -> None:
    """Refuse what L-BFGS cannot honour (see the module docstring), each with its reason."""
    if batch_size is not None:
        raise ValueError(
            f"optimizer='lbfgs' trains on the full batch (one deterministic J); received batch_size={batch_size!r}: "
            "leave batch_size out, or choose a mini-batch optimizer such as 'adam'"
        )
    if shuffle:
        raise ValueError(
            "optimizer='lbfgs' trains on the full batch, where shuffling changes nothing; omit shuffle="
        )
    if distributed:
        raise ValueError(
            "optimizer='lbfgs' runs in one process; distributed training needs a mini-batch optimizer"
        )
    if checkpoint is not None or resume_from is not None:
        raise ValueError(
            "optimizer='lbfgs' keeps its curvature pairs inside SciPy, which cannot be saved: it writes no "
            "checkpoint and cannot resume one; omit checkpoint= and resume_from="
        )
    for layer in net.layers:
        if getattr(layer, "rate", 0):
            why = "draws new dropout masks at every evaluation, which makes J random"
        elif layer.couples_samples:
            why = "updates its running statistics at every evaluation, the line search's rejected points included"
        else:
            continue
        raise ValueError(
            f"optimizer='lbfgs' needs one deterministic J(θ); the layer {layer!r} {why}: remove it "
            "(dropout=0, batch_norm=False), or choose a mini-batch optimizer such as 'adam'"
        )
    for callback in callbacks:
        if changes_learning_rate(callback):
            raise ValueError(
                f"optimizer='lbfgs' has no learning rate for {type(callback).__name__} to change "
                "(a line search sets each step); remove the schedule"
            )


class Evaluation:
    """J(θ) and ∂J/∂θ through the network's training-mode passes, for SciPy; remembers the
    last point evaluated (an iteration's end is the last point its line search evaluated)."""

    def __init__(self, net: Any, X: np.ndarray, Y: np.ndarray, weights: np.ndarray | None) -> None:
        self.net, self.A0, self.Y_rows, self.Y, self.weights = net, X.T, Y, Y.T, weights
        self.theta: np.ndarray | None = None
        self.cost = np.inf
        self.correct = 0
        self.evaluations = 0

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        net = self.net
        self.evaluations += 1
        net.theta[...] = theta
        AL = net.forward_pass(self.A0, training=True)
        cost = net.compute_cost(AL, self.Y, self.weights)
        grads = net.backward_pass(AL, self.Y, self.weights)
        if not net.gradients_are_flat(grads):  # pragma: no cover - every deepmat layer's are
            raise RuntimeError("L-BFGS needs every gradient in the flat buffer ∂J/∂θ")
        self.theta, self.cost, self.correct = theta.copy(), cost, net.n_correct(AL.T, self.Y_rows)
        if not np.isfinite(cost):  # +inf makes the line search step back; NaN would be accepted
            return np.inf, np.zeros_like(theta)
        return cost, net.dtheta.astype(np.float64)

    def at(self, theta: np.ndarray) -> tuple[float, int]:
        """(J, correct count) at ``theta``, evaluated again only if it was not the last point."""
        if self.theta is None or not np.array_equal(theta, self.theta):
            self(theta)
        return self.cost, self.correct


def minimize_cost(
    net: Any,
    settings: Any,
    X: np.ndarray,
    Y: np.ndarray,
    weights: np.ndarray | None,
    iterations: int,
    validation: tuple[np.ndarray, np.ndarray] | None,
    callbacks: Sequence[Callback],
    validate: Callable[[Any, np.ndarray, np.ndarray], dict[str, float]],
    diverged: Callable[[str], Exception],
) -> History:
    """Minimise J over ``net.theta`` with L-BFGS for at most ``iterations`` iterations.

    Args:
        net: the :class:`deepmat.Network` (driven through ``theta``, ``forward_pass``,
            ``compute_cost``, ``backward_pass``, ``dtheta``, ``n_correct``, as the trainer does).
        settings: the :class:`deepmat.optimizers.LBFGS` (``tol``, ``max_fun``, ``memory``);
            its ``result`` is set to the :class:`LBFGSResult`.
        X: training rows ``(m, n[0])``; Y: target rows ``(m, n[L])``; weights: ``(m,)`` of mean 1, or None.
        validation: ``(X_val, Y_val)`` rows, scored after each iteration by ``validate``.
        diverged: builds the error raised when J is not finite at the end (θ is then restored).

    Returns the :class:`~deepmat.callbacks.History`, one entry per iteration.
    """
    minimize = scipy_minimize()
    start = net.theta.astype(np.float64)
    evaluate = Evaluation(net, X, Y, weights)
    history = History()
    m = X.shape[0]
    net.stop_training = False
    for callback in callbacks:
        callback.on_train_begin(net, settings)
    for callback in callbacks:
        callback.on_epoch_begin(0)
    interrupt = DeferredInterrupt()
    accepted = [start]  # θ after the last whole iteration

    def end_iteration(intermediate_result: Any) -> None:
        i = len(history)
        accepted[0] = intermediate_result.x.copy()
        cost, correct = evaluate.at(accepted[0])
        logs = {"loss": cost}
        if net.is_classifier:
            logs["accuracy"] = correct / m
        if validation is not None:
            logs.update(validate(net, *validation))
        history.record(i, logs)
        for callback in callbacks:
            callback.on_batch_end(0, {"loss": cost})
            callback.on_epoch_end(i, logs)
        interrupt.check()
        if net.stop_training:
            raise StopIteration
        for callback in callbacks:
            callback.on_epoch_begin(i + 1)

    options = {
        "maxiter": iterations,
        "maxfun": settings.max_fun,
        "gtol": settings.tol,
        "maxcor": settings.memory,
        "maxls": MAX_LINE_SEARCH,
    }
    result = None
    try:
        # a trial point of the line search may overflow: its J is +inf and the search steps back
        with (
            net.training_workspace(),
            interrupt,
            np.errstate(over="ignore", invalid="ignore", divide="ignore"),
        ):
            result = minimize(
                evaluate, start, jac=True, method="L-BFGS-B", callback=end_iteration, options=options
            )
    except KeyboardInterrupt:
        if interrupt.forced:  # a second Ctrl-C stopped an evaluation midway
            raise
        print(
            f"\ninterrupted after iteration {len(history)}: L-BFGS keeps no checkpoint; the network keeps the "
            "parameters of that iteration",
            file=sys.stderr,
            flush=True,
        )
    x = accepted[0] if result is None else result.x
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        cost = evaluate.at(x)[0]
    if not np.isfinite(cost):
        net.theta[...] = start
        raise diverged(
            f"the cost became {cost} with L-BFGS after iteration {len(history)}; the parameters were restored to "
            "those it started from (scale the inputs, or start from smaller weights)"
        )
    net.theta[...] = x
    if result is None:
        settings.result = LBFGSResult(False, "interrupted (Ctrl-C)", len(history), evaluate.evaluations, cost)
    else:
        settings.result = LBFGSResult(
            result.status == 0, str(result.message), len(history), evaluate.evaluations, cost
        )
        net.stop_training = net.stop_training or len(history) < iterations  # it stopped by itself
    for callback in callbacks:
        callback.on_train_end()
    return history
