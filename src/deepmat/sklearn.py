"""scikit-learn estimators over :class:`deepmat.Network`: ``DeepmatClassifier``, ``DeepmatRegressor``.

They drop into pipelines, grid searches and cross-validation like ``MLPClassifier`` and
``MLPRegressor``, whose defaults they follow (one hidden layer of 100 ReLU units, Adam with
α = 0.001, batches of min(200, n_samples), at most 200 epochs, stop when the training loss
has not improved by ``tol`` for ``n_iter_no_change`` epochs), and they pass scikit-learn's
own estimator checks (``tests/test_sklearn.py``)::

    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from deepmat.sklearn import DeepmatClassifier

    model = make_pipeline(StandardScaler(), DeepmatClassifier(hidden_layer_sizes=(64,), random_state=0))
    model.fit(X_train, y_train).score(X_test, y_test)

After ``fit``: ``network_`` (the trained :class:`deepmat.Network`; ``network_.save(path)``
writes it), ``classes_`` (classifier), ``n_features_in_``, ``loss_curve_`` (the mean training
cost J of each epoch), ``n_iter_`` (epochs run), ``history_`` (every metric per epoch).

The network: ``[n_features_in_, *hidden_layer_sizes, n_outputs]`` with ``activation`` in the
hidden layers and, at the output, one sigmoid unit for two classes, a softmax over the classes
for more, or identity units (one per target) for regression — with the loss that matches each
(binary cross-entropy, cross-entropy, mean squared error, SPEC §5).
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from deepmat._checks import check_number
from deepmat.callbacks import EarlyStopping
from deepmat.network import Network
from deepmat.optimizers import Optimizer, get_optimizer

__all__ = ["DeepmatClassifier", "DeepmatRegressor"]


class _DeepmatEstimator(BaseEstimator):
    """What both estimators share: parameters, the network, the training loop.

    Args:
        hidden_layer_sizes: units of each hidden layer, n[1] … n[L-1].
        activation: g of the hidden layers: ``"relu"``, ``"leaky_relu"``, ``"tanh"``,
            ``"sigmoid"`` or ``"identity"``.
        optimizer: a name from :data:`deepmat.optimizers.OPTIMIZERS` (``"adam"``, ``"sgd"``, …).
        learning_rate: α.
        batch_size: samples per step; ``"auto"`` is min(200, n_samples).
        max_iter: the most epochs ``fit`` runs.
        l2: L2 penalty λ, (λ/2)·Σ‖W[l]‖² added to J.
        dropout: dropout rate after every hidden layer (0: none).
        batch_norm: batch normalisation of every hidden Z[l].
        init: weight initialiser (:mod:`deepmat.initializers`).
        shuffle: reshuffle the samples every epoch.
        tol, n_iter_no_change: stop once the epoch loss has not fallen by ``tol`` for
            ``n_iter_no_change`` epochs in a row.
        random_state: seeds the weights, dropout and shuffling (``None``: fresh each fit).
        dtype: ``"float64"`` or ``"float32"``, what the network computes in.
        verbose: 0 silent, 1 or 2 one line per epoch.
    """

    def __init__(
        self,
        hidden_layer_sizes: tuple[int, ...] = (100,),
        activation: str = "relu",
        *,
        optimizer: str = "adam",
        learning_rate: float = 0.001,
        batch_size: int | str = "auto",
        max_iter: int = 200,
        l2: float = 0.0,
        dropout: float = 0.0,
        batch_norm: bool = False,
        init: str = "he",
        shuffle: bool = True,
        tol: float = 1e-4,
        n_iter_no_change: int = 10,
        random_state: int | np.random.RandomState | None = None,
        dtype: str = "float64",
        verbose: int = 0,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.l2 = l2
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.init = init
        self.shuffle = shuffle
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.dtype = dtype
        self.verbose = verbose

    # -- the parts a subclass defines --------------------------------------------------

    def _output(self) -> tuple[str, int]:
        """(output activation, n[L]) for the targets seen in fit."""
        raise NotImplementedError

    def _targets(self, y: np.ndarray) -> np.ndarray:
        """y as deepmat's Network.fit takes it (class indices, or target values)."""
        raise NotImplementedError

    # -- shared ------------------------------------------------------------------------

    def _check_params(self) -> None:
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if isinstance(sizes, numbers.Integral) else sizes
        try:
            sizes = tuple(sizes)
        except TypeError:
            raise TypeError(
                f"hidden_layer_sizes must be a tuple of positive integers; received {self.hidden_layer_sizes!r}"
            ) from None
        if not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) and n > 0 for n in sizes):
            raise ValueError(
                f"hidden_layer_sizes must be a tuple of positive integers; received {self.hidden_layer_sizes!r}"
            )
        self._hidden = tuple(int(n) for n in sizes)
        if self.batch_size != "auto" and not (
            isinstance(self.batch_size, numbers.Integral)
            and not isinstance(self.batch_size, bool)
            and self.batch_size > 0
        ):
            raise ValueError(f"batch_size must be 'auto' or a positive integer; received {self.batch_size!r}")
        for name in ("max_iter", "n_iter_no_change"):
            check_number(getattr(self, name), name, 1, integer=True)
        check_number(self.tol, "tol", 0)
        if self.verbose not in (0, 1, 2, False, True):
            raise ValueError(f"verbose must be 0, 1 or 2; received {self.verbose!r}")

    def _validate_X(self, X: Any, reset: bool) -> np.ndarray:
        return validate_data(self, X, reset=reset, dtype=[np.float64, np.float32])

    def _build(self, n_features: int) -> None:
        """A fresh network and optimiser for ``n_features`` inputs."""
        output_activation, n_out = self._output()
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        self.network_ = Network(
            [n_features, *self._hidden, n_out],
            self.activation,
            output_activation,
            init=self.init,
            seed=seed,
            dtype=self.dtype,
            l2=self.l2,
            dropout=self.dropout,
            batch_norm=self.batch_norm,
        )
        if isinstance(self.optimizer, Optimizer):
            raise TypeError("optimizer must be a name (e.g. 'adam') so that clone() gives a fresh one")
        self._optimizer = get_optimizer(self.optimizer, self.learning_rate)
        self.loss_curve_: list[float] = []
        self.history_: dict[str, list[float]] = {}
        self.n_iter_ = 0

    def _train(self, X: np.ndarray, y: np.ndarray, epochs: int, stop_early: bool) -> None:
        batch_size = min(200, X.shape[0]) if self.batch_size == "auto" else min(self.batch_size, X.shape[0])
        callbacks = []
        if stop_early:
            stopper = EarlyStopping(
                "loss", patience=self.n_iter_no_change - 1, min_delta=self.tol, restore_best_weights=False
            )
            callbacks.append(stopper)
        history = self.network_.fit(
            X,
            self._targets(y),
            epochs=epochs,
            batch_size=batch_size,
            shuffle=self.shuffle,
            optimizer=self._optimizer,
            callbacks=callbacks,
            verbose=2 if self.verbose else 0,
        )
        self.loss_curve_ += list(history)
        for key, values in history.history.items():
            self.history_.setdefault(key, []).extend(values)
        self.n_iter_ += len(history)
        if stop_early and stopper.stopped_epoch is None and len(history) == epochs:
            warnings.warn(
                f"{type(self).__name__}: stopped after max_iter = {epochs} epochs while the loss was still "
                f"improving by more than tol = {self.tol}; raise max_iter to train further",
                ConvergenceWarning,
                stacklevel=3,
            )

    def _forward(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "network_")
        return self.network_.forward(self._validate_X(X, reset=False))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.non_deterministic = self.random_state is None
        return tags


