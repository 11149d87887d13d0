"""Per-sample weights for training: ``sample_weight``, ``class_weight`` and their product.

Weights multiply each sample's loss: J = Σᵢ wᵢ·Lᵢ / Σᵢ wᵢ over the training set, so a sample
of weight 2 counts exactly as the sample repeated. The trainer scales the weights to mean 1
over the training set once (w̃ᵢ = m·wᵢ / Σⱼ wⱼ); a batch of B samples then costs
(1/B)·Σᵢ w̃ᵢ·Lᵢ, an unbiased estimate of J, and full-batch training minimises J exactly.

``class_weight="balanced"`` weighs class c by m / (k·m_c) — k classes present, m_c samples
of class c — as scikit-learn does, so that every class carries the same total weight.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deepmat._checks import check_finite


def class_labels(Y: np.ndarray, output_activation: str) -> np.ndarray:
    """The class index ``(m,)`` of each target row of ``Y`` ``(m, n[L])``: the one-hot column
    for softmax, 0/1 for one sigmoid unit."""
    if output_activation == "softmax":
        return Y.argmax(axis=1)
    if output_activation == "sigmoid" and Y.shape[1] == 1:
        return (Y[:, 0] > 0.5).astype(np.int64)
    raise ValueError(
        f"class weights and a stratified split need one class per sample (a softmax output or one sigmoid "
        f"unit); this network's output is {output_activation!r} with {Y.shape[1]} units"
    )


def check_sample_weight(sample_weight: Any, m: int) -> np.ndarray:
    """``sample_weight`` as float64 ``(m,)``: finite, ≥ 0, not all 0."""
    w = np.asarray(sample_weight)
    if w.dtype.kind not in "biuf":
        raise TypeError(f"sample_weight must hold real numbers; received dtype {w.dtype}")
    if w.shape != (m,):
        raise ValueError(
            f"sample_weight must be ({m},), one weight per sample of X; received shape {w.shape}"
        )
    w = w.astype(np.float64)
    check_finite(w, "sample_weight")
    if (w < 0).any():
        i = int(np.argmax(w < 0))
        raise ValueError(f"sample_weight must be ≥ 0; received {w[i]} for sample {i}")
    if not w.sum() > 0:
        raise ValueError("sample_weight must not be all 0 (every weight zero): no sample would count")
    return w


def class_weights(class_weight: Any, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """The weight of each sample's class ``(m,)`` from ``"balanced"`` or ``{class: weight}``
    (classes not named weigh 1)."""
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(
                f"class_weight must be 'balanced' or a dict {{class: weight}}; received {class_weight!r}"
            )
        counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
        present = counts > 0
        per_class = np.where(present, labels.size / (present.sum() * np.maximum(counts, 1)), 0.0)
        return per_class[labels]
    if not isinstance(class_weight, dict):
        raise TypeError(
            f"class_weight must be 'balanced' or a dict {{class: weight}}; received {class_weight!r}"
        )
    per_class = np.ones(n_classes)
    for key, value in class_weight.items():
        if isinstance(key, bool) or not isinstance(key, (int, np.integer)) or not 0 <= key < n_classes:
            raise ValueError(f"class_weight names class {key!r}; the classes are 0..{n_classes - 1}")
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float, np.integer, np.floating))
            or not (np.isfinite(value) and value >= 0)
        ):
            raise ValueError(f"class_weight[{key}] must be a finite number ≥ 0; received {value!r}")
        per_class[int(key)] = float(value)
    return per_class[labels]


def training_weights(
    sample_weight: Any, class_weight: Any, Y: np.ndarray, output_activation: str
) -> np.ndarray | None:
    """The product of ``sample_weight`` and ``class_weight`` for target rows ``Y``, scaled to
    mean 1 (w̃ᵢ = m·wᵢ / Σⱼ wⱼ); None when neither is given."""
    if sample_weight is None and class_weight is None:
        return None
    m = Y.shape[0]
    w = np.ones(m) if sample_weight is None else check_sample_weight(sample_weight, m)
    if class_weight is not None:
        w = w * class_weights(class_weight, class_labels(Y, output_activation), max(Y.shape[1], 2))
    total = w.sum()
    if not total > 0:
        raise ValueError("the sample and class weights leave no sample with a weight above 0")
    return w * (m / total)
