"""Classification metrics: the confusion matrix and, from it, each class's precision, recall
and F1 — what ``deepmat train`` records, ``deepmat evaluate`` prints and a run report shows.

With C the confusion matrix (``C[i, j]``: samples of true class i predicted as j, shape
``(k, k)``) and class j:

==========  =========================================  ======================================
precision   C[j, j] / Σ_i C[i, j]                      of the samples predicted j, how many are
recall      C[j, j] / Σ_i C[j, i]                      of the samples of class j, how many were found
F1          2·precision·recall / (precision + recall)  their harmonic mean
support     Σ_i C[j, i]                                the samples of class j
==========  =========================================  ======================================

A class never predicted has precision 0, a class with no samples recall 0, and F1 is 0 when
both are (scikit-learn's ``zero_division=0``).

>>> import numpy as np
>>> C = confusion_matrix(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]), 2)
>>> C
array([[1, 1],
       [0, 2]])
>>> [round(float(v), 3) for v in precision_recall_f1(C)[2]]
[0.667, 0.8]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def confusion_matrix(y_true: Any, y_pred: Any, n_classes: int) -> np.ndarray:
    """``C`` ``(k, k)`` int64: ``C[i, j]`` counts the samples of class i predicted as class j.

    ``y_true`` and ``y_pred`` are ``(m,)`` labels in 0..k-1."""
    y_true, y_pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(
            f"y_true and y_pred must be two (m,) label arrays; received {y_true.shape}, {y_pred.shape}"
        )
    for name, labels in (("y_true", y_true), ("y_pred", y_pred)):
        if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
            raise ValueError(
                f"{name} holds labels from {labels.min()} to {labels.max()}; expected 0..{n_classes - 1}"
            )
    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(confusion, (y_true, y_pred), 1)
    return confusion


def precision_recall_f1(confusion: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(precision, recall, F1, support), each ``(k,)``, per class of a confusion matrix."""
    hits = np.diag(confusion).astype(np.float64)
    predicted = confusion.sum(axis=0)
    support = confusion.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, hits / np.maximum(predicted, 1), 0.0)
        recall = np.where(support > 0, hits / np.maximum(support, 1), 0.0)
        total = precision + recall
        f1 = np.where(total > 0, 2 * precision * recall / np.where(total > 0, total, 1), 0.0)
    return precision, recall, f1, support


def classification_report(net: Any, X: Any, y: Any, classes: Sequence[str]) -> dict[str, Any]:
    """A classifier ``net`` on ``(X, y)`` (labels 0..k-1 naming ``classes``): accuracy, the
    cost J (``loss``), the confusion matrix, the predictions, and per class its name,
    precision, recall, F1 and count."""
    y = np.asarray(y)
    predicted = np.asarray(net.predict(X)).astype(np.int64)
    confusion = confusion_matrix(y, predicted, len(classes))
    precision, recall, f1, support = precision_recall_f1(confusion)
    correct = int(np.trace(confusion))
    per_class = [
        {
            "index": j,
            "class": name,
            "precision": float(precision[j]),
            "recall": float(recall[j]),
            "f1": float(f1[j]),
            "count": int(support[j]),
        }
        for j, name in enumerate(classes)
    ]
    return {
        "accuracy": correct / len(y),
        "correct": correct,
        "n_samples": len(y),
        "loss": float(net.cost(X, y)),
        "per_class": per_class,
        "confusion": confusion,
        "predicted": predicted,
    }