class DeepmatClassifier(ClassifierMixin, _DeepmatEstimator):
    """A deepmat network as a scikit-learn classifier (binary or multi-class).

    Parameters are those of ``_DeepmatEstimator`` (see the module docstring); ``predict``
    returns labels from ``classes_``, ``predict_proba`` one column per class, ``score`` the
    accuracy. ``partial_fit(X, y, classes=...)`` trains one epoch at a time, keeping the
    optimiser's state between calls.
    """

    def _output(self) -> tuple[str, int]:
        return ("sigmoid", 1) if len(self.classes_) == 2 else ("softmax", len(self.classes_))

    def _targets(self, y: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.classes_, y)

    def _check_y(self, y: Any) -> np.ndarray:
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        return y

    def fit(self, X: Any, y: Any) -> DeepmatClassifier:
        """Train a new network on ``X`` ``(n_samples, n_features)`` and labels ``y`` ``(n_samples,)``."""
        self._check_params()
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], y_numeric=False)
        y = self._check_y(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(
                f"a classifier needs at least 2 classes to train; y holds 1 class, {self.classes_[0]!r}"
            )
        self._build(X.shape[1])
        self._train(X, y, self.max_iter, stop_early=True)
        return self

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> DeepmatClassifier:
        """One epoch over ``(X, y)``; the first call needs ``classes`` (every label there will be)."""
        first = not hasattr(self, "network_")
        if first:
            if classes is None:
                raise ValueError("the first call to partial_fit needs classes= (all the labels y can hold)")
            self._check_params()
            X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], reset=True)
            self.classes_ = np.unique(self._check_y(classes))
            if len(self.classes_) < 2:
                raise ValueError(f"classes must hold at least 2 labels; received {list(self.classes_)}")
            self._build(X.shape[1])
        else:
            X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], reset=False)
            if classes is not None and not np.array_equal(np.unique(classes), self.classes_):
                raise ValueError(
                    f"classes={list(np.unique(classes))} differs from the first call's {list(self.classes_)}"
                )
        y = self._check_y(y)
        unseen = np.setdiff1d(y, self.classes_)
        if unseen.size:
            raise ValueError(f"y holds labels {list(unseen)} not in classes {list(self.classes_)}")
        self._train(X, y, 1, stop_early=False)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """P(class) for each sample, ``(n_samples, n_classes)`` in the order of ``classes_``."""
        check_is_fitted(self, "network_")
        return self.network_.predict_proba(self._validate_X(X, reset=False))

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """log P(class), ``(n_samples, n_classes)``."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each sample, ``(n_samples,)``, labels from ``classes_``."""
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags


