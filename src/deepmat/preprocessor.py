"""The fitted transform from raw rows to a network's inputs, saved inside the model.

A :class:`Preprocessor` belongs to a :class:`deepmat.Network` (``net.preprocessor``): the
network then takes raw rows everywhere — ``fit``, ``predict``, ``score``, ``deepmat predict``,
the ONNX graph — and the transform learnt on the training rows travels in the model file
(its settings as JSON, its numbers as safetensors arrays; nothing is pickled). Each raw
column becomes one or more features, in column order:

======================  ====================================================================
a number column         imputed when missing (``impute``: the training mean, median or most
                        frequent value), then scaled: x′ = (x − offset) / denominator
a text column           one-hot over the categories seen in training, sorted: ``name=value``
                        is 1 for the sample's value, the others 0 (an unseen value: all 0,
                        with a warning); missing values take the most frequent category
======================  ====================================================================

with the scaling of number columns one of:

==============  ===================================  ========================================
standardize     offset = mean, denominator = std      every feature mean 0, spread 1 (a
                                                      constant column: denominator 1)
minmax          offset = min, denominator = max − min every feature in [0, 1]
divide          offset = 0, denominator = c           pictures: c = 255 (8-bit), digits: 16
none            offset = 0, denominator = 1           the numbers as they are
==============  ===================================  ========================================

Raw rows are a 2-D array (columns by position) or a pandas DataFrame (columns by name; other
columns, such as the target, are ignored). A missing value without ``impute`` is refused with
the row and the column named. Values far outside the training range (beyond the training
range's own width on either side) draw a ``UserWarning``: the answers to them mean little.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

import numpy as np

from deepmat._checks import check_dtype_name, check_number, unknown_name

#: how number columns are scaled
SCALINGS = ("standardize", "minmax", "divide", "none")
#: how missing values are filled (text columns always take the most frequent category)
IMPUTATIONS = ("mean", "median", "most-frequent")
#: no text column may have more categories than this (one feature each)
MAX_CATEGORIES = 10_000


@dataclass
class Column:
    """One raw input column: its name, ``kind`` ("number" or "text"), the value that fills
    its missing entries (None: missing is an error), and a text column's categories."""

    name: str
    kind: str
    fill: float | str | None = None
    categories: list[str] = field(default_factory=list)

    @property
    def width(self) -> int:
        """How many features the column becomes."""
        return len(self.categories) if self.kind == "text" else 1


