"""Your own tables: CSV, TSV and Parquet files of rows, one column the target, read with
pandas (Parquet through pyarrow): ``pip install deepmat[tables]``.

:func:`load_table` returns a :class:`~deepmat.data.dataset.Dataset` whose ``X_train`` and
``X_test`` are the feature columns as pandas DataFrames — numbers and text as they are in
the file — and whose ``preprocessor`` (:class:`deepmat.preprocessor.Preprocessor`, not yet
fitted) turns them into a network's inputs: number columns scaled, text columns one-hot
encoded, missing values filled when ``impute`` is given. A network given that preprocessor
fits it on the training rows and keeps it in its model file, so ``predict`` takes rows as
they are in a table.

The target column is a classification target: its distinct values, sorted, are the classes
(text or integers). Rows are split into training and test rows at random, stratified by
class, from ``seed``. A missing feature value without ``impute``, a missing target, a target
column that is not there, a column of nested values (Parquet lists, structs, maps), a file
too large for this machine's memory: each a ``ValueError`` naming the file and the place.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from deepmat._checks import available_memory, check_number, format_bytes
from deepmat.data.dataset import Dataset
from deepmat.preprocessing import stratified_split
from deepmat.preprocessor import Preprocessor

#: file ending → the field separator pandas reads it with (None: Parquet)
TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t", ".tab": "\t", ".parquet": None, ".pq": None}
#: reading a text table takes about this many times its size in memory (pandas' objects)
MEMORY_PER_BYTE = 10
_INSTALL = "reading tables needs pandas (and pyarrow for Parquet): pip install deepmat[tables]"


def is_table(path: str | os.PathLike) -> bool:
    """Whether ``path`` names a table file deepmat reads (by its ending)."""
    return Path(path).suffix.lower() in TABLE_SUFFIXES


def read_table(path: str | os.PathLike) -> Any:
    """The whole table as a pandas DataFrame, after checking its size against the memory
    available; nested Parquet columns are refused."""
    try:
        import pandas as pd
    except ImportError as error:
        raise ImportError(_INSTALL) from error
    file = Path(path)
    if not file.is_file():
        what = "is not a file" if file.exists() else "does not exist"
        raise FileNotFoundError(f"table {str(file)!r} {what}; expected a .csv, .tsv or .parquet file")
    size = file.stat().st_size
    if size == 0:
        raise ValueError(f"table {str(file)!r} is empty; expected a header line and rows")
    available = available_memory()
    if available is not None and size * MEMORY_PER_BYTE > available:
        raise ValueError(
            f"table {str(file)!r} is {format_bytes(size)}; reading it takes about {MEMORY_PER_BYTE}× that, "
            f"more than the {format_bytes(available)} of memory available"
        )
    separator = TABLE_SUFFIXES.get(file.suffix.lower(), ",")
    try:
        if separator is None:
            frame = pd.read_parquet(file)
        else:
            frame = pd.read_csv(file, sep=separator, skipinitialspace=True, keep_default_na=True)
    except ImportError as error:
        raise ImportError(f"{_INSTALL} ({error})") from None
    except (ValueError, OSError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise ValueError(f"{str(file)!r} cannot be read as a table ({error})") from None
    except Exception as error:  # pyarrow's ArrowInvalid and other reader errors
        raise ValueError(
            f"{str(file)!r} cannot be read as a table ({type(error).__name__}: {error})"
        ) from None
    if frame.shape[0] == 0:
        raise ValueError(f"table {str(file)!r} has a header but no rows")
    for name in frame.columns:
        column = frame[name]
        if (
            column.dtype == object
            and column.map(lambda v: isinstance(v, (list, dict, tuple, np.ndarray))).any()
        ):
            raise ValueError(
                f"{str(file)!r}: column {str(name)!r} holds nested values (lists, structs or maps); "
                "expected one number or text per cell"
            )
    frame.columns = [str(c) for c in frame.columns]
    return frame


def _line(file: Path, row: int) -> str:
    """Where row ``row`` (0-based) of a table is, for a person reading the file."""
    if TABLE_SUFFIXES.get(file.suffix.lower()) is None:
        return f"row {row + 1}"
    return f"line {row + 2}"  # after the header line


def load_table(
    path: str | os.PathLike,
    target: str,
    impute: str | None = None,
    scaling: str = "standardize",
    test_fraction: float = 0.2,
    seed: int | None = 0,
) -> Dataset:
    """A table as a :class:`Dataset` of raw feature columns and class labels, with the
    unfitted :class:`~deepmat.preprocessor.Preprocessor` (``scaling``, ``impute``) a
    network needs for them.

    Args:
        path: a ``.csv``, ``.tsv``/``.tab`` or ``.parquet`` file with a header line.
        target: the name of the column to predict (its values are the classes).
        impute: None (a missing feature value is an error naming its line and column),
            ``"mean"``, ``"median"`` or ``"most-frequent"``.
        scaling: how number columns are scaled (:data:`deepmat.preprocessor.SCALINGS`).
        test_fraction: the share of rows held out as the test split, stratified by class.
        seed: the split's seed.

    Returns:
        a :class:`Dataset` with ``X_train``/``X_test`` pandas DataFrames of the feature
        columns, ``y_train``/``y_test`` int64 class indices, ``classes`` the target's values
        (sorted, as text), ``preprocessor`` unfitted, and ``source`` describing the file.
    """
    file = Path(path)
    frame = read_table(file)
    if target not in frame.columns:
        raise ValueError(
            f"{str(file)!r} has no column {target!r} to predict; its columns are {list(frame.columns)[:30]}"
        )
    labels = frame[target]
    if labels.isna().any():
        row = int(np.flatnonzero(labels.isna().to_numpy())[0])
        raise ValueError(f"{str(file)!r}, {_line(file, row)}: the target {target!r} is missing")
    features = frame.drop(columns=[target])
    if features.shape[1] == 0:
        raise ValueError(f"{str(file)!r} has no column besides the target {target!r}; expected features too")
    if impute is None:
        missing = features.isna().to_numpy() | (features.astype(str).to_numpy() == "")
        if missing.any():
            row, column = (int(i) for i in np.argwhere(missing)[0])
            raise ValueError(
                f"{str(file)!r}, {_line(file, row)}, column {features.columns[column]!r}: missing value; "
                "give --impute mean|median|most-frequent (impute= in Python) to fill missing values"
            )
    empty = [name for name in features.columns if features[name].isna().all()]
    if empty:
        raise ValueError(f"{str(file)!r}: column {empty[0]!r} has no value at all; drop it or fill it")
    classes, y = np.unique(labels.astype(str).to_numpy(), return_inverse=True)
    if classes.size < 2:
        raise ValueError(
            f"{str(file)!r}: the target {target!r} has one value ({classes[0]!r}); a classifier needs 2 or more"
        )
    if classes.size > y.size // 2:
        raise ValueError(
            f"{str(file)!r}: the target {target!r} has {classes.size} different values in {y.size} rows; "
            "a class needs several samples (is it a number to predict rather than classes?)"
        )
    test_fraction = check_number(test_fraction, "test_fraction", 0, 1, low_open=True, high_open=True)
    n_test = max(1, round(y.size * test_fraction))
    train, test = stratified_split(y, n_test, np.random.default_rng(seed))
    text = [name for name in features.columns if features[name].dtype.kind not in "iuf"]
    preprocessor = Preprocessor(
        columns=list(features.columns),
        text_columns=text,
        scaling=scaling,
        impute=impute,
        class_names=[str(c) for c in classes],
    )
    return Dataset(
        features.iloc[train].reset_index(drop=True),
        y[train].astype(np.int64),
        features.iloc[test].reset_index(drop=True),
        y[test].astype(np.int64),
        classes=[str(c) for c in classes],
        preprocessor=preprocessor,
    )
