"""What both estimators share: :class:`MLPEstimator`, a :class:`deepmat.Network` trained the way
scikit-learn's ``MLPClassifier``/``MLPRegressor`` train (their parameters, their fitted
attributes, their warm starts, early stopping and solvers).

One fit: check the parameters (:mod:`deepmat.sklearn.params`); validate X (sparse input is made
dense) and y (the subclass turns y into the network's targets); build the network — or, with
``warm_start``/``partial_fit``, keep the fitted one, or start from ``coefs_``/``intercepts_``
assigned by hand as scikit-learn allows —; hold out ``validation_fraction`` for
``early_stopping`` (``train_test_split``, stratified for one label per sample); then
``network_.fit`` with the solver, the L2 λ_b of every batch and scikit-learn's end-of-epoch rule
(:mod:`deepmat.sklearn.epochs`), or L-BFGS on the full batch (:mod:`deepmat.lbfgs`).

``coefs_[l]`` is W[l+1]ᵀ ``(n[l], n[l+1])`` and ``intercepts_[l]`` is b[l+1][:, 0] ``(n[l+1],)``
— scikit-learn's layout — as live views of the network's parameters: they follow every
update, and arrays assigned in their place are copied into the network before the next fit,
``partial_fit`` or prediction.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from deepmat.network import Network
from deepmat.optimizers import LBFGS
from deepmat.sample_weights import check_sample_weight
from deepmat.sklearn.epochs import BatchPenalty, EpochRule, set_penalty
from deepmat.sklearn.params import (
    SKLEARN_OUTPUTS,
    batch_size,
    check_params,
    make_optimizer,
    network_dtype,
    penalties,
)
from deepmat.training import TrainingDiverged

#: scikit-learn's words when training produced parameters that are not finite
NON_FINITE = (
    "Solver produced non-finite parameter weights. The input data may contain large values and need to be "
    "preprocessed."
)


def mlp_parameters(init: Callable[..., None]) -> Callable[..., None]:
    """Decorate a subclass's ``__init__(self, [its own positional,] hidden_layer_sizes, activation,
    *, [its own keyword-only,] **params)`` so that its signature lists every parameter:
    scikit-learn reads an estimator's parameters from the signature (``get_params``, ``clone``),
    and the MLP's shared ones are written once, in :meth:`MLPEstimator.__init__`."""
    own = inspect.signature(init).parameters.values()
    shared = inspect.signature(MLPEstimator.__init__).parameters.values()
    init.__signature__ = inspect.Signature(
        [p for p in own if p.kind is p.POSITIONAL_OR_KEYWORD]
        + [p for p in shared if p.kind is p.KEYWORD_ONLY]
        + [p for p in own if p.kind is p.KEYWORD_ONLY]
    )
    return init


