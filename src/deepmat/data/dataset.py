"""The one container of :mod:`deepmat.data`: :class:`Dataset`, a data set in the row layout of
:class:`deepmat.Network`, split into a training and a test part.

Shapes: ``X_train (m_train, n_features)`` and ``X_test (m_test, n_features)`` floats, one
sample per row; ``y_train (m_train,)`` and ``y_test (m_test,)`` labels; ``classes[label]``
names a label; optionally the pictures as stored, ``images_train (m_train, height, width[,
channels])`` and ``images_test``, for display. :data:`CatData`, the cat/non-cat data's container
of old, is the same class.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from deepmat.preprocessing import count_classes


def is_rows(X: Any) -> bool:
    """A 2-D array, or a table of rows (a pandas DataFrame: :mod:`deepmat.data.frames`)."""
    if isinstance(X, np.ndarray):
        return X.ndim == 2
    return hasattr(X, "iloc") and getattr(X, "ndim", 0) == 2


def take_rows(X: Any, rows: Any) -> Any:
    """The rows ``rows`` (indices or a slice) of X, an array or a table of rows (by position)."""
    return X.iloc[rows] if hasattr(X, "iloc") else X[rows]


@dataclass(frozen=True, eq=False)
class Dataset:
    """A data set in row layout, split into a training and a test part.

    Shape:
        - ``X_train``: ``(m_train, n_features)`` floats (float32 unless the loader was asked
          for float64), one sample per row
        - ``y_train``: ``(m_train,)`` int64 class labels (float64 for regression targets)
        - ``X_test``: ``(m_test, n_features)``, ``y_test``: ``(m_test,)``, the same dtypes
        - ``classes``: the class names, ``classes[label]`` names a label (empty when ``y`` is not
          class labels)
        - ``images_train``: ``(m_train, height, width[, channels])`` or None, ``images_test``:
          ``(m_test, ...)`` or None — the pictures as stored (uint8 for the cat data), for display

    The arrays are stored as given, not copied; the constructor checks that the shapes agree.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: list[str]
    images_train: np.ndarray | None = field(default=None, repr=False)
    images_test: np.ndarray | None = field(default=None, repr=False)
    #: the transform (:class:`deepmat.preprocessor.Preprocessor`) that turns raw ``X`` into a
    #: network's inputs, when the loader returned the samples raw (a table's columns, pictures'
    #: grey levels); a network given it takes these ``X`` as they are
    preprocessor: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for part in ("train", "test"):
            X, y = getattr(self, f"X_{part}"), getattr(self, f"y_{part}")
            if not is_rows(X):
                raise ValueError(
                    f"Dataset X_{part} must be a 2-D array (n_samples, n_features); received {describe(X)}"
                )
            if not isinstance(y, np.ndarray) or y.ndim != 1 or y.shape[0] != X.shape[0]:
                raise ValueError(
                    f"Dataset y_{part} must be a 1-D array of {X.shape[0]} labels, one per row of "
                    f"X_{part}; received {describe(y)}"
                )
            images = getattr(self, f"images_{part}")
            if images is not None and (
                not isinstance(images, np.ndarray) or images.ndim < 2 or images.shape[0] != X.shape[0]
            ):
                raise ValueError(
                    f"Dataset images_{part} must be None or an array of {X.shape[0]} pictures, one per "
                    f"row of X_{part}; received {describe(images)}"
                )
        if self.X_train.shape[1] != self.X_test.shape[1]:
            raise ValueError(
                f"Dataset X_train and X_test must have the same number of features; received "
                f"{self.X_train.shape} and {self.X_test.shape}"
            )
        object.__setattr__(self, "classes", [str(c) for c in self.classes])

    def __repr__(self) -> str:
        names = [repr(c) for c in self.classes]
        if len(names) > 4:
            names = [*names[:2], "…", names[-1]]
        return (
            f"Dataset(X_train={describe(self.X_train)}, y_train={describe(self.y_train)}, "
            f"X_test={describe(self.X_test)}, y_test={describe(self.y_test)}, "
            f"classes=[{', '.join(names)}] ({len(self.classes)})"
            + "".join(
                f", images_{part}={describe(getattr(self, f'images_{part}'))}"
                for part in ("train", "test")
                if getattr(self, f"images_{part}") is not None
            )
            + ")"
        )


#: The cat/non-cat data's container of old: the same class as :class:`Dataset`, whose
#: ``images_train``/``images_test`` hold the cat pictures, so that old code keeps working.
CatData = Dataset


def describe(value: Any) -> str:
    """``(60000, 784) float32`` for an array (or anything with a shape and a dtype, such as an
    h5py dataset before it is read), the type's name for anything else."""
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return f"{value.shape} {value.dtype}"
    return f"a {type(value).__name__}"


def key_list(names: list[str]) -> str:
    """``"['X', 'y']"``: the sorted names of a file's arrays as messages list them (the first 20)."""
    shown = ", ".join(repr(n) for n in sorted(names)[:20])
    return f"[{shown}{', …' if len(names) > 20 else ''}]" if names else "no datasets at all"


def check_numbers(source: str, key: str, value: Any) -> None:
    """Raise ``ValueError`` unless ``value`` — an array, or anything with a shape and a dtype —
    holds numbers (bool, integers, floats) with one sample per row (≥ 1 dimension)."""
    dtype, shape = getattr(value, "dtype", None), getattr(value, "shape", None)
    if not isinstance(dtype, np.dtype) or dtype.kind not in "biuf" or not shape:
        raise ValueError(
            f"{source!r}: {key!r} is {describe(value)}; expected an array of numbers with one sample per row"
        )


def check_not_empty(source: str, key: str, value: np.ndarray) -> None:
    """Raise ``ValueError`` when the array ``value`` holds no values (no samples, or samples of
    no values): ``"'<source>': '<key>' is empty, shape (0, 4); expected at least 1 sample …"``."""
    if value.size == 0:
        raise ValueError(
            f"{source!r}: {key!r} is empty, shape {value.shape}; expected at least 1 sample (row) of at "
            "least 1 value"
        )


def class_names(labels: dict[str, np.ndarray], classes: list[str] | None) -> list[str]:
    """The class names of a data set's labels ``{description: (m,) array}`` (e.g. ``{"'d.npz'
    'y_train'": y_train, …}``): ``classes`` when given, after checking that every integer label
    is in 0..len(classes)-1; else '0', '1', … up to the largest label, which must be below the
    number of samples (:func:`deepmat.preprocessing.count_classes`). Non-integer targets get no
    names.

    Raises:
        ValueError: a label out of range (the message names the labels' descriptions).
    """
    if not all(y.dtype.kind in "iu" for y in labels.values()):
        return [] if classes is None else list(classes)
    k = count_classes(list(labels.values()), " and ".join(labels), classes)
    return list(classes) if classes is not None else [str(i) for i in range(k)]
