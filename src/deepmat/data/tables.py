"""Your own files, in the row layout of :class:`deepmat.Network`:

- :func:`load_npz` (``np.savez`` archives, never unpickled), :func:`load_hdf5` (``.h5``/``.hdf5``,
  through h5py) and :func:`load_csv` (one sample per line, numbers) each give ``(X, y)``: ``X``
  ``(n_samples, ...)`` and ``y`` ``(n_samples,)``;
- :func:`load_csv_rows`: a CSV file of numbers without labels, ``(n, d)``, and
  :func:`read_samples`: the samples to predict, ``(n, n_features)``, from an .npz (key ``X``)
  or a CSV file (a labelled file's last column dropped) — the one CSV parser serves all three;
- :func:`load_split`: an .npz or HDF5 file holding ``X_train``, ``y_train``, ``X_test``,
  ``y_test`` (and optionally ``classes``) as a :class:`~deepmat.data.Dataset`;
- :func:`decode_names`: the class names of a file, as stored, as a list of str.

The files are read by :func:`~deepmat.data.npz.read_npz` and
:func:`~deepmat.data.hdf5.read_hdf5`, which check what a file declares before allocating it.
h5py is optional (``pip install deepmat[data]``).
"""

from __future__ import annotations

import csv
import itertools
import os
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from deepmat._checks import check_dtype_name
from deepmat.data.checks import check_allocation, existing_file, max_load_bytes
from deepmat.data.dataset import Dataset, check_not_empty, check_numbers, class_names
from deepmat.data.hdf5 import HDF5_SUFFIXES, read_hdf5
from deepmat.data.images import pixel_rows
from deepmat.data.npz import NPZ_SUFFIXES, read_npz

#: What :func:`load_split` reads: the four arrays of a data set split in two.
SPLIT_KEYS = ("X_train", "y_train", "X_test", "y_test")


def load_hdf5(path: str | os.PathLike, x_key: str, y_key: str) -> tuple[np.ndarray, np.ndarray]:
    """Two datasets of an HDF5 file, as stored: ``X`` ``(n_samples, ...)`` and ``y``
    ``(n_samples, ...)``.

    Args:
        path: the HDF5 file.
        x_key, y_key: the datasets' names (paths such as ``"train/x"`` reach into groups).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file is not HDF5; a key is missing (the message lists the datasets the
            file holds); a dataset is not numeric; X and y hold different numbers of samples.
        ImportError: h5py is not installed.
    """
    X, y = read_hdf5(path, (x_key, y_key))
    _check_pair(str(path), x_key, X, y_key, y)
    return X, y


def decode_names(stored: Any) -> list[str]:
    """Class names as a file stores them — an array of UTF-8 bytes or of str, of any shape
    (e.g. ``[b'non-cat', b'cat']``) — as a flat list of str.

    Raises:
        UnicodeDecodeError: bytes that are not UTF-8 (a ValueError).
    """
    return [c.decode("utf-8") if isinstance(c, bytes) else str(c) for c in np.ravel(stored).tolist()]


def load_npz(path: str | os.PathLike, x_key: str = "X", y_key: str = "y") -> tuple[np.ndarray, np.ndarray]:
    """Two arrays of an ``.npz`` archive (``np.savez``), as stored: ``X`` ``(n_samples, ...)``
    and ``y`` ``(n_samples, ...)``.

    The archive is opened with ``np.load(path, allow_pickle=False)``: object arrays, which only
    unpickling (able to run arbitrary code) can read, are refused.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file is not an .npz archive; a key is missing (the message lists the
            keys it holds); an array is an object array or not numeric; X and y hold different
            numbers of samples.
    """
    X, y = read_npz(path, (x_key, y_key))
    _check_pair(str(path), x_key, X, y_key, y)
    return X, y


def _check_pair(source: str, x_key: str, X: Any, y_key: str, y: Any) -> None:
    """Raise unless ``X`` and ``y`` are numeric arrays, not empty, with as many samples each."""
    for key, value in ((x_key, X), (y_key, y)):
        check_numbers(source, key, value)
        check_not_empty(source, key, value)
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"{source!r}: {x_key!r} holds {X.shape[0]} samples {X.shape} but {y_key!r} holds "
            f"{y.shape[0]} {y.shape}; expected one label per sample"
        )


