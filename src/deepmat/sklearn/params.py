"""The estimators' parameters: scikit-learn's MLP names and meanings, checked, and turned into
deepmat's network, optimiser and L2 penalty.

scikit-learn's activation names map onto deepmat's (``"logistic"`` is deepmat's ``"sigmoid"``);
its solvers onto deepmat's optimisers; and its ``alpha`` onto deepmat's per-layer L2 λ.
scikit-learn adds (α / 2)·Σ‖W[l]‖² to the *sum* of a batch's losses and divides the whole by
the batch's total sample weight s_b (its size B without weights):

    J_b = (Σ_{i∈b} wᵢ·Lᵢ + (α/2)·Σ_l ‖W[l]‖²) / s_b

deepmat computes J_b = (1/B)·Σ_{i∈b} w̃ᵢ·Lᵢ + (λ/2)·Σ_l ‖W[l]‖² with the weights scaled to mean
1 over the training set (w̃ᵢ = m·wᵢ / Σⱼ wⱼ), so

    λ_b = α · m / (B · Σⱼ wⱼ)      (= α / B without weights; = α / Σⱼ wⱼ for the full batch)

which is exact without sample weights (a last, smaller batch gets its own λ) and for
``solver="lbfgs"``; with sample weights and mini-batches, scikit-learn normalises each batch by
its own weight and deepmat by the training set's (:func:`penalties`).
"""

from __future__ import annotations

import math
import numbers
from typing import Any, NamedTuple

import numpy as np

from deepmat._checks import check_dtype_name, check_number
from deepmat.activations import hidden_activations
from deepmat.initializers import check_init
from deepmat.optimizers import LBFGS, OPTIMIZERS, SGD, Adam, get_optimizer

#: scikit-learn's hidden activations → deepmat's (deepmat's own names are accepted too)
SKLEARN_ACTIVATIONS = {"identity": "identity", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}
#: deepmat's output activations in scikit-learn's words (``out_activation_``)
SKLEARN_OUTPUTS = {"sigmoid": "logistic", "softmax": "softmax", "identity": "identity"}
#: scikit-learn's solvers (deepmat's other optimisers, e.g. ``"rmsprop"``, are accepted too)
SKLEARN_SOLVERS = ("adam", "sgd", "lbfgs")
#: scikit-learn's learning-rate schedules of ``solver="sgd"``
LEARNING_RATES = ("constant", "invscaling", "adaptive")
#: ``learning_rate="adaptive"`` divides the rate by this after ``n_iter_no_change`` epochs
#: without improvement, and stops once the rate is at most :data:`ADAPTIVE_MIN_RATE`
ADAPTIVE_FACTOR = 5.0
ADAPTIVE_MIN_RATE = 1e-6


class Settings(NamedTuple):
    """The checked parameters a fit uses."""

    hidden: tuple[int, ...]
    activation: str  # deepmat's name
    alpha: float
    max_iter: int
    tol: float
    n_iter_no_change: float  # an integer ≥ 1, or inf
    stochastic: bool  # False for lbfgs


def _names(names: Any) -> str:
    return ", ".join(repr(n) for n in names)


def check_flag(value: Any, name: str) -> bool:
    """A bool (``True``/``False``, NumPy's too)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; received {value!r} ({type(value).__name__})")
    return bool(value)


def deepmat_activation(name: Any) -> str:
    """deepmat's name for a hidden activation given in scikit-learn's or deepmat's words."""
    if isinstance(name, str) and name in SKLEARN_ACTIVATIONS:
        return SKLEARN_ACTIVATIONS[name]
    if isinstance(name, str) and name in hidden_activations():
        return name
    others = sorted(set(hidden_activations()) - set(SKLEARN_ACTIVATIONS))
    raise ValueError(
        f"unknown activation {name!r}; expected one of: {_names(SKLEARN_ACTIVATIONS)} (scikit-learn's names) "
        f"or deepmat's {_names(others)}"
    )


def check_hidden_layer_sizes(sizes: Any) -> tuple[int, ...]:
    """``hidden_layer_sizes`` as a tuple of positive ints (one int stands for one layer)."""
    if isinstance(sizes, numbers.Integral) and not isinstance(sizes, bool):
        sizes = (sizes,)
    try:
        sizes = tuple(sizes)
    except TypeError:
        sizes = None
    if (
        sizes is None
        or isinstance(sizes, str)
        or not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) and n > 0 for n in sizes)
    ):
        raise ValueError(f"hidden_layer_sizes must be a tuple of positive integers; received {sizes!r}")
    return tuple(int(n) for n in sizes)