def is_missing_text(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


class Preprocessor:
    """Raw rows → the network's X ``(n_samples, n[0])`` (see the module docs).

    Args:
        columns: the raw columns' names, in order (None: ``x0``, ``x1``, … by position).
        text_columns: the names of the columns that hold categories (a DataFrame's text,
            category and bool columns count as text too).
        scaling: one of :data:`SCALINGS`.
        divide_by: c for ``scaling="divide"`` (255 for 8-bit pictures).
        impute: one of :data:`IMPUTATIONS`, or None (a missing value is an error).
        picture_shape: ``(height, width, channels)`` when the rows are pictures.
        class_names: the names of the network's classes, for answers.
    """

    def __init__(
        self,
        columns: Sequence[str] | None = None,
        text_columns: Sequence[str] = (),
        scaling: str = "none",
        divide_by: float | None = None,
        impute: str | None = None,
        picture_shape: Sequence[int] | None = None,
        class_names: Sequence[str] | None = None,
    ) -> None:
        if scaling not in SCALINGS:
            raise unknown_name("scaling", scaling, SCALINGS)
        if (scaling == "divide") != (divide_by is not None):
            raise ValueError("scaling='divide' goes with divide_by=c (and divide_by only with it)")
        if impute is not None and impute not in IMPUTATIONS:
            raise unknown_name("imputation", impute, IMPUTATIONS)
        self.names = None if columns is None else [str(c) for c in columns]
        self.text_columns = [str(c) for c in text_columns]
        self.scaling = scaling
        self.divide_by = None if divide_by is None else check_number(divide_by, "divide_by", 0, low_open=True)
        self.impute = impute
        self.picture_shape = None if picture_shape is None else tuple(int(d) for d in picture_shape)
        self.class_names = None if class_names is None else [str(c) for c in class_names]
        #: the fitted columns (None until :meth:`fit`)
        self.columns: list[Column] | None = None
        #: per number column: offset, denominator, and the training range [low, high]
        self.offset = self.denominator = self.low = self.high = np.zeros(0)

    # -- reading raw rows --------------------------------------------------------------

    def _raw_columns(self, raw: Any, names: list[str] | None) -> tuple[list[str], list[np.ndarray], set[str]]:
        """(names, one array per column, names that hold text) of raw rows."""
        if hasattr(raw, "columns") and hasattr(raw, "dtypes"):  # a pandas DataFrame
            available = [str(c) for c in raw.columns]
            wanted = names if names is not None else available
            missing = [n for n in wanted if n not in available]
            if missing:
                raise ValueError(f"the rows lack the column(s) {missing}; they hold {available[:20]}")
            by_name = {str(c): c for c in raw.columns}
            arrays = [raw[by_name[n]].to_numpy() for n in wanted]
            text = {n for n, a in zip(wanted, arrays, strict=True) if a.dtype.kind not in "iuf"}
            return wanted, arrays, text
        array = np.asarray(raw)
        if array.ndim == 1 and names is not None and len(names) == array.shape[0]:
            array = array.reshape(1, -1)  # one sample
        if array.ndim != 2:
            raise ValueError(f"raw rows must be 2-D (n_samples, n_columns); received shape {array.shape}")
        n = array.shape[1]
        wanted = names if names is not None else [f"x{j}" for j in range(n)]
        if len(wanted) != n:
            raise ValueError(f"the rows have {n} columns; expected {len(wanted)} ({', '.join(wanted[:8])}…)")
        if array.dtype.kind in "biuf":
            return wanted, [array[:, j] for j in range(n)], set()
        arrays = [array[:, j] for j in range(n)]
        text = {name for name, a in zip(wanted, arrays, strict=True) if not _all_numbers(a)}
        return wanted, arrays, text

    # -- fitting -----------------------------------------------------------------------

    def fit(self, raw: Any) -> Preprocessor:
        """Learn the columns, categories, fills, scaling and training range from training rows."""
        names, arrays, text = self._raw_columns(raw, self.names)
        if arrays and arrays[0].shape[0] == 0:
            raise ValueError("cannot fit the preprocessing on 0 rows")
        text |= set(self.text_columns) & set(names)
        unknown = set(self.text_columns) - set(names)
        if unknown:
            raise ValueError(f"text_columns {sorted(unknown)} are not among the columns {names[:20]}")
        columns, numbers = [], []
        for name, values in zip(names, arrays, strict=True):
            if name in text:
                columns.append(self._fit_text(name, values))
            else:
                column, filled = self._fit_number(name, values)
                columns.append(column)
                numbers.append(filled)
        self.names, self.columns = names, columns
        self._fit_scaling(np.column_stack(numbers) if numbers else np.zeros((arrays[0].shape[0], 0)))
        return self

    def _fit_text(self, name: str, values: np.ndarray) -> Column:
        as_text = [None if is_missing_text(v) else str(v) for v in values]
        present = [v for v in as_text if v is not None]
        if len(present) < len(as_text) and self.impute is None:
            _missing_error(name, as_text.index(None))
        if not present:
            raise ValueError(f"column {name!r} has no value at all to learn from")
        fill = None
        if self.impute is not None:  # also for later rows, when the training rows miss nothing
            kinds, counts = np.unique(np.array(present, dtype=str), return_counts=True)
            fill = str(kinds[np.argmax(counts)])
        categories = sorted(set(present))
        if len(categories) > MAX_CATEGORIES:
            raise ValueError(
                f"column {name!r} has {len(categories):,} different values; one-hot encoding takes at most "
                f"{MAX_CATEGORIES:,} (one input per value): drop the column or group its values"
            )
        return Column(name, "text", fill, categories)

    def _fit_number(self, name: str, values: np.ndarray) -> tuple[Column, np.ndarray]:
        numbers = _as_numbers(name, values)
        missing = np.isnan(numbers)
        if np.isinf(numbers).any():
            row = int(np.argmax(np.isinf(numbers)))
            raise ValueError(f"column {name!r}, row {row}: {numbers[row]} is not a finite number")
        if missing.any() and self.impute is None:
            _missing_error(name, int(np.argmax(missing)))
        present = numbers[~missing]
        if present.size == 0:
            raise ValueError(f"column {name!r} has no value at all to learn from (every row is missing)")
        fill = None
        if self.impute is not None:  # also for later rows, when the training rows miss nothing
            if self.impute == "mean":
                fill = float(present.mean())
            elif self.impute == "median":
                fill = float(np.median(present))
            else:
                kinds, counts = np.unique(present, return_counts=True)
                fill = float(kinds[np.argmax(counts)])
            numbers = np.where(missing, fill, numbers)
        return Column(name, "number", fill), numbers

    def _fit_scaling(self, numbers: np.ndarray) -> None:
        n = numbers.shape[1]
        self.low = numbers.min(axis=0) if numbers.size else np.zeros(n)
        self.high = numbers.max(axis=0) if numbers.size else np.zeros(n)
        self.offset, self.denominator = np.zeros(n), np.ones(n)
        if self.scaling == "standardize" and numbers.size:
            self.offset = numbers.mean(axis=0)
            std = numbers.std(axis=0)
            rounding = numbers.shape[0] * np.finfo(np.float64).eps * np.abs(self.offset)
            self.denominator = np.where(std > rounding, std, 1.0)  # a constant column stays 0
        elif self.scaling == "minmax" and numbers.size:
            self.offset = self.low.copy()
            span = self.high - self.low
            self.denominator = np.where(span > 0, span, 1.0)
        elif self.scaling == "divide":
            self.denominator = np.full(n, self.divide_by)
            if numbers.size:  # pixels: one range for the whole picture (a dark corner may be lit)
                self.low, self.high = np.full(n, numbers.min()), np.full(n, numbers.max())

    # -- transforming ------------------------------------------------------------------

    @property
    def fitted(self) -> bool:
        return self.columns is not None

    @property
    def n_features(self) -> int:
        """n[0]: the number of features the transform gives."""
        self._need_fit()
        return sum(column.width for column in self.columns)

    @property
    def feature_names(self) -> list[str]:
        """Each feature's name: a number column's own, ``column=value`` for one-hot features."""
        self._need_fit()
        names: list[str] = []
        for column in self.columns:
            names += (
                [f"{column.name}={c}" for c in column.categories] if column.kind == "text" else [column.name]
            )
        return names

    @property
    def has_text(self) -> bool:
        return self.fitted and any(column.kind == "text" for column in self.columns)

    def _need_fit(self) -> None:
        if self.columns is None:
            raise ValueError("the preprocessing has not been fitted: fit(raw_training_rows) first")

    def transform(self, raw: Any, dtype: Any = "float64", warn: bool = True) -> np.ndarray:
        """The network's X ``(n_samples, n_features)`` in ``dtype`` for raw rows; with
        ``warn``, a ``UserWarning`` for values far outside the training range and for text
        values never seen in training."""
        self._need_fit()
        resolved = check_dtype_name(dtype)
        numbers_only = all(column.kind == "number" for column in self.columns)
        if numbers_only and isinstance(raw, np.ndarray) and raw.dtype.kind in "biuf" and raw.ndim == 2:
            if raw.shape[1] != len(self.columns):
                raise ValueError(f"the rows have {raw.shape[1]} columns; expected {len(self.columns)}")
            return self._transform_numbers(raw, resolved, warn)  # whole-array (pictures)
        _, arrays, _ = self._raw_columns(raw, self.names)
        m = arrays[0].shape[0] if arrays else 0
        number_columns = [
            _as_numbers(column.name, values)
            for column, values in zip(self.columns, arrays, strict=True)
            if column.kind == "number"
        ]
        numbers = self._transform_numbers(
            np.column_stack(number_columns) if number_columns else np.zeros((m, 0)), resolved, warn
        )
        out = np.empty((m, self.n_features), dtype=resolved)
        position, number = 0, 0
        for column, values in zip(self.columns, arrays, strict=True):
            if column.kind == "text":
                self._one_hot(column, values, out[:, position : position + column.width], warn)
            else:
                out[:, position] = numbers[:, number]
                number += 1
            position += column.width
        return out

    def _transform_numbers(self, raw: np.ndarray, resolved: np.dtype, warn: bool) -> np.ndarray:
        """The number columns ``(m, n_numbers)``: missing values filled, the range checked, then
        (x − offset) / denominator in ``resolved``, operation by operation as the ONNX graph
        computes it."""
        numbers = raw.astype(np.float64) if raw.dtype.kind != "f" else raw
        missing = np.isnan(numbers)
        if missing.any():
            number_columns = [c for c in self.columns if c.kind == "number"]
            row, j = (int(i) for i in np.argwhere(missing)[0])
            if number_columns[j].fill is None:
                _missing_error(number_columns[j].name, row)
            fills = np.array([np.nan if c.fill is None else float(c.fill) for c in number_columns])
            numbers = np.where(missing, fills, numbers)
        if np.isinf(numbers).any():
            row, j = (int(i) for i in np.argwhere(np.isinf(numbers))[0])
            raise ValueError(f"row {row}, number column {j}: {numbers[row, j]} is not a finite number")
        if warn and numbers.size:
            self._warn_far(numbers)
        out = numbers.astype(resolved)
        if self.offset.any():
            out -= self.offset.astype(resolved)
        np.divide(out, self.denominator.astype(resolved), out=out)
        return out

    def _warn_far(self, numbers: np.ndarray) -> None:
        """Warn about number columns with values beyond the training range's own width."""
        low, high = numbers.min(axis=0), numbers.max(axis=0)
        span = np.maximum(self.high - self.low, np.maximum(np.abs(self.high), np.abs(self.low)))
        span = np.where(span > 0, span, 1.0)  # a column of zeros: 1
        far = np.flatnonzero((low < self.low - span) | (high > self.high + span))
        if far.size:
            names = [c.name for c in self.columns if c.kind == "number"]
            shown = ", ".join(
                f"{names[j]!r} ({low[j]:g} to {high[j]:g}; trained on {self.low[j]:g} to {self.high[j]:g})"
                for j in far[:5]
            )
            warnings.warn(
                f"values far outside the training range in {shown}: the network never saw such inputs "
                "and its answers to them mean little (are they scaled as the training data was?)",
                UserWarning,
                stacklevel=4,
            )

    @staticmethod
    def _one_hot(column: Column, values: np.ndarray, out: np.ndarray, warn: bool) -> None:
        out[...] = 0
        index = {category: k for k, category in enumerate(column.categories)}
        unseen: set[str] = set()
        for row, value in enumerate(values):
            if is_missing_text(value):
                if column.fill is None:
                    _missing_error(column.name, row)
                value = column.fill
            k = index.get(str(value))
            if k is None:
                unseen.add(str(value))
            else:
                out[row, k] = 1
        if unseen and warn:
            shown = ", ".join(repr(v) for v in sorted(unseen)[:5])
            warnings.warn(
                f"column {column.name!r} holds values never seen in training ({shown}): encoded as no category",
                UserWarning,
                stacklevel=4,
            )

    def unit_rows(self, rows: np.ndarray) -> np.ndarray:
        """Pictures read in [0, 1] (:func:`deepmat.data.image_row`) as the raw values this
        transform takes (× c for ``scaling="divide"``)."""
        return rows * self.divide_by if self.scaling == "divide" else rows

    # -- saving ------------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """Everything but the number arrays, JSON-ready (:meth:`from_config` rebuilds it)."""
        self._need_fit()
        return {
            "columns": [
                {"name": c.name, "kind": c.kind, "fill": c.fill, "categories": c.categories}
                for c in self.columns
            ],
            "scaling": self.scaling,
            "divide_by": self.divide_by,
            "impute": self.impute,
            "picture_shape": list(self.picture_shape) if self.picture_shape else None,
            "class_names": self.class_names,
        }

    def get_arrays(self) -> dict[str, np.ndarray]:
        """The fitted numbers, one value per number column each."""
        self._need_fit()
        return {"offset": self.offset, "denominator": self.denominator, "low": self.low, "high": self.high}

    @classmethod
    def from_config(cls, config: dict[str, Any], arrays: dict[str, np.ndarray]) -> Preprocessor:
        """Rebuild a fitted preprocessor from :meth:`get_config` and :meth:`get_arrays`,
        checking every field (a model file may be hostile)."""
        if not isinstance(config, dict) or not isinstance(config.get("columns"), list):
            raise ValueError("the preprocessing config must hold a list 'columns'")
        columns = []
        for entry in config["columns"]:
            if not isinstance(entry, dict) or entry.get("kind") not in ("number", "text"):
                raise ValueError(
                    f"a preprocessing column must be {{'name', 'kind': number|text, …}}; received {entry!r:.200}"
                )
            categories = entry.get("categories") or []
            if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
                raise ValueError(f"column {entry.get('name')!r}: categories must be a list of strings")
            if len(categories) > MAX_CATEGORIES:
                raise ValueError(
                    f"column {entry.get('name')!r} has {len(categories)} categories; at most {MAX_CATEGORIES}"
                )
            fill = entry.get("fill")
            if fill is not None and not isinstance(fill, (int, float, str)):
                raise ValueError(f"column {entry.get('name')!r}: fill must be a number or a string")
            columns.append(Column(str(entry.get("name")), entry["kind"], fill, categories))
        divide_by = config.get("divide_by")
        pre = cls(
            columns=[c.name for c in columns],
            scaling=config.get("scaling", "none"),
            divide_by=divide_by,
            impute=config.get("impute"),
            picture_shape=config.get("picture_shape"),
            class_names=config.get("class_names"),
        )
        n_numbers = sum(c.kind == "number" for c in columns)
        for key in ("offset", "denominator", "low", "high"):
            array = arrays.get(key)
            if (
                array is None
                or array.shape != (n_numbers,)
                or array.dtype.kind != "f"
                or not np.isfinite(array).all()
            ):
                raise ValueError(f"the preprocessing array {key!r} must be ({n_numbers},) finite floats")
        if (arrays["denominator"] == 0).any():
            raise ValueError("the preprocessing array 'denominator' holds 0: it would divide by zero")
        pre.columns = columns
        pre.offset, pre.denominator = (
            arrays["offset"].astype(np.float64),
            arrays["denominator"].astype(np.float64),
        )
        pre.low, pre.high = arrays["low"].astype(np.float64), arrays["high"].astype(np.float64)
        return pre

    def copy(self) -> Preprocessor:
        return Preprocessor.from_config(self.get_config(), self.get_arrays()) if self.fitted else self

    def __repr__(self) -> str:
        if not self.fitted:
            return f"Preprocessor(scaling={self.scaling!r}, impute={self.impute!r}, not fitted)"
        text = sum(c.kind == "text" for c in self.columns)
        return (
            f"Preprocessor({len(self.columns)} columns ({text} text) → {self.n_features} features, "
            f"scaling={self.scaling!r}, impute={self.impute!r})"
        )


def _missing_error(name: str, row: int) -> NoReturn:
    raise ValueError(
        f"column {name!r} has a missing value in row {row}; give impute= (--impute) one of "
        f"{', '.join(IMPUTATIONS)} to fill missing values, or fill them yourself"
    )


def _all_numbers(values: np.ndarray) -> bool:
    try:
        _as_numbers("", values)
    except ValueError:
        return False
    return True


def _as_numbers(name: str, values: np.ndarray) -> np.ndarray:
    """A column as float64, missing entries (None, NaN, "") as NaN; a value that is no number
    is an error naming the column and the row."""
    if values.dtype.kind in "biuf":
        return values.astype(np.float64)
    out = np.empty(values.shape[0])
    for row, value in enumerate(values):
        if is_missing_text(value):
            out[row] = np.nan
            continue
        try:
            out[row] = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"column {name!r}, row {row}: {value!r} is not a number") from None
    return out
