"""Validation of user input at the public boundary.

Every error says what was expected and what was received. These helpers raise
``ValueError``/``TypeError`` and never use ``assert`` (``python -O`` strips asserts).
"""

from __future__ import annotations

import math
import os
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


class NumberTypeError(TypeError, ValueError):
    """A hyperparameter that is not a number at all (a string, None, a bool).

    A ``TypeError``, as Python raises for a value of the wrong type, that is also a
    ``ValueError``, so code that catches ``ValueError`` for a bad setting catches it too
    (NumPy's ``AxisError`` is a ``ValueError`` and an ``IndexError`` for the same reason)."""


def _bound(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _expected_number(
    low: float | None, high: float | None, low_open: bool, high_open: bool, integer: bool, finite: bool
) -> str:
    """The words for what :func:`check_number` accepts: "a positive integer", "a number in [0, 1)"."""
    kind = "integer" if integer else "number"
    if low is not None and high is not None:
        article = "an" if integer else "a"
        return f"{article} {kind} in {'(' if low_open else '['}{_bound(low)}, {_bound(high)}{')' if high_open else ']'}"
    if low == 0 and low_open and high is None:
        return f"a positive {'finite ' if finite and not integer else ''}{kind}"
    if integer and low == 1 and not low_open and high is None:
        return "a positive integer"
    finite_word = "finite " if finite and not integer else ""
    article = "an" if integer and not finite_word else "a"
    if low is not None:
        return f"{article} {finite_word}{kind} {'>' if low_open else '≥'} {_bound(low)}"
    if high is not None:
        return f"{article} {finite_word}{kind} {'<' if high_open else '≤'} {_bound(high)}"
    return f"{article} {finite_word}{kind}"


def check_number(
    value: Any,
    name: str,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
) -> Any:
    """``value`` as a Python ``int`` (``integer=True``) or ``float``, checked to be a finite
    number in the interval from ``low`` to ``high`` (each end closed unless ``low_open`` /
    ``high_open``; ``None``: unbounded).

    Python and NumPy scalars are accepted alike (``0.2``, ``np.float32(0.2)``, ``np.int64(3)``;
    ``integer=True`` takes integers only). Every refusal reads
    ``"{name} must be {what}; received {value!r}"``, e.g. ``"dropout rate must be a number in
    [0, 1); received 1.0"``:

    - a bool, a string, ``None`` or anything else that is not a real number:
      :class:`NumberTypeError` (a ``TypeError`` and a ``ValueError``), the type's name added;
    - NaN, ±inf, or a value outside the interval: ``ValueError``.

    >>> check_number(np.float32(0.5), "momentum", 0, 1, high_open=True)
    0.5
    >>> check_number(3, "units", 1, integer=True)
    3
    """
    kinds = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, kinds):
        what = _expected_number(low, high, low_open, high_open, integer, finite=False)
        raise NumberTypeError(f"{name} must be {what}; received {value!r} ({type(value).__name__})")
    number = int(value) if integer else float(value)
    inside = math.isfinite(number)
    if inside and low is not None:
        inside = number > low if low_open else number >= low
    if inside and high is not None:
        inside = number < high if high_open else number <= high
    if not inside:
        what = _expected_number(low, high, low_open, high_open, integer, finite=True)
        raise ValueError(f"{name} must be {what}; received {value!r}")
    return number


def available_memory() -> int | None:
    """Bytes of memory this machine can still give a process (Linux's ``MemAvailable``, else
    the free physical pages), or None when the system does not say."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return None


def format_bytes(n: float) -> str:
    """``21.3 GiB``: a byte count in binary units, 3 significant digits."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024:
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} EiB"
