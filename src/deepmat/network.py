"""``Network``: an L-layer fully-connected network that owns its parameters (SPEC §1–§7).

The object API speaks the layout of scikit-learn and PyTorch — one sample per **row**:
``X`` is ``(n_samples, n_features)``, ``y`` is ``(n_samples,)`` labels or
``(n_samples, n_outputs)`` targets, and outputs are ``(n_samples, n_outputs)``.
Inside, it computes in the seeds' column layout: A[0] = Xᵀ ``(n[0], m)`` with
m = n_samples, and Y = yᵀ ``(n[L], m)`` (class labels one-hot encoded for a softmax
output). The transposes are views; nothing is copied. The parameters keep the seeds'
shapes: ``W{l}`` is ``(n[l], n[l-1])`` and ``b{l}`` is ``(n[l], 1)``.

>>> import numpy as np
>>> net = Network([2, 4, 1], seed=0)
>>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
>>> net.forward(X).shape
(4, 1)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from deepmat import functional as F
from deepmat._checks import as_float_matrix, check_dtype_name, check_finite, check_positive, unknown_name
from deepmat.activations import get_activation
from deepmat.initializers import initialize_parameters
from deepmat.losses import DEFAULT_LOSS, get_loss

#: Output activations whose outputs are probabilities (classifiers).
PROBABILITY_OUTPUTS = ("sigmoid", "softmax")


class TrainingDiverged(FloatingPointError):
    """The cost became NaN or infinite during training."""


class Network:
    """A deep fully-connected network, ``layer_dims = [n[0], n[1], …, n[L]]``.

    Args:
        layer_dims: units per layer, input layer first (at least two entries).
        hidden_activation: g[l] for l = 1..L-1 — ``"relu"``, ``"leaky_relu"``, ``"tanh"``,
            ``"sigmoid"`` or ``"identity"``.
        output_activation: g[L] — ``"sigmoid"`` (binary or multi-label), ``"softmax"``
            (multi-class) or ``"identity"`` (regression).
        loss: ``"binary_cross_entropy"``, ``"cross_entropy"`` or ``"mse"``; ``None`` takes
            the one that matches ``output_activation`` (sigmoid → binary cross-entropy,
            softmax → cross-entropy, identity → MSE).
        init: ``"scaled"`` (seed 002's iniPara), ``"small"``, ``"he"``, ``"xavier"`` or
            ``"zeros"`` — see :mod:`deepmat.initializers`.
        seed: seed of the ``RandomState`` the weights are drawn from.
        dtype: ``"float64"`` or ``"float32"``; parameters, activations, gradients and inputs
            all use it.

    Shape:
        - ``X``: ``(n_samples, n[0])``
        - ``y``: ``(n_samples,)`` labels — 0/1 for one sigmoid output, 0..n[L]-1 for
          softmax, values for one identity output — or ``(n_samples, n[L])`` targets
        - output: ``(n_samples, n[L])``

    Example::

        net = Network([12288, 20, 7, 5, 1])        # the seeds' cat model
        costs = net.fit(X_train, y_train)          # full-batch gradient descent
        net.score(X_test, y_test)                  # accuracy
    """

    def __init__(
        self,
        layer_dims: Sequence[int],
        hidden_activation: str = "relu",
        output_activation: str = "sigmoid",
        loss: str | None = None,
        init: str = "scaled",
        seed: int | None = 1,
        dtype: str = "float64",
    ) -> None:
        self.layer_dims = _check_layer_dims(layer_dims)
        get_activation(hidden_activation)
        if output_activation not in DEFAULT_LOSS:
            raise unknown_name("output activation", output_activation, DEFAULT_LOSS)
        if hidden_activation == "softmax":
            raise ValueError(
                "hidden_activation='softmax' is not supported (a hidden softmax couples its units); "
                "expected one of: 'identity', 'leaky_relu', 'relu', 'sigmoid', 'tanh'"
            )
        loss = DEFAULT_LOSS[output_activation] if loss is None else loss
        get_loss(loss)
        if loss != "mse" and output_activation not in PROBABILITY_OUTPUTS:
            raise ValueError(
                f"loss {loss!r} needs probabilities in (0, 1); output_activation "
                f"{output_activation!r} does not give them: use 'sigmoid' or 'softmax'"
            )
        if output_activation == "softmax" and self.layer_dims[-1] < 2:
            raise ValueError(
                f"a softmax output needs n[L] ≥ 2 classes; received n[L] = {self.layer_dims[-1]} "
                "(use output_activation='sigmoid' for one output)"
            )
        self.hidden_activation = hidden_activation
        self.output_activation = output_activation
        self.loss = loss
        self.init = init
        self.seed = seed
        self.dtype = check_dtype_name(dtype)
        self.params: dict[str, np.ndarray] = initialize_parameters(
            self.layer_dims, init, seed, self.dtype.name
        )

    # -- description -------------------------------------------------------------------

    @property
    def L(self) -> int:
        """Number of layers with parameters (the input layer is layer 0)."""
        return len(self.layer_dims) - 1

    @property
    def is_classifier(self) -> bool:
        """True when the output is a probability (sigmoid or softmax)."""
        return self.output_activation in PROBABILITY_OUTPUTS

    def __repr__(self) -> str:
        return (
            f"Network(layer_dims={self.layer_dims}, hidden_activation={self.hidden_activation!r}, "
            f"output_activation={self.output_activation!r}, loss={self.loss!r}, init={self.init!r}, "
            f"seed={self.seed}, dtype={self.dtype.name!r})"
        )

    def copy(self, dtype: str | None = None) -> Network:
        """An independent copy, optionally cast to another dtype."""
        clone = object.__new__(Network)
        clone.__dict__.update(self.__dict__)
        clone.layer_dims = list(self.layer_dims)
        clone.dtype = check_dtype_name(dtype if dtype is not None else self.dtype)
        clone.params = {k: v.astype(clone.dtype, copy=True) for k, v in self.params.items()}
        return clone

    # -- the maths, in column layout ---------------------------------------------------

    def _columns(self, X: Any) -> np.ndarray:
        """A[0] = Xᵀ, ``(n[0], m)``, after checking X."""
        return as_float_matrix(X, "X", self.dtype, self.layer_dims[0]).T

    def _targets(self, y: Any, m: int) -> np.ndarray:
        """Y = yᵀ, ``(n[L], m)``, with labels one-hot encoded for a softmax output."""
        n_out = self.layer_dims[-1]
        y = np.asarray(y)
        if y.dtype.kind not in "biuf":
            raise TypeError(f"y must hold real numbers (labels or targets); received dtype {y.dtype}")
        if y.ndim not in (1, 2) or y.shape[0] != m:
            raise ValueError(
                f"y must be (n_samples,) or (n_samples, {n_out}) with n_samples = {m}, the number of "
                f"rows of X; received shape {y.shape}"
            )
        check_finite(y, "y")
        if y.ndim == 2:
            if y.shape[1] != n_out:
                raise ValueError(
                    f"y is {y.shape} but the output layer has n[L] = {n_out} units; expected ({m}, {n_out})"
                )
            Y = y.T.astype(self.dtype, copy=False)
        elif self.output_activation == "softmax":
            Y = self._one_hot(y)
        elif n_out == 1:
            Y = y.reshape(1, m).astype(self.dtype, copy=False)
        else:
            raise ValueError(
                f"y is 1-D {y.shape} but the output layer has n[L] = {n_out} units and is not a "
                f"softmax; expected targets of shape ({m}, {n_out})"
            )
        if self.is_classifier and (Y.min() < 0 or Y.max() > 1):
            raise ValueError(
                f"a {self.output_activation} output is trained on targets in [0, 1]; received values "
                f"from {Y.min()} to {Y.max()}"
            )
        return Y

    def _one_hot(self, labels: np.ndarray) -> np.ndarray:
        n_classes = self.layer_dims[-1]
        as_int = labels.astype(np.int64)
        if not np.array_equal(as_int, labels) or as_int.min() < 0 or as_int.max() >= n_classes:
            raise ValueError(
                f"class labels must be integers from 0 to {n_classes - 1} (n[L] = {n_classes}); "
                f"received values from {labels.min()} to {labels.max()}"
            )
        Y = np.zeros((n_classes, labels.shape[0]), dtype=self.dtype)
        Y[as_int, np.arange(labels.shape[0])] = 1
        return Y

    def _forward(self, A0: np.ndarray) -> tuple[np.ndarray, list[F.LayerCache]]:
        return F.L_model_forward(A0, self.params, self.hidden_activation, self.output_activation)

    def _backward(self, AL: np.ndarray, Y: np.ndarray, caches: list[F.LayerCache]) -> dict[str, np.ndarray]:
        return F.L_model_backward(
            AL, Y, caches, self.hidden_activation, self.output_activation, self.loss, compute_dA0=False
        )

    # -- public API, row layout --------------------------------------------------------

    def forward(self, X: Any) -> np.ndarray:
        """Output activations A[L]ᵀ, ``(n_samples, n[L])``."""
        AL, _ = self._forward(self._columns(X))
        return AL.T

    def cost(self, X: Any, y: Any) -> float:
        """The mean cost J over the samples of ``(X, y)``."""
        A0 = self._columns(X)
        AL, _ = self._forward(A0)
        return F.compute_cost(AL, self._targets(y, A0.shape[1]), self.loss)

    def gradients(self, X: Any, y: Any) -> dict[str, np.ndarray]:
        """∂J/∂W[l] and ∂J/∂b[l] as ``{"dW1": …, "db1": …}``, shaped like the parameters."""
        A0 = self._columns(X)
        Y = self._targets(y, A0.shape[1])
        AL, caches = self._forward(A0)
        grads = self._backward(AL, Y, caches)
        return {k: v for k, v in grads.items() if not k.startswith("dA")}

    def fit(
        self,
        X: Any,
        y: Any,
        learning_rate: float = 0.0075,
        iterations: int = 2500,
        print_every: int | None = 100,
    ) -> list[float]:
        """Full-batch gradient descent, as the seeds train: for i = 0..iterations-1, compute
        the cost J (recorded *before* the update), back-propagate, and take one step
        W[l] ← W[l] − α·dW[l], b[l] ← b[l] − α·db[l].

        Prints ``Cost after iteration i: J`` every ``print_every`` iterations (``None`` or
        0: silent). Returns the cost of every iteration (length ``iterations``). Raises
        :class:`TrainingDiverged`, naming the iteration, if the cost stops being finite; the
        parameters are then those of the last finite cost.
        """
        check_positive(learning_rate, "learning_rate")
        check_positive(iterations, "iterations", integer=True)
        if print_every is not None and (
            isinstance(print_every, bool) or not isinstance(print_every, int) or print_every < 0
        ):
            raise ValueError(f"print_every must be a non-negative integer or None; received {print_every!r}")
        A0 = self._columns(X)
        Y = self._targets(y, A0.shape[1])
        costs: list[float] = []
        for i in range(iterations):
            AL, caches = self._forward(A0)
            cost = F.compute_cost(AL, Y, self.loss)
            if not np.isfinite(cost):
                raise TrainingDiverged(
                    f"the cost became {cost} at iteration {i} (learning_rate={learning_rate}); "
                    "try a smaller learning rate"
                )
            costs.append(cost)
            if print_every and i % print_every == 0:
                print(f"Cost after iteration {i}: {cost:.7f}", flush=True)
            self.params = F.update_parameters(self.params, self._backward(AL, Y, caches), learning_rate)
        return costs

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, ``(n_samples, n_classes)``: a softmax output's A[L]ᵀ; for one
        sigmoid output the columns [P(y=0), P(y=1)] = [1 − a, a] (scikit-learn's layout);
        for several sigmoid outputs (multi-label) P(y_k = 1) per output."""
        if not self.is_classifier:
            raise TypeError(
                f"predict_proba needs a sigmoid or softmax output; this network's output is "
                f"{self.output_activation!r} (a regressor): use predict"
            )
        A = self.forward(X)
        if self.output_activation == "sigmoid" and A.shape[1] == 1:
            return np.hstack([1 - A, A])
        return A

    def predict(self, X: Any) -> np.ndarray:
        """Predictions: class labels ``(n_samples,)`` (1 where a > 0.5 for one sigmoid output,
        the arg-max for softmax), 0/1 labels ``(n_samples, n[L])`` for multi-label sigmoid, or
        the regression outputs (``(n_samples,)`` for one output)."""
        A = self.forward(X)
        if self.output_activation == "softmax":
            return A.argmax(axis=1)
        if self.output_activation == "sigmoid":
            labels = (A > 0.5).astype(np.int64)
            return labels[:, 0] if labels.shape[1] == 1 else labels
        return A[:, 0] if A.shape[1] == 1 else A

    def score(self, X: Any, y: Any) -> float:
        """Accuracy for a classifier (subset accuracy for multi-label), R² for a regressor
        (averaged uniformly over outputs, as scikit-learn does)."""
        prediction = self.predict(X)
        m = prediction.shape[0]
        Y = self._targets(y, m).T
        if self.output_activation == "softmax":
            return float((prediction == Y.argmax(axis=1)).mean())
        if self.is_classifier:
            truth = (Y > 0.5).astype(np.int64)
            return float((prediction.reshape(truth.shape) == truth).all(axis=1).mean())
        residual = ((Y - prediction.reshape(Y.shape)) ** 2).sum(axis=0)
        total = ((Y - Y.mean(axis=0)) ** 2).sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = np.where(
                total > 0, 1 - residual / np.where(total > 0, total, 1), np.where(residual > 0, 0.0, 1.0)
            )
        return float(r2.mean())


def _check_layer_dims(layer_dims: Any) -> list[int]:
    try:
        dims = list(layer_dims)
    except TypeError:
        raise TypeError(
            f"layer_dims must be a list of integers [n[0], …, n[L]]; received {layer_dims!r}"
        ) from None
    if len(dims) < 2:
        raise ValueError(
            f"layer_dims needs at least an input and an output size [n[0], n[1]]; received {dims}"
        )
    for l, n in enumerate(dims):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"layer_dims[{l}] (n[{l}]) must be an integer; received {n!r}")
        if n <= 0:
            raise ValueError(f"layer_dims[{l}] (n[{l}]) must be positive; received {n}")
    return [int(n) for n in dims]
