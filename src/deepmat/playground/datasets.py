"""The playground's 2-D data sets and the features computed from a point's two coordinates.

A data set is a set of points (x1, x2) in roughly [-3, 3]² with a label 0 or 1, drawn from a
seeded generator, Gaussian noise added to the coordinates, then split into training and test
points at random. The network does not see the points themselves but their features
(:data:`FEATURES`): x1 and x2, and optionally x1², x2², x1·x2, sin x1 and sin x2 — so that
``X`` is ``(n_samples, n[0])`` with n[0] the number of features chosen.

>>> data = make_dataset("xor", samples=40, noise=0.0, train_share=0.5, features=("x1", "x2", "x1x2"))
>>> data.X_train.shape, data.y_train.shape, data.X_test.shape
((20, 3), (20,), (20, 3))
>>> sorted(set(data.y_train.tolist()))
[0, 1]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

#: half the side of the square the points lie in (and the page draws, with a margin)
EXTENT = 3.0
#: how far the drawn square reaches: the data's extent and a margin
VIEW = 3.6


def _circles(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Label 1 inside a disc of radius 1.4, label 0 on a ring from 2 to 3."""
    y = (np.arange(n) < n // 2).astype(np.int64)
    radius = np.where(y == 1, rng.uniform(0, 1.4, n), rng.uniform(2.0, EXTENT, n))
    angle = rng.uniform(0, 2 * np.pi, n)
    return np.column_stack([radius * np.cos(angle), radius * np.sin(angle)]), y


def _xor(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Label 1 where x1 and x2 have the same sign; points kept 0.3 away from the axes."""
    points = rng.uniform(0.3, EXTENT, (n, 2)) * rng.choice([-1.0, 1.0], (n, 2))
    return points, (points[:, 0] * points[:, 1] > 0).astype(np.int64)


def _gaussians(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Two round clouds (standard deviation 0.7) centred at (1.5, 1.5) and (−1.5, −1.5)."""
    y = (np.arange(n) < n // 2).astype(np.int64)
    centres = np.where(y[:, None] == 1, 1.5, -1.5)
    return centres + rng.normal(0, 0.7, (n, 2)), y


def _spiral(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spirals of 1.25 turns, one per label."""
    y = (np.arange(n) < n // 2).astype(np.int64)
    t = rng.uniform(0.05, 1, n)
    angle = 2.5 * np.pi * t + np.pi * y
    radius = EXTENT * t
    return np.column_stack([radius * np.sin(angle), radius * np.cos(angle)]), y


def _moons(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles (scikit-learn's ``make_moons``, scaled by 1.6 and centred)."""
    y = (np.arange(n) < n // 2).astype(np.int64)
    angle = rng.uniform(0, np.pi, n)
    upper = np.column_stack([np.cos(angle), np.sin(angle)])
    lower = np.column_stack([1 - np.cos(angle), 0.5 - np.sin(angle)])
    points = np.where(y[:, None] == 0, upper, lower)
    return 1.6 * (points - [0.5, 0.25]), y


#: every data set by name: a function of (generator, number of points) → (points (n, 2), labels (n,))
DATASETS: dict[str, Callable[[np.random.Generator, int], tuple[np.ndarray, np.ndarray]]] = {
    "circles": _circles,
    "xor": _xor,
    "gaussians": _gaussians,
    "spiral": _spiral,
    "moons": _moons,
}

#: every feature by name: a function of the points ``(n, 2)`` → one column ``(n,)``
FEATURES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "x1": lambda p: p[:, 0],
    "x2": lambda p: p[:, 1],
    "x1sq": lambda p: p[:, 0] ** 2,
    "x2sq": lambda p: p[:, 1] ** 2,
    "x1x2": lambda p: p[:, 0] * p[:, 1],
    "sinx1": lambda p: np.sin(p[:, 0]),
    "sinx2": lambda p: np.sin(p[:, 1]),
}


def feature_columns(points: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """X ``(n, len(names))``: the named features (:data:`FEATURES`) of points ``(n, 2)``."""
    return np.column_stack([FEATURES[name](points) for name in names]).astype(np.float64)


@dataclass(frozen=True)
class PlaygroundData:
    """A split data set: the points ``(n, 2)`` (for drawing), their features ``X`` ``(n, n[0])``
    and labels ``y`` ``(n,)`` (0 or 1), for the training and the test part."""

    points_train: np.ndarray
    points_test: np.ndarray
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    feature_names: tuple[str, ...]


def make_dataset(
    name: str,
    samples: int = 400,
    noise: float = 0.1,
    train_share: float = 0.5,
    features: Sequence[str] = ("x1", "x2"),
    seed: int = 0,
) -> PlaygroundData:
    """The data set ``name`` (:data:`DATASETS`): ``samples`` points with Gaussian noise of
    standard deviation ``noise`` on each coordinate, split at random into ``train_share`` of
    training points (at least one of each part) and test points, drawn from
    ``numpy.random.default_rng(seed)``; X holds the named ``features``.

    The arguments are assumed valid (:mod:`deepmat.playground.settings` checks the page's);
    an unknown name raises ``KeyError``."""
    rng = np.random.default_rng(seed)
    points, y = DATASETS[name](rng, samples)
    points = points + rng.normal(0, 1, points.shape) * noise
    order = rng.permutation(samples)
    n_train = min(max(round(samples * train_share), 1), samples - 1)
    train, test = order[:n_train], order[n_train:]
    names = tuple(features)
    return PlaygroundData(
        points_train=points[train],
        points_test=points[test],
        X_train=feature_columns(points[train], names),
        X_test=feature_columns(points[test], names),
        y_train=y[train],
        y_test=y[test],
        feature_names=names,
    )
