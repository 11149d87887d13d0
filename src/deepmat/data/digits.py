"""scikit-learn's bundled 8×8 handwritten digits (1797 pictures, no download) as a
:class:`~deepmat.data.Dataset`: rows of 64 grey levels 0..16 divided by 16, split in a training
and a test part. scikit-learn is optional (``pip install deepmat[data]``).
"""

from __future__ import annotations

import numpy as np

from deepmat._checks import check_dtype_name, check_number
from deepmat.data.dataset import Dataset
from deepmat.data.idx import MNIST_CLASSES
from deepmat.data.images import pixel_rows
from deepmat.preprocessing import train_val_split


def load_digits(
    dtype: str = "float32", test_fraction: float = 0.2, seed: int | None = 0, raw: bool = False
) -> Dataset:
    """scikit-learn's bundled 8×8 handwritten digits (1797 pictures, no download), split in two.

    Each picture's 64 grey levels 0..16 are divided by 16; the test set is ``test_fraction``
    of the samples chosen by a permutation seeded with ``seed`` (through
    :func:`deepmat.preprocessing.train_val_split`), so the same seed gives the same split.

    Returns:
        a :class:`Dataset` with ``X_train (1438, 64)`` in [0, 1], ``y_train (1438,)`` int64,
        ``X_test (359, 64)``, ``y_test (359,)`` for the default 0.2, and ``classes`` '0' … '9'.

    Raises:
        ImportError: scikit-learn is not installed.
        ValueError: ``test_fraction`` is not in (0, 1), ``dtype`` is not float32/float64.
    """
    resolved = check_dtype_name(dtype)
    test_fraction = check_number(test_fraction, "test_fraction", 0, 1, low_open=True, high_open=True)
    try:
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError as error:
        raise ImportError(
            "load_digits needs scikit-learn, which ships the 8×8 digits; install it with: "
            "pip install scikit-learn (or pip install deepmat[data])"
        ) from error
    bunch = sklearn_load_digits()
    X, preprocessor = pixel_rows(bunch.data, resolved, raw, levels=16)
    y = np.asarray(bunch.target).astype(np.int64, copy=False)
    X_train, X_test, y_train, y_test = train_val_split(X, y, val_fraction=test_fraction, seed=seed)
    return Dataset(X_train, y_train, X_test, y_test, classes=MNIST_CLASSES, preprocessor=preprocessor)
