"""Targets y as the network trains on them: Yᵀ ``(m, n[L])``, one row per sample.

Class labels ``(m,)`` for a softmax output are one-hot encoded (label k → the row with a 1 in
column k); 0/1 labels ``(m,)`` for one sigmoid output and values ``(m,)`` for one identity
output become a column; ``(m, n[L])`` targets are taken as they are. A sigmoid or softmax
output is trained on targets in [0, 1].
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deepmat._checks import cast_finite, check_finite
from deepmat.losses import PROBABILITY_OUTPUTS


def target_rows(y: Any, m: int, n_out: int, output_activation: str, dtype: np.dtype) -> np.ndarray:
    """Yᵀ ``(m, n_out)`` in ``dtype`` for the targets ``y`` of m samples, checked: real finite
    numbers, one per sample (or a row of n_out), labels in 0..n_out-1 for softmax, values in
    [0, 1] for a sigmoid or softmax output."""
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        raise TypeError(f"y must hold real numbers (labels or targets); received dtype {y.dtype}")
    if y.ndim not in (1, 2) or y.shape[0] != m:
        raise ValueError(
            f"y must be (n_samples,) or (n_samples, {n_out}) with n_samples = {m}, the number of "
            f"rows of X; received shape {y.shape}"
        )
    if y.ndim == 1 and output_activation == "softmax":
        check_finite(y, "y")
        Y = one_hot_labels(y, n_out, dtype)
    elif y.ndim == 2 and y.shape[1] != n_out:
        raise ValueError(
            f"y is {y.shape} but the output layer has n[L] = {n_out} units; expected ({m}, {n_out})"
        )
    elif y.ndim == 1 and n_out != 1:
        raise ValueError(
            f"y is 1-D {y.shape} but the output layer has n[L] = {n_out} units and is not a "
            f"softmax; expected targets of shape ({m}, {n_out})"
        )
    else:
        Y = cast_finite(y, "y", dtype).reshape(m, n_out)
    if output_activation in PROBABILITY_OUTPUTS and (Y.min() < 0 or Y.max() > 1):
        raise ValueError(
            f"a {output_activation} output is trained on targets in [0, 1]; received values "
            f"from {Y.min()} to {Y.max()}"
        )
    return Y


def one_hot_labels(labels: np.ndarray, n_classes: int, dtype: np.dtype) -> np.ndarray:
    """Class labels ``(m,)`` → one-hot rows ``(m, n_classes)``; labels must be the integers
    0..n_classes-1 (as numbers of any dtype: 2.0 is class 2, 2.5 is refused)."""
    as_int = labels.astype(np.int64)
    if not np.array_equal(as_int, labels) or as_int.min() < 0 or as_int.max() >= n_classes:
        raise ValueError(
            f"class labels must be integers from 0 to {n_classes - 1} (n[L] = {n_classes}); "
            f"received values from {labels.min()} to {labels.max()}"
        )
    Y = np.zeros((labels.shape[0], n_classes), dtype=dtype)
    Y[np.arange(labels.shape[0]), as_int] = 1
    return Y