class DeepmatRegressor(RegressorMixin, _DeepmatEstimator):
    """A deepmat network as a scikit-learn regressor (one or several targets).

    Parameters are those of ``_DeepmatEstimator`` (see the module docstring); identity outputs
    trained with the mean squared error; ``score`` is R². ``partial_fit(X, y)`` trains one epoch.
    """

    def _output(self) -> tuple[str, int]:
        return "identity", self.n_outputs_

    def _targets(self, y: np.ndarray) -> np.ndarray:
        return y.reshape(y.shape[0], self.n_outputs_)

    def _check_y(self, X: Any, y: Any, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        X, y = validate_data(
            self, X, y, reset=reset, dtype=[np.float64, np.float32], multi_output=True, y_numeric=True
        )
        if type_of_target(y) in ("binary", "multiclass") and y.dtype.kind == "O":  # pragma: no cover
            raise ValueError(f"y must be numeric targets; received dtype {y.dtype}")
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, np.asarray(y, dtype=np.float64)

    def fit(self, X: Any, y: Any) -> DeepmatRegressor:
        """Train a new network on ``X`` ``(n_samples, n_features)`` and targets ``y``
        ``(n_samples,)`` or ``(n_samples, n_targets)``."""
        self._check_params()
        X, y = self._check_y(X, y, reset=True)
        self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        self._y_ndim = y.ndim
        self._build(X.shape[1])
        self._train(X, y, self.max_iter, stop_early=True)
        return self

    def partial_fit(self, X: Any, y: Any) -> DeepmatRegressor:
        """One epoch over ``(X, y)`` (the first call builds the network)."""
        first = not hasattr(self, "network_")
        if first:
            self._check_params()
        X, y = self._check_y(X, y, reset=first)
        n_outputs = 1 if y.ndim == 1 else y.shape[1]
        if first:
            self.n_outputs_, self._y_ndim = n_outputs, y.ndim
            self._build(X.shape[1])
        elif n_outputs != self.n_outputs_:
            raise ValueError(f"y has {n_outputs} targets per sample; the first call had {self.n_outputs_}")
        self._train(X, y, 1, stop_early=False)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predicted targets, ``(n_samples,)`` for one target (as fit saw it), else ``(n_samples, n_targets)``;
        float64 whatever the network's dtype (as scikit-learn's regressors return)."""
        out = self._forward(X).astype(np.float64, copy=False)
        return out[:, 0] if self._y_ndim == 1 else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