def load_csv(
    path: str | os.PathLike,
    label_column: int | str = -1,
    delimiter: str = ",",
    skip_header: bool | str = "auto",
) -> tuple[np.ndarray, np.ndarray]:
    """A CSV file of numbers, one sample per line: ``X`` ``(n, d)`` float64 and ``y`` ``(n,)``.

    Args:
        path: the file (UTF-8; blank lines are skipped).
        label_column: the column holding the labels: an index (negative counts from the end,
            the default -1 is the last column) or, when the file has a header, its name.
        delimiter: the one character separating cells.
        skip_header: ``"auto"`` (default) skips the first line when one of its cells is not a
            number; ``True`` always skips it, ``False`` never does.

    Returns:
        ``(X, y)``: ``X`` ``(n, d)`` float64 with the other ``d`` columns in file order; ``y``
        ``(n,)`` int64 when every label is a whole number, else float64.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file is empty or holds only a header; a line has a different number of
            cells than the first; a cell is not a number (each names the line and column);
            ``label_column`` is out of range or not a header name.
    """
    _check_csv_options(delimiter, skip_header)
    if isinstance(label_column, bool) or not isinstance(label_column, (int, np.integer, str)):
        raise TypeError(
            f"label_column must be a column index or a header name; received {label_column!r} "
            f"({type(label_column).__name__})"
        )
    X, y = _parse_csv(path, delimiter, skip_header, label_column)
    whole = np.isfinite(y).all() and np.abs(y).max() < 2**53 and (y == np.floor(y)).all()
    return X, (y.astype(np.int64) if whole else y)


def load_csv_rows(
    path: str | os.PathLike, delimiter: str = ",", skip_header: bool | str = "auto"
) -> np.ndarray:
    """A CSV file of numbers without a label column: one sample per line, ``(n, d)`` float64.

    The same reading as :func:`load_csv` (UTF-8, blank lines skipped, ``skip_header`` the same),
    every column kept.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file is empty or holds only a header; a line has a different number of
            cells than the first; a cell is not a number (each names the file, line and column).
    """
    _check_csv_options(delimiter, skip_header)
    return _parse_csv(path, delimiter, skip_header, None)[0]


def _check_csv_options(delimiter: str, skip_header: bool | str) -> None:
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise ValueError(f"delimiter must be one character; received {delimiter!r}")
    if not (isinstance(skip_header, bool) or skip_header == "auto"):
        raise ValueError(f"skip_header must be 'auto', True or False; received {skip_header!r}")


