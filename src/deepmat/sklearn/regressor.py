"""``DeepmatRegressor``: scikit-learn's ``MLPRegressor``, computed by a deepmat network."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.metaestimators import available_if

from deepmat.sklearn.base import MLPEstimator

#: the losses a regressor takes: scikit-learn's "squared_error" is deepmat's MSE, ½‖ŷ − y‖²
#: per sample ("poisson" needs an exponential output layer deepmat does not have)
REGRESSION_LOSSES = ("squared_error",)


class DeepmatRegressor(RegressorMixin, MLPEstimator):
    """A deepmat network as scikit-learn's ``MLPRegressor`` (one or several targets).

    The parameters are ``MLPRegressor``'s, with its meanings and defaults — ``loss`` first
    (``"squared_error"``), then those listed in :class:`~deepmat.sklearn.DeepmatClassifier`
    but ``class_weight`` — and deepmat's ``dropout``, ``batch_norm``, ``init``, ``dtype``.
    Identity outputs, one per target (``out_activation_ = "identity"``), trained with the
    mean squared error ½‖ŷ − y‖² per sample; ``score`` is R². ``predict`` answers in the
    network's dtype, ``(n_samples,)`` for one target.
    """

    numeric_targets = True

    def __init__(
        self,
        loss: str = "squared_error",
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
        super().__init__(
            hidden_layer_sizes, activation, solver=solver, alpha=alpha, batch_size=batch_size,
            learning_rate=learning_rate, learning_rate_init=learning_rate_init, power_t=power_t,
            max_iter=max_iter, shuffle=shuffle, random_state=random_state, tol=tol, verbose=verbose,
            warm_start=warm_start, momentum=momentum, nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping, validation_fraction=validation_fraction, beta_1=beta_1,
            beta_2=beta_2, epsilon=epsilon, n_iter_no_change=n_iter_no_change, max_fun=max_fun,
            dropout=dropout, batch_norm=batch_norm, init=init, dtype=dtype,
        )  # fmt: skip
        self.loss = loss

    def _targets(self, y: np.ndarray, incremental: bool, classes: Any) -> np.ndarray:
        if self.loss not in REGRESSION_LOSSES:
            raise ValueError(
                f"loss={self.loss!r} is not supported: deepmat's regressor has identity outputs and the squared "
                f"error; expected one of: {', '.join(repr(name) for name in REGRESSION_LOSSES)}"
            )
        n_outputs = 1 if y.ndim == 1 else y.shape[1]
        if hasattr(self, "network_") and (incremental or self.warm_start) and n_outputs != self.n_outputs_:
            raise ValueError(
                f"y has {n_outputs} targets per sample; the fitted network has {self.n_outputs_}"
            )
        self.n_outputs_ = n_outputs
        return y

    def _output(self) -> tuple[str, int]:
        return "identity", self.n_outputs_

    def _score_function(self, y: np.ndarray, predictions: np.ndarray, sample_weight: Any) -> float:
        return r2_score(y, predictions, sample_weight=sample_weight)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> DeepmatRegressor:
        """Train on ``X`` ``(n_samples, n_features)`` and targets ``y`` ``(n_samples,)`` or
        ``(n_samples, n_targets)``; ``sample_weight`` ``(n_samples,)`` ≥ 0 weighs each sample's
        loss (a weight of 2 counts as the sample repeated)."""
        return self._fit(X, y, sample_weight, incremental=False)

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> DeepmatRegressor:
        """One epoch over ``(X, y)`` (the first call builds the network). Not for ``solver="lbfgs"``."""
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted targets, ``(n_samples,)`` for one target, else ``(n_samples, n_targets)``."""
        return self._answer("predict", X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
