"""``DeepmatRegressor``: scikit-learn's ``MLPRegressor``, computed by a deepmat network."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.metaestimators import available_if

from deepmat.sklearn.base import MLPEstimator, mlp_parameters

#: the losses a regressor takes: scikit-learn's "squared_error" is deepmat's MSE, ½‖ŷ − y‖²
#: per sample ("poisson" needs an exponential output layer deepmat does not have)
REGRESSION_LOSSES = ("squared_error",)


class DeepmatRegressor(RegressorMixin, MLPEstimator):
    """A deepmat network as scikit-learn's ``MLPRegressor`` (one or several targets).

    The parameters are ``MLPRegressor``'s, with its meanings and defaults — ``loss`` first
    (``"squared_error"``), then those listed in :class:`~deepmat.sklearn.DeepmatClassifier`
    but ``class_weight`` — and deepmat's ``dropout``, ``batch_norm``, ``init``, ``dtype``.
    Identity outputs, one per target (``out_activation_ = "identity"``), trained with the
    mean squared error ½‖ŷ − y‖² per sample; ``score`` is R². ``predict`` answers in X's dtype
    (float32 or float64, as scikit-learn's), ``(n_samples,)`` for one target.
    """

    numeric_targets = True

    @mlp_parameters
    def __init__(
        self,
        loss: str = "squared_error",
        hidden_layer_sizes: Any = (100,),
        activation: str = "relu",
        **params: Any,
    ) -> None:
        super().__init__(hidden_layer_sizes, activation, **params)
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