class MLPEstimator(BaseEstimator):
    """The shared parameters (scikit-learn's MLP names and meanings; see the subclasses) and
    the training; a subclass turns y into targets and outputs into predictions."""

    def __init__(
        self,
        hidden_layer_sizes: Any = (100,),
        activation: str = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: int | str = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: Any = None,
        tol: float = 1e-4,
        verbose: bool | int = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int | float = 10,
        max_fun: int = 15000,
        dropout: float = 0.0,
        batch_norm: bool = False,
        init: str = "he",
        dtype: str | None = None,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.init = init
        self.dtype = dtype

    # -- what a subclass defines -------------------------------------------------------

    #: True for a regressor (y must be numeric)
    numeric_targets = False

    def _targets(self, y: np.ndarray, incremental: bool, classes: Any) -> np.ndarray:
        """y as ``Network.fit`` takes it; sets what the outputs depend on (``classes_``, ``n_outputs_``)."""
        raise NotImplementedError

    def _output(self) -> tuple[str, int]:
        """(deepmat's output activation, n[L])."""
        raise NotImplementedError

    def _sample_weights(
        self, sample_weight: np.ndarray | None, targets: np.ndarray, incremental: bool
    ) -> Any:
        """The weight of each sample (a classifier multiplies in ``class_weight``), or None."""
        return sample_weight

    def _stratify(self, y: np.ndarray) -> np.ndarray | None:
        """What the early-stopping split keeps the proportions of (None: nothing)."""
        return None

    def _predictions(self, raw: np.ndarray) -> np.ndarray:
        """``Network.predict``'s answer in the estimator's terms (labels from ``classes_``)."""
        return raw

    def _score_function(self, y: np.ndarray, predictions: np.ndarray, sample_weight: Any) -> float:
        raise NotImplementedError

    # -- fitting -----------------------------------------------------------------------

    def _check_solver(self) -> bool:
        if self.solver == "lbfgs":
            raise AttributeError(
                "partial_fit is only available for stochastic optimizers. lbfgs is not stochastic."
            )
        return True

    def _validate(self, X: Any, y: Any, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        X, y = validate_data(
            self,
            X,
            y,
            reset=reset,
            accept_sparse=["csr", "csc"],
            dtype=[np.float64, np.float32],
            multi_output=True,
            y_numeric=self.numeric_targets,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return (X.toarray() if sparse.issparse(X) else X), y

    def _fit(
        self, X: Any, y: Any, sample_weight: Any, incremental: bool, classes: Any = None
    ) -> MLPEstimator:
        settings = check_params(self)
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        keep = incremental or self.warm_start
        continuing = keep and hasattr(self, "network_")
        from_weights = keep and not continuing and hasattr(self, "coefs_") and hasattr(self, "intercepts_")
        X, y = self._validate(
            X, y, reset=not (continuing or (from_weights and hasattr(self, "n_features_in_")))
        )
        self.n_features_in_ = X.shape[1]
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight)
            if sample_weight.ndim == 0:  # one number for every sample, as scikit-learn allows
                sample_weight = np.full(X.shape[0], sample_weight)
            sample_weight = check_sample_weight(sample_weight, X.shape[0])
        targets = self._targets(y, incremental, classes)
        weights = self._sample_weights(sample_weight, targets, incremental)
        random_state = check_random_state(self.random_state)
        if continuing:
            self._sync_parameters()
            if self._output() != (self.network_.output_activation, self.network_.layer_dims[-1]):
                raise ValueError(
                    f"y needs a {self._output()[0]} output of {self._output()[1]} units; the fitted network has "
                    f"{self.network_.layer_dims[-1]}: fit without warm_start to start again"
                )
        else:
            self._build(X, settings, random_state, from_weights)
        net = self.network_

        score = None
        if settings.stochastic and self.early_stopping:
            arrays = [X, targets, y] + ([] if weights is None else [weights])
            parts = train_test_split(
                *arrays,
                random_state=random_state,
                test_size=self.validation_fraction,
                stratify=self._stratify(y),
            )
            X, X_val, targets, _, _, y_val = parts[:6]
            weights, w_val = (None, None) if weights is None else parts[6:8]
            if X_val.shape[0] < 2:
                raise ValueError(
                    "The validation set is too small. Increase 'validation_fraction' or the size of your dataset."
                )
            if self.validation_scores_ is None:
                self.validation_scores_, self.best_validation_score_, self.best_loss_ = [], -np.inf, None

            def score() -> float:
                return self._score_rows(X_val, y_val, w_val)

        elif settings.stochastic and self.best_loss_ is None:
            self.best_loss_ = np.inf

        m = X.shape[0]
        if not (settings.stochastic and incremental and hasattr(self, "_optimizer")) or isinstance(
            self._optimizer, LBFGS
        ):
            self._optimizer = make_optimizer(self)
        if settings.stochastic and self.batch_size != "auto" and self.batch_size > m:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than sample size. It is going to be clipped",
                stacklevel=3,
            )
        batch = batch_size(self, m) if settings.stochastic else m
        lambdas = penalties(settings.alpha, m, batch, None if weights is None else float(np.sum(weights)))
        set_penalty(net, lambdas[0])
        schedule = self.learning_rate if self.solver == "sgd" else "constant"
        rule = EpochRule(self, m, settings.stochastic, score, schedule)
        callbacks = ([BatchPenalty(net, lambdas)] if len(set(lambdas)) > 1 else []) + [rule]
        self.n_iter_ = 0
        common = {
            "optimizer": self._optimizer,
            "callbacks": callbacks,
            "verbose": 0,
            "sample_weight": weights,
        }
        try:
            if settings.stochastic:
                history = net.fit(
                    X, targets, epochs=1 if incremental else settings.max_iter, batch_size=batch,
                    shuffle=self.shuffle, **common,
                )  # fmt: skip
            else:
                history = net.fit(X, targets, iterations=settings.max_iter, print_every=None, **common)
        except TrainingDiverged as error:
            if not (settings.stochastic and self.early_stopping):
                raise ValueError(f"{NON_FINITE} ({error})") from error
            history = None  # scikit-learn scores the diverged epoch NaN and keeps the best parameters
            self.n_iter_ += 1
            self.t_ += m
            self.loss_ = math.nan
            self.loss_curve_.append(math.nan)
            self.validation_scores_.append(math.nan)
        if settings.stochastic and self.early_stopping:
            net.load_state_arrays(self._best_state)
        if history is not None:
            for key, values in history.history.items():
                self.history_.setdefault(key, []).extend(values)
        self._warn_if_not_converged(settings, rule, incremental)
        return self

    def _warn_if_not_converged(self, settings: Any, rule: EpochRule, incremental: bool) -> None:
        if not settings.stochastic:
            result = self._optimizer.result
            if result is not None and not result.converged:
                warnings.warn(
                    f"lbfgs failed to converge after {self.n_iter_} iteration(s) ({result.message}); raise "
                    f"max_iter = {self.max_iter} or max_fun = {self.max_fun}, or scale the data",
                    ConvergenceWarning,
                    stacklevel=4,
                )
        elif not incremental and not rule.stopped and self.n_iter_ == settings.max_iter:
            warnings.warn(
                f"Stochastic Optimizer: stopped at max_iter = {settings.max_iter} iterations (epochs) while the "
                f"{'validation score' if self.early_stopping else 'loss'} was still improving by more than "
                f"tol = {self.tol}; raise max_iter to train further",
                ConvergenceWarning,
                stacklevel=4,
            )

    def _build(self, X: np.ndarray, settings: Any, random_state: Any, from_weights: bool) -> None:
        """A fresh network for X's features: drawn from ``random_state``, or holding the
        ``coefs_`` and ``intercepts_`` assigned by hand (``from_weights``)."""
        output_activation, n_out = self._output()
        hidden = settings.hidden
        if from_weights:
            shapes = [np.shape(c) for c in self.coefs_]
            if (
                not shapes
                or any(len(s) != 2 for s in shapes)
                or shapes[0][0] != X.shape[1]
                or shapes[-1][1] != n_out
            ):
                raise ValueError(
                    f"coefs_ must be (n_features, n[1]), …, (n[L-1], n_outputs) = ({X.shape[1]}, …, {n_out}) to "
                    f"start from; received shapes {shapes}"
                )
            hidden = tuple(s[1] for s in shapes[:-1])
        self.network_ = Network(
            [X.shape[1], *hidden, n_out],
            settings.activation,
            output_activation,
            init=self.init,
            seed=int(random_state.randint(np.iinfo(np.int32).max)),
            dtype=network_dtype(self, X),
            dropout=self.dropout,
            batch_norm=self.batch_norm,
        )
        given = (self.coefs_, self.intercepts_) if from_weights else None
        self._link_parameters()
        if given is not None:
            self.coefs_, self.intercepts_ = given
            self._sync_parameters()
        self.n_layers_ = self.network_.L + 1
        self.n_outputs_ = n_out
        self.out_activation_ = SKLEARN_OUTPUTS[output_activation]
        fresh = {
            "n_iter_": 0,
            "t_": 0,
            "loss_curve_": [],
            "history_": {},
            "_no_improvement_count": 0,
            "best_loss_": None,
            "validation_scores_": None,
            "best_validation_score_": None,
        }
        for name, value in fresh.items():
            if not (from_weights and hasattr(self, name)):
                setattr(self, name, value)
        self._best_state = {k: v.copy() for k, v in self.network_.state_arrays().items()}

    # -- coefs_ and intercepts_ --------------------------------------------------------

    def _link_parameters(self) -> None:
        """``coefs_``/``intercepts_`` as views of the network's W[l]ᵀ and b[l][:, 0]."""
        params = self.network_.params
        L = self.network_.L
        self.coefs_ = [params[f"W{l}"].T for l in range(1, L + 1)]
        self.intercepts_ = [params[f"b{l}"][:, 0] for l in range(1, L + 1)]
        self._linked = (list(self.coefs_), list(self.intercepts_))

    def _sync_parameters(self) -> None:
        """Copy arrays assigned to ``coefs_``/``intercepts_`` (or their items) into the network."""
        pairs = [
            *(("coefs_", i, g, v) for i, (g, v) in enumerate(zip(self.coefs_, self._linked[0], strict=False))),
            *(("intercepts_", i, g, v) for i, (g, v) in enumerate(zip(self.intercepts_, self._linked[1], strict=False))),
        ]  # fmt: skip
        lengths = (len(self.coefs_), len(self.intercepts_))
        if lengths == tuple(map(len, self._linked)) and all(given is live for _, _, given, live in pairs):
            return
        if lengths != tuple(map(len, self._linked)):
            raise ValueError(
                f"coefs_ and intercepts_ must hold {len(self._linked[0])} arrays each, one per layer; received "
                f"{lengths[0]} and {lengths[1]}"
            )
        for name, i, given, live in pairs:
            if given is not live:
                array = np.asarray(given, dtype=live.dtype)
                if array.shape != live.shape or not np.isfinite(array).all():
                    raise ValueError(
                        f"{name}[{i}] must be finite numbers of shape {live.shape}; received shape {array.shape}"
                    )
                live[...] = array
        self._link_parameters()

    def __getstate__(self) -> dict[str, Any]:
        """Pickling keeps the network (whose θ is rebuilt when loaded), not the views of it."""
        if hasattr(self, "network_"):
            self._sync_parameters()
        state = dict(super().__getstate__())  # a copy: object's is the instance's own __dict__
        if "network_" in state:
            for name in ("coefs_", "intercepts_", "_linked"):
                state.pop(name, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        if "network_" in state:
            self._link_parameters()

    # -- answering ---------------------------------------------------------------------

    def _answer(self, method: str, X: Any) -> np.ndarray:
        """``network_.<method>(X)`` after validating X against the fit and syncing ``coefs_``;
        numbers in X's dtype (float32 or float64), as scikit-learn's MLP answers."""
        check_is_fitted(self, "network_")
        X = validate_data(self, X, reset=False, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32])
        self._sync_parameters()
        answer = getattr(self.network_, method)(X.toarray() if sparse.issparse(X) else X)
        return answer.astype(X.dtype, copy=False) if answer.dtype.kind == "f" else answer

    def _score_rows(self, X: np.ndarray, y: np.ndarray, sample_weight: Any) -> float:
        """The validation score (accuracy or R²) of validated rows; NaN once the outputs are not
        finite (a diverging fit), as scikit-learn scores it."""
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                predictions = self._predictions(self.network_.predict(X))
        except ValueError:
            return math.nan
        return float(self._score_function(y, predictions, sample_weight))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = True
        tags.non_deterministic = self.random_state is None
        return tags