def check_params(est: Any) -> Settings:
    """Check every parameter of ``est`` (at fit, as scikit-learn does) and return the
    :class:`Settings`; errors say what was expected and what was received."""
    hidden = check_hidden_layer_sizes(est.hidden_layer_sizes)
    activation = deepmat_activation(est.activation)
    solver_name(est.solver)
    alpha = check_number(est.alpha, "alpha", 0)
    if est.batch_size != "auto" and not (
        isinstance(est.batch_size, numbers.Integral)
        and not isinstance(est.batch_size, bool)
        and est.batch_size > 0
    ):
        raise ValueError(f"batch_size must be 'auto' or a positive integer; received {est.batch_size!r}")
    if est.learning_rate not in LEARNING_RATES:
        raise ValueError(
            f"unknown learning_rate {est.learning_rate!r}; expected one of: {_names(LEARNING_RATES)}"
        )
    check_number(est.learning_rate_init, "learning_rate_init", 0, low_open=True)
    check_number(est.power_t, "power_t", 0)
    max_iter = check_number(est.max_iter, "max_iter", 1, integer=True)
    tol = check_number(est.tol, "tol", 0)
    n_iter_no_change = est.n_iter_no_change
    if not (isinstance(n_iter_no_change, (int, float, np.number)) and n_iter_no_change == math.inf):
        n_iter_no_change = check_number(n_iter_no_change, "n_iter_no_change", 1, integer=True)
    check_number(est.momentum, "momentum", 0, 1)
    check_number(est.validation_fraction, "validation_fraction", 0, 1, high_open=True)
    check_number(est.max_fun, "max_fun", 1, integer=True)
    for name in ("shuffle", "warm_start", "nesterovs_momentum", "early_stopping", "batch_norm"):
        check_flag(getattr(est, name), name)
    verbose = est.verbose
    if not isinstance(verbose, (bool, np.bool_)) and not (
        isinstance(verbose, numbers.Integral) and verbose >= 0
    ):
        raise ValueError(f"verbose must be True, False or an integer ≥ 0; received {verbose!r}")
    check_number(est.dropout, "dropout rate", 0, 1, high_open=True)
    check_init(est.init)
    if est.dtype is not None:
        check_dtype_name(est.dtype)
    make_optimizer(est)  # β₁, β₂, ε and the momentum as the optimiser checks them
    return Settings(hidden, activation, alpha, max_iter, tol, n_iter_no_change, est.solver != "lbfgs")


def solver_name(solver: Any) -> str:
    """``solver`` checked: scikit-learn's ``"adam"``, ``"sgd"``, ``"lbfgs"`` or another deepmat optimiser."""
    if isinstance(solver, str) and (solver in SKLEARN_SOLVERS or solver in OPTIMIZERS):
        return solver
    others = [name for name in OPTIMIZERS if name not in SKLEARN_SOLVERS]
    raise ValueError(
        f"unknown solver {solver!r}; expected one of: {_names(SKLEARN_SOLVERS)} (scikit-learn's) or deepmat's "
        f"{_names(others)}"
    )


def make_optimizer(est: Any) -> Any:
    """A fresh optimiser for ``est.solver``: Adam(α, β₁, β₂, ε) in scikit-learn's form (ε added to
    √v); SGD(α, μ, Nesterov) — with μ = 0
    Nesterov's step is the plain one —; :class:`~deepmat.optimizers.LBFGS` (``tol``, ``max_fun``);
    or a deepmat optimiser by name with α = ``learning_rate_init``."""
    solver = solver_name(est.solver)
    if solver == "lbfgs":
        return LBFGS(tol=est.tol, max_fun=est.max_fun)
    if solver == "adam":
        return Adam(
            est.learning_rate_init, beta1=est.beta_1, beta2=est.beta_2, eps=est.epsilon, efficient_form=True
        )
    if solver == "sgd":
        momentum = float(est.momentum)
        if momentum == 1:
            raise ValueError("momentum must be below 1 (a velocity that never decays); received 1")
        nesterov = check_flag(est.nesterovs_momentum, "nesterovs_momentum") and momentum > 0
        return SGD(est.learning_rate_init, momentum=momentum, nesterov=nesterov)
    return get_optimizer(solver, est.learning_rate_init)


def batch_size(est: Any, n_samples: int) -> int:
    """The batch size B for ``n_samples`` training samples: ``"auto"`` is min(200, n); a larger
    one is clipped to n (scikit-learn warns; so does the caller)."""
    if est.batch_size == "auto":
        return min(200, n_samples)
    return min(int(est.batch_size), n_samples)


def penalties(alpha: float, n_samples: int, batch: int, weight_sum: float | None) -> list[float]:
    """λ_b for each batch of an epoch (see the module docstring): α·m / (B_b·Σw), the last batch
    with its own size B_b."""
    total = float(n_samples) if weight_sum is None else weight_sum
    sizes = [batch] * (n_samples // batch) + ([n_samples % batch] if n_samples % batch else [])
    return [alpha * n_samples / (size * total) for size in sizes]


def network_dtype(est: Any, X: np.ndarray) -> str:
    """What the network computes in: ``dtype`` if given, else X's (float32 stays float32,
    anything else is float64), as scikit-learn's MLP does."""
    if est.dtype is not None:
        return check_dtype_name(est.dtype).name
    return "float32" if X.dtype == np.float32 else "float64"