def _parse_csv(
    path: str | os.PathLike, delimiter: str, skip_header: bool | str, label_column: int | str | None
) -> tuple[np.ndarray, np.ndarray]:
    """The one CSV parser: ``(X (n, d), y (n,))`` float64, ``y`` the column ``label_column`` taken
    out of each line (an empty ``y`` when it is None: every column goes to ``X``)."""
    file = existing_file(path, "CSV file", "expected a text file of comma-separated numbers")
    name = str(file)
    features, labels = array("d"), array("d")
    n_columns = n_rows = label_index = first_line = 0
    header: list[str] | None = None
    limit = max_load_bytes()
    record: list[str] = []  # the lines of the record being parsed, for messages
    try:
        with open(file, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(_lines(f, record, limit, name), delimiter=delimiter)
            for row in reader:
                record.clear()
                if not any(cell.strip() for cell in row):
                    continue  # a blank line
                line = reader.line_num
                if not n_columns:  # the first line: the header, or the first data row
                    n_columns, first_line = len(row), line
                    if skip_header is True or (skip_header == "auto" and _numbers(row) is None):
                        header = row
                    if label_column is not None:
                        label_index = _label_index(label_column, header, n_columns, name)
                    if header is not None:
                        continue
                if len(row) != n_columns:
                    raise ValueError(
                        f"{name!r}, line {line}: {len(row)} cells, expected {n_columns} as on line "
                        f"{first_line}{' (the header)' if header is not None else ''}; "
                        f"every line needs the same number of {delimiter!r}-separated cells"
                    )
                values = _numbers(row)
                if values is None:
                    raise _cell_error(name, line, row, skip_header is False and line == first_line)
                if label_column is not None:
                    labels.append(values.pop(label_index))
                features.extend(values)
                n_rows += 1
                if (n_bytes := 8 * (len(features) + len(labels))) > limit:
                    check_allocation(repr(name), f"the numbers up to line {line} need", n_bytes)
    except UnicodeDecodeError as error:
        raise ValueError(f"{name!r} is not UTF-8 text ({error}); expected a CSV file of numbers") from None
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            cells = _cells_before_long_one("".join(record), delimiter, csv.field_size_limit())
            raise ValueError(
                f"{name!r}, line {reader.line_num}, column {cells + 1}: a cell of more than "
                f"{csv.field_size_limit()} characters (the csv module's field_size_limit()); expected "
                "numeric cells"
            ) from None
        raise ValueError(
            f"{name!r} cannot be read as CSV ({error}); expected a CSV file of numbers"
        ) from None
    if n_rows == 0:
        what = "holds only a header line" if header is not None else "is empty"
        raise ValueError(f"{name!r} {what}; expected lines of {delimiter!r}-separated numbers")
    X = np.frombuffer(features, dtype=np.float64).reshape(n_rows, -1)  # no copy
    return X, np.frombuffer(labels, dtype=np.float64)


def _lines(f: Any, record: list[str], limit: int, name: str) -> Iterator[str]:
    """The lines of the text file ``f``, each also appended to ``record``; a line of more than
    ``limit`` characters is a ValueError (read no further than that)."""
    for number in itertools.count(1):
        text = f.readline(limit + 1)
        if not text:
            return
        if len(text) > limit:
            check_allocation(repr(name), f"line {number} needs at least", len(text))
        record.append(text)
        yield text


def _cells_before_long_one(text: str, delimiter: str, field_limit: int) -> int:
    """How many cells of the record ``text`` come before the first of more than ``field_limit``
    characters (delimiters between double quotes do not count)."""
    cells = length = 0
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            cells, length = cells + 1, 0
            continue
        length += 1
        if length > field_limit:
            break
    return cells


def _numbers(row: list[str]) -> list[float] | None:
    """The cells of ``row`` as floats, or None if one of them is not a number."""
    try:
        return [float(cell) for cell in row]
    except ValueError:
        return None


def _cell_error(name: str, line: int, row: list[str], maybe_header: bool) -> ValueError:
    column, cell = next((j, c) for j, c in enumerate(row) if _numbers([c]) is None)
    hint = "; if this line is a header, pass skip_header=True or 'auto'" if maybe_header else ""
    return ValueError(
        f"{name!r}, line {line}, column {column + 1}: {cell!r} is not a number; expected numeric cells{hint}"
    )


def _label_index(label_column: int | str, header: list[str] | None, n_columns: int, name: str) -> int:
    """The 0-based index of the label column among ``n_columns``."""
    if n_columns < 2:
        raise ValueError(
            f"{name!r} has {n_columns} column; expected at least 2, the label and one or more features"
        )
    if isinstance(label_column, str):
        names = [cell.strip() for cell in header] if header is not None else None
        if names is None:
            raise ValueError(
                f"label_column={label_column!r} names a column, but {name!r} has no header line; "
                f"pass the column's index (0..{n_columns - 1} or -1 for the last)"
            )
        if label_column.strip() not in names:
            raise ValueError(
                f"label_column={label_column!r} is not in the header of {name!r}; it holds {names}"
            )
        return names.index(label_column.strip())
    if not -n_columns <= label_column < n_columns:
        raise ValueError(
            f"label_column={label_column} is out of range for {name!r}, which has {n_columns} columns; "
            f"expected {-n_columns}..{n_columns - 1}"
        )
    return int(label_column) % n_columns


def load_split(
    path: str | os.PathLike, dtype: str = "float32", classes: list[str] | None = None, raw: bool = False
) -> Dataset:
    """A :class:`~deepmat.data.Dataset` from an .npz or HDF5 file (told apart by
    :data:`HDF5_SUFFIXES`) holding the arrays ``X_train``, ``y_train``, ``X_test``, ``y_test``
    and optionally ``classes``.

    X is flattened to rows ``(m, n_features)`` (a view); uint8 X is divided by 255 and other X
    converted to ``dtype``; integer y becomes ``(m,)`` int64 (``(m, 1)`` labels are flattened).
    Without names from the file or ``classes=``, integer labels are named '0', '1', ….

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file cannot be read, lacks one of the four arrays, or holds arrays that
            are not numbers or do not agree.
        ImportError: h5py is not installed (HDF5 files).
    """
    resolved = check_dtype_name(dtype)
    if Path(path).suffix.lower() in HDF5_SUFFIXES:
        arrays = read_hdf5(path, SPLIT_KEYS, ("classes",), text=("classes",))
    else:
        arrays = read_npz(path, SPLIT_KEYS, ("classes",))
    X_train, y_train, X_test, y_test, stored_classes = arrays
    parts, preprocessor = [], None
    for part, X, y in (("train", X_train, y_train), ("test", X_test, y_test)):
        _check_pair(str(path), f"X_{part}", X, f"y_{part}", y)
        rows = X.reshape(X.shape[0], -1)
        check_allocation(
            repr(str(path)), f"'X_{part}' as {resolved.name} needs", rows.size * resolved.itemsize
        )
        if rows.dtype == np.uint8:  # bytes: /255, here or (raw) inside the model
            X, preprocessor = pixel_rows(rows, resolved, raw)
        else:
            X = rows.astype(resolved, copy=False)
        y = y.reshape(-1) if y.ndim == 2 and 1 in y.shape else y  # (m, 1) labels
        y = y.astype(np.int64, copy=False) if y.dtype.kind in "biu" else y
        parts.append((X, y))
    (X_train, y_train), (X_test, y_test) = parts
    if classes is None and stored_classes is not None:
        try:
            classes = decode_names(stored_classes)
        except UnicodeDecodeError as error:
            raise ValueError(
                f"{str(path)!r}: 'classes' holds names that are not UTF-8 ({error}); expected class names"
            ) from None
    classes = class_names({f"{str(path)!r} 'y_train'": y_train, "'y_test'": y_test}, classes)
    return Dataset(X_train, y_train, X_test, y_test, classes=classes, preprocessor=preprocessor)


def read_samples(path: str | os.PathLike, n_features: int, raw: bool = False) -> tuple[np.ndarray, list[str]]:
    """The samples to give a model of ``n_features`` inputs, from an .npz archive (key ``X``)
    or a CSV file (any other name): ``(X (n, n_features) float64, names)``, ``names[i]`` =
    ``"<file name>[i]"``.

    An .npz ``X`` is flattened to rows (one sample per row; a 1-D ``X`` is one sample) and
    divided by 255 when it is uint8 (not when ``raw``: for a model that scales its own inputs). A CSV file is read by :func:`load_csv_rows` (an optional
    header line skipped); when it has ``n_features + 1`` columns, it is a labelled file and its
    last column, the label, is dropped.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file cannot be read (the message names the line and column of a bad
            CSV cell); ``X`` is not numbers; the samples do not have ``n_features`` values.
    """
    path = Path(path)
    if path.suffix.lower() in NPZ_SUFFIXES:
        (X,) = read_npz(path, ("X",))
        if X.dtype.kind not in "biuf" or X.ndim == 0:
            raise ValueError(
                f"{str(path)!r}: 'X' is {X.dtype} {X.shape}; expected numbers, one sample per row"
            )
        check_not_empty(str(path), "X", X)
        X = X.reshape(X.shape[0], -1) if X.ndim > 1 else X.reshape(1, -1)
        check_allocation(repr(str(path)), "'X' as float64 needs", X.size * 8)
        X = X / 255.0 if X.dtype == np.uint8 and not raw else X.astype(np.float64)
    else:
        X = load_csv_rows(path)
        if X.shape[1] == n_features + 1:
            X = X[:, :-1]  # a labelled file: the label is the last column
    if X.shape[1] != n_features:
        raise ValueError(
            f"{str(path)!r} holds samples of {X.shape[1]} features but the model takes {n_features}"
        )
    return X, [f"{path.name}[{i}]" for i in range(X.shape[0])]
