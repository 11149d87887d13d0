"""What the page draws besides the equations, as JSON: the data points, the decision
boundary, and each layer's health — gradient norms, dead units, weight histograms and each
hidden unit's own boundary.

Grids cover the square [−VIEW, VIEW]² (:data:`deepmat.playground.datasets.VIEW`), row 0 at
the top (x2 = VIEW), column 0 on the left (x1 = −VIEW), row-major. Every number is computed by
the network (:meth:`~deepmat.Network.predict_proba`, :meth:`~deepmat.Network.gradients`) or
by :func:`deepmat.functional.L_model_forward` on its parameters (the same A[l] as the
network's inference pass: dropout is the identity there).
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

from deepmat import functional as F
from deepmat.network import Network
from deepmat.playground.datasets import VIEW, PlaygroundData, feature_columns

#: cells per side of the decision boundary's grid
BOUNDARY_SIZE = 48
#: cells per side of each hidden unit's own boundary
UNIT_SIZE = 20
#: bins of each weight histogram
HISTOGRAM_BINS = 12


def grid(size: int) -> np.ndarray:
    """The centres of ``size`` × ``size`` cells covering [−VIEW, VIEW]², ``(size², 2)``,
    row-major from the top-left cell."""
    centres = (np.arange(size) + 0.5) / size * 2 * VIEW - VIEW
    x1, x2 = np.meshgrid(centres, centres[::-1])
    return np.column_stack([x1.ravel(), x2.ravel()])


def _rounded(values: np.ndarray, digits: int = 4) -> list[Any]:
    return np.round(values.astype(np.float64), digits).tolist()


def points(data: PlaygroundData) -> dict[str, Any]:
    """The training and test points (x1, x2) with their labels, and the drawn square's half side."""
    return {
        "view": VIEW,
        "train": {"points": _rounded(data.points_train), "labels": data.y_train.tolist()},
        "test": {"points": _rounded(data.points_test), "labels": data.y_test.tolist()},
    }


def boundary(net: Network, feature_names: tuple[str, ...], size: int = BOUNDARY_SIZE) -> dict[str, Any]:
    """P(label 1) at every cell of a ``size`` × ``size`` grid (``values``, row-major), from
    the network's :meth:`~deepmat.Network.predict_proba` on the cells' features. Raises
    ``ValueError`` when the outputs are not finite (the parameters have overflowed)."""
    probability = net.predict_proba(feature_columns(grid(size), feature_names))[:, 1]
    return {"size": size, "view": VIEW, "values": _rounded(probability, 3)}


def _activations(net: Network, X: np.ndarray) -> list[np.ndarray]:
    """A[1], …, A[L] ``(n[l], m)`` for rows ``X`` ``(m, n[0])``, by :func:`F.L_model_forward`."""
    _, caches = F.L_model_forward(X.T, net.params, net.hidden_activation, net.output_activation)
    return [cache.A for cache in caches]


def _unit_maps(A: np.ndarray) -> dict[str, Any]:
    """Each row of ``A`` (a unit's activation over the grid) scaled to 0…255 between its own
    minimum and maximum, as base64 bytes, with those bounds."""
    low, high = A.min(axis=1, keepdims=True), A.max(axis=1, keepdims=True)
    span = np.where(high > low, high - low, 1.0)
    scaled = np.round((A - low) / span * 255).astype(np.uint8)
    return {
        "low": _rounded(low[:, 0]),
        "high": _rounded(high[:, 0]),
        "maps": [base64.b64encode(row.tobytes()).decode("ascii") for row in scaled],
    }


def health(net: Network, X: np.ndarray, y: np.ndarray, feature_names: tuple[str, ...]) -> dict[str, Any]:
    """Per layer l = 1..L: ‖W[l]‖, ‖dW[l]‖ and ‖db[l]‖ (Frobenius norms of the full-batch
    gradient of J on the training rows ``X`` ``(m, n[0])``, ``y`` ``(m,)``, L2 term included),
    the share of units whose A[l] is 0 on every training point ("dead"), a histogram of W[l]'s
    entries; and for each hidden layer, every unit's activation over a grid of
    ``UNIT_SIZE`` × ``UNIT_SIZE`` cells (its own boundary)."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        grads = net.gradients(X, y)
        train_A = _activations(net, X)
        grid_A = _activations(net, feature_columns(grid(UNIT_SIZE), feature_names))
    layers = []
    for l in range(1, net.L + 1):
        W = net.params[f"W{l}"]
        finite = np.isfinite(W).all()
        counts, edges = np.histogram(W, bins=HISTOGRAM_BINS) if finite else (np.zeros(0), np.zeros(0))
        layer = {
            "l": l,
            "units": int(W.shape[0]),
            "activation": net.hidden_activation if l < net.L else net.output_activation,
            "weight_norm": float(np.linalg.norm(W)),
            "grad_W_norm": float(np.linalg.norm(grads[f"dW{l}"])),
            "grad_b_norm": float(np.linalg.norm(grads[f"db{l}"])),
            "dead_share": float((train_A[l - 1] == 0).all(axis=1).mean()),
            "histogram": {"counts": counts.astype(int).tolist(), "edges": _rounded(edges)},
        }
        if l < net.L:
            layer["unit_maps"] = {"size": UNIT_SIZE, **_unit_maps(grid_A[l - 1])}
        layers.append(layer)
    return {"layers": layers}
