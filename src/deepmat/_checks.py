"""Validation of user input at the public boundary.

Every error says what was expected and what was received. These helpers raise
``ValueError``/``TypeError`` and never use ``assert`` (``python -O`` strips asserts).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

FLOAT_DTYPES = ("float32", "float64")


def unknown_name(kind: str, received: Any, valid: Iterable[str]) -> ValueError:
    """The error for a name that is not in a name→object table; lists the valid names."""
    choices = ", ".join(repr(v) for v in sorted(valid))
    return ValueError(f"unknown {kind} {received!r}; expected one of: {choices}")


def check_dtype_name(dtype: Any) -> np.dtype:
    """Accept ``"float32"``/``"float64"`` (or the NumPy dtypes) and return the ``np.dtype``."""
    if isinstance(dtype, str):  # never parse other strings: np.dtype("(3,)x") runs ast.literal_eval
        resolved = np.dtype(dtype) if dtype in FLOAT_DTYPES else None
    else:
        try:
            resolved = np.dtype(dtype)
        except (TypeError, ValueError):
            resolved = None
    if resolved is None or resolved.name not in FLOAT_DTYPES:
        raise unknown_name("dtype", dtype, FLOAT_DTYPES)
    return resolved


def as_float_matrix(X: Any, name: str, dtype: np.dtype, n_columns: int | None = None) -> np.ndarray:
    """Return ``X`` as a finite 2-D array of ``dtype`` (no copy when it already is one).

    Integer and boolean input is converted; object, string and complex input raises
    ``TypeError``; NaN/inf, empty input and a wrong number of dimensions or of columns raise
    ``ValueError``.
    """
    array = np.asarray(X)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers (float, int or bool); received dtype {array.dtype}")
    if array.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (n_samples, n_features); received {array.ndim}-D array "
            f"of shape {array.shape}"
        )
    if array.shape[0] == 0:
        raise ValueError(f"{name} is empty: received shape {array.shape}, expected at least 1 sample")
    if n_columns is not None and array.shape[1] != n_columns:
        raise ValueError(
            f"{name} has {array.shape[1]} features per sample but the network expects "
            f"n[0] = {n_columns}: received shape {array.shape}"
        )
    return cast_finite(array, name, dtype)


def cast_finite(array: np.ndarray, name: str, dtype: np.dtype) -> np.ndarray:
    """``array`` cast to ``dtype`` (no copy when it already is), after checking that it is
    finite before the cast and still finite after it (1e300 does not fit in float32)."""
    check_finite(array, name)
    with np.errstate(over="ignore"):
        converted = array.astype(dtype, copy=False)
    if converted is not array and not np.isfinite(converted).all():
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(converted))[0])
        raise ValueError(
            f"{name} does not fit in {np.dtype(dtype).name}: received {array[bad]} at index {bad}, "
            f"expected magnitudes up to {np.finfo(dtype).max:g}"
        )
    return converted


def all_finite(array: np.ndarray) -> bool:
    """True when no entry of ``array`` is NaN or ±inf.

    One summing pass with no temporary array (``np.isfinite(X).all()`` would allocate a
    boolean copy of X: 47 MB for Fashion-MNIST): a sum is finite only if every term is, so a
    finite sum settles it; a non-finite one (a NaN or inf, or finite values overflowing) is
    settled entry by entry.
    """
    if array.dtype.kind in "biu" or array.size == 0:
        return True
    if array.size <= 65536:  # small: the direct test is quicker than setting up errstate
        return bool(np.isfinite(array).all())
    with np.errstate(all="ignore"):
        if np.isfinite(np.add.reduce(array, axis=None)):
            return True
    return bool(np.isfinite(array).all())


def check_finite(array: np.ndarray, name: str) -> None:
    """Raise ``ValueError`` naming the first non-finite entry of ``array``."""
    if not all_finite(array):
        bad = np.argwhere(~np.isfinite(array))[0]
        raise ValueError(
            f"{name} must be finite; received {array[tuple(bad)]} at index {tuple(int(i) for i in bad)}"
        )


def check_positive(value: Any, name: str, integer: bool = False) -> None:
    """Raise unless ``value`` is a positive number (an ``int`` when ``integer``)."""
    kind = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    if isinstance(value, bool) or not isinstance(value, kind):
        expected = "a positive integer" if integer else "a positive number"
        raise TypeError(f"{name} must be {expected}; received {value!r} ({type(value).__name__})")
    if not value > 0 or not np.isfinite(value):
        expected = "a positive integer" if integer else "a positive finite number"
        raise ValueError(f"{name} must be {expected}; received {value!r}")
