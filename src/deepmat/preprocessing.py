"""Preparing data for a network: scaling, standardising, one-hot encoding (and counting the
classes of labels), splitting.

All functions take the row layout of :class:`deepmat.Network` — ``X`` is
``(n_samples, n_features)`` — and avoid copies they do not need: scaling and standardising
write one new float array (or into ``out=``), splitting returns views when not shuffling.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from deepmat._checks import as_float_matrix, check_dtype_name, check_number


def scale(X: Any, factor: float = 255.0, dtype: str = "float32") -> np.ndarray:
    """X / factor as ``dtype`` in one pass (uint8 pixels → [0, 1] with the default).

    The division is done in ``dtype`` with the input cast on the fly, so the only array written
    is the result (same shape as ``X``); ``scale(x, 255, "float64")`` equals ``x / 255.0``.
    """
    X = np.asarray(X)
    resolved = check_dtype_name(dtype)
    factor = check_number(factor, "factor", 0, low_open=True)
    if X.dtype.kind not in "biuf":
        raise TypeError(f"scale expects real numbers (float, int or bool); received dtype {X.dtype}")
    return np.divide(X, resolved.type(factor), dtype=resolved)


class Standardizer:
    """x ← (x − μ) / σ per feature, with μ and σ learnt by :meth:`fit` on the training set
    (σ = 1 for constant features, which would otherwise divide by zero).

    A feature counts as constant when its σ is within rounding error of zero: a column of
    0.1s has a computed σ of about 1e-17, not 0, and dividing by it would turn the column into
    ±1 instead of 0.
    """

    def __init__(self) -> None:
        self.mean_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None

    def fit(self, X: Any) -> Standardizer:
        X = as_float_matrix(X, "X", np.dtype("float64"))
        self.mean_ = X.mean(axis=0)
        std = X.std(axis=0)
        # rounding error of the mean and of x - mean is about n·eps·|mean| (scikit-learn's bound)
        rounding = X.shape[0] * np.finfo(np.float64).eps * np.abs(self.mean_)
        self.scale_ = np.where(std > rounding, std, 1.0)
        return self

    def transform(self, X: Any, dtype: str = "float32") -> np.ndarray:
        if self.mean_ is None or self.scale_ is None:
            raise ValueError("Standardizer.transform before fit: call fit(X_train) first")
        resolved = check_dtype_name(dtype)
        array = np.asarray(X)
        n_features = self.mean_.shape[0]
        if array.ndim == 2 and array.shape[1] != n_features:
            raise ValueError(
                f"X has {array.shape[1]} features per sample but the Standardizer was fitted on "
                f"{n_features}: received shape {array.shape}, expected (n_samples, {n_features})"
            )
        array = as_float_matrix(array, "X", array.dtype)  # validated, not converted
        # one new array: computed in float64 only when the input is float64, else in ``dtype``
        work = np.result_type(array.dtype, resolved) if array.dtype.kind == "f" else resolved
        out = np.subtract(array, self.mean_, dtype=work)
        np.divide(out, self.scale_, out=out, dtype=work)
        return out.astype(resolved, copy=False)

    def fit_transform(self, X: Any, dtype: str = "float32") -> np.ndarray:
        return self.fit(X).transform(X, dtype)


def one_hot(y: Any, n_classes: int | None = None, dtype: str = "float64") -> np.ndarray:
    """Labels ``(n_samples,)`` in 0..n_classes-1 → one-hot rows ``(n_samples, n_classes)``.

    Without ``n_classes``, it is the largest label + 1, at most ``n_samples``
    (:func:`count_classes`): a label of 2⁴⁰ is an error, not 2⁴⁰ columns."""
    y = np.asarray(y)
    if y.ndim != 1 or y.dtype.kind not in "iu" or (y.size and y.min() < 0):
        raise ValueError(
            f"one_hot expects a 1-D array of non-negative integer labels; received {y.dtype} {y.shape}"
        )
    if n_classes is not None:
        n_classes = check_number(n_classes, "n_classes", 1, integer=True)
    elif y.size == 0:
        raise ValueError("one_hot of an empty label array needs n_classes; received n_classes=None")
    n = count_classes([y], "one_hot's labels") if n_classes is None else int(n_classes)
    if y.size and y.max() >= n:
        raise ValueError(f"labels must be < n_classes = {n}; received a label {int(y.max())}")
    Y = np.zeros((y.shape[0], n), dtype=check_dtype_name(dtype))
    Y[np.arange(y.shape[0]), y] = 1
    return Y


def count_classes(labels: Sequence[np.ndarray], what: str, names: Sequence[str] | None = None) -> int:
    """The number of classes k of integer class labels (arrays ``(m_i,)``, e.g. a training and a
    test part), after checking that every label is an integer in 0..k-1.

    With ``names`` (the classes' names), k is ``len(names)``. Without, k is the largest label + 1,
    and may not exceed the number of samples (Σ m_i): a class needs at least one sample, and a
    label of 2⁴⁰ must not make 2⁴⁰ classes. ``what`` names the labels in the message, e.g.
    ``"'d.npz' 'y_train' and 'y_test'"``.

    Raises:
        ValueError: a label is out of range: ``"<what> hold labels <low>..<high>; expected
            0..<k - 1>: class labels, …"``.
    """
    present = [y for y in labels if y.size]
    if not present:
        return len(names) if names is not None else 0
    low, high = min(int(y.min()) for y in present), max(int(y.max()) for y in present)
    n_samples = sum(y.size for y in present)
    if names is not None:
        most, why = len(names), f"one per class name ({len(names)} names)"
    else:
        most, why = n_samples, f"at most as many classes as the {n_samples} samples (each class needs one)"
    if low < 0 or high >= most:
        raise ValueError(f"{what} hold labels {low}..{high}; expected 0..{most - 1}: class labels, {why}")
    return most if names is not None else high + 1


def train_val_split(
    X: Any, y: Any, val_fraction: float = 0.1, seed: int | None = 0, shuffle: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_train, X_val, y_train, y_val): ``val_fraction`` of the samples held out, chosen by a
    seeded permutation (or the last ones, as views, when ``shuffle`` is false)."""
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError(f"X and y must have one sample per row; received shapes X {X.shape} and y {y.shape}")
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X has {X.shape[0]} samples but y has {y.shape[0]}")
    val_fraction = check_number(val_fraction, "val_fraction", 0, 1, low_open=True, high_open=True)
    m = X.shape[0]
    n_val = round(m * val_fraction)
    if not 0 < n_val < m:
        raise ValueError(f"val_fraction={val_fraction} of {m} samples leaves {n_val} for validation")
    if not shuffle:
        return X[: m - n_val], X[m - n_val :], y[: m - n_val], y[m - n_val :]
    order = np.random.default_rng(seed).permutation(m)
    train, val = order[: m - n_val], order[m - n_val :]
    return X[train], X[val], y[train], y[val]


def stratified_split(
    labels: np.ndarray, n_val: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(train rows, validation rows), each in increasing order: ``n_val`` rows held out, each
    class in proportion to its share (largest remainders, ties broken by ``rng``), chosen at
    random within the class."""
    m = labels.size
    classes, counts = np.unique(labels, return_counts=True)
    exact = counts * n_val / m
    take = np.floor(exact).astype(np.int64)
    short = n_val - take.sum()
    if short:
        remainders = exact - take + rng.random(classes.size) * 1e-9  # ties: at random
        take[np.argsort(-remainders, kind="stable")[:short]] += 1
    val = np.concatenate(
        [rng.permutation(np.flatnonzero(labels == c))[:k] for c, k in zip(classes, take, strict=True)]
    )
    held = np.zeros(m, dtype=bool)
    held[val] = True
    return np.flatnonzero(~held), np.flatnonzero(held)
