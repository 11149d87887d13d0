"""Data sets and pictures, loaded into the row layout of :class:`deepmat.Network`:
``X`` is ``(n_samples, n_features)`` floats in [0, 1] and ``y`` is ``(n_samples,)`` int64.

This package is the public face; each format has its module:

- :mod:`~deepmat.data.dataset`: :class:`Dataset`, the container every loader returns.
- :mod:`~deepmat.data.idx`: :func:`load_idx` (IDX/IDX.gz files), :func:`load_fashion_mnist`,
  :func:`load_mnist` (28×28 grey pictures; Debian's ``dataset-fashion-mnist`` package installs
  Fashion-MNIST in /usr/share/datasets/fashion-mnist), as a :class:`Dataset` of ``(n, 784)``
  rows.
- :mod:`~deepmat.data.cat`: :func:`load_catvnoncat`, the seeds' application data (SPEC §7),
  64×64 RGB pictures labelled cat (1) or non-cat (0), each flattened row-major to
  64·64·3 = 12288 values and divided by 255.
- :mod:`~deepmat.data.digits`: :func:`load_digits`, scikit-learn's bundled 8×8 digits, offline,
  split train/test.
- :mod:`~deepmat.data.images`: :data:`PICTURE_SIZES`, the one table of picture sizes (784 =
  28×28 grey, 12288 = 64×64 RGB, 64 = 8×8 grey in 0..16); :func:`load_image`, one picture file
  as a ``(1, 12288)`` row, prepared the same way, to classify with a trained network;
  :func:`image_row`, a picture as the row of any size of the table.
- :mod:`~deepmat.data.frames`: :func:`load_table` — your CSV, TSV and Parquet tables with a
  target column, their text columns one-hot encoded by the model's own preprocessing.
- :mod:`~deepmat.data.tables`: :func:`load_hdf5`, :func:`load_npz`, :func:`load_csv`: ``(X, y)``
  from your own files; :func:`load_csv_rows` and :func:`read_samples`: the samples to predict,
  from an .npz (key ``X``) or a CSV file.
- :mod:`~deepmat.data.hdf5`, :mod:`~deepmat.data.npz`: the one reader of each format, which
  checks what a file declares before reading it (HDF5: nothing outside the file — no external
  link, external storage or virtual dataset; :mod:`~deepmat.data.hdf5_headers` and
  :mod:`~deepmat.data.hdf5_heap`: the superblock, object headers and heaps, read by deepmat
  before libhdf5 trusts them).
- :mod:`~deepmat.data.checks`: the checks every loader makes first, and the two bounds.
- here: :data:`DATASETS`, the registry of the data sets known by name (:class:`DatasetInfo`:
  title, loader, folder, install hint), and :func:`load_dataset`, any of the above by name or
  by path, as a :class:`Dataset`.

Hostile files. Every loader checks the sizes a file declares before allocating them, against
what the file could hold — its size, or its compressed size times
:data:`~deepmat.data.checks.MAX_COMPRESSION_RATIO` (1032, deflate's ceiling) — and against one
stated limit, :func:`~deepmat.data.checks.max_load_bytes`: ``$DEEPMAT_MAX_LOAD_BYTES`` if set,
else :data:`~deepmat.data.checks.MAX_BYTES`, a quarter of the memory the process may use, for
the arrays of one file (and as much again for an array converted to float). Integer labels
must be class indices 0..k-1 with k at most the number of samples (or the number of names
given). Each refusal is one ``ValueError`` naming the file, never a ``MemoryError``; the cases
are listed in docs/BAD_INPUT.md ("Hostile data files").

h5py, Pillow and scikit-learn are optional dependencies (``pip install deepmat[data]``),
imported when a loader that needs them is called.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deepmat._checks import check_dtype_name, unknown_name
from deepmat.data.cat import CAT_DIR_ENV, CAT_FILES, CAT_IMAGE_SHAPE, default_cat_dir, load_catvnoncat
from deepmat.data.dataset import CatData, Dataset, take_rows
from deepmat.data.digits import load_digits
from deepmat.data.frames import TABLE_SUFFIXES, is_table, load_table, read_table
from deepmat.data.hdf5 import HDF5_SUFFIXES
from deepmat.data.idx import (
    FASHION_MNIST_CLASSES,
    FASHION_MNIST_DIR,
    FASHION_MNIST_INSTALL,
    IDX_FILES,
    IDX_FILES_TEXT,
    IDX_TYPES,
    MNIST_CLASSES,
    load_fashion_mnist,
    load_idx,
    load_idx_folder,
    load_mnist,
)
from deepmat.data.images import (
    IMAGE_SUFFIXES,
    PICTURE_SIZES,
    PictureSize,
    image_row,
    load_image,
    picture_sizes_text,
)
from deepmat.data.npz import NPZ_SUFFIXES
from deepmat.data.tables import (
    SPLIT_KEYS,
    load_csv,
    load_csv_rows,
    load_hdf5,
    load_npz,
    load_split,
    read_samples,
)

__all__ = [
    "CAT_DIR_ENV",
    "CAT_FILES",
    "CAT_IMAGE_SHAPE",
    "DATASETS",
    "DATASET_NAMES",
    "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_DIR",
    "FASHION_MNIST_INSTALL",
    "IDX_FILES",
    "IDX_TYPES",
    "IMAGE_SUFFIXES",
    "MNIST_CLASSES",
    "PICTURE_SIZES",
    "TABLE_SUFFIXES",
    "CatData",
    "Dataset",
    "DatasetInfo",
    "PictureSize",
    "dataset_key",
    "default_cat_dir",
    "image_row",
    "is_table",
    "load_catvnoncat",
    "load_csv",
    "load_csv_rows",
    "load_dataset",
    "load_digits",
    "load_fashion_mnist",
    "load_hdf5",
    "load_idx",
    "load_idx_folder",
    "load_image",
    "load_mnist",
    "load_npz",
    "load_split",
    "load_table",
    "picture_sizes_text",
    "read_samples",
    "read_table",
    "take_rows",
]


@dataclass(frozen=True)
class DatasetInfo:
    """What deepmat knows of a data set it can load by name: a record of :data:`DATASETS`.

    Attributes:
        name: the name :func:`load_dataset` takes, e.g. ``"fashion-mnist"``.
        title: how messages name it, e.g. ``"Fashion-MNIST"``.
        loader: what ``load_dataset(name, **kwargs)`` calls; it returns a :class:`Dataset`.
        description: one line on what it holds.
        takes_dir: whether it is read from a folder (``data_dir=``, ``--data-dir``).
        default_dir: the folder read when none is given, asked for at call time (it may depend
            on the environment), or None when there is no default.
        install: how to get the data or the package that ships it, or ``""``.
    """

    name: str
    title: str
    loader: Callable[..., Dataset]
    description: str
    takes_dir: bool = False
    default_dir: Callable[[], str | os.PathLike] | None = None
    install: str = ""


def _fashion_mnist_dir() -> str:
    # this package's attribute, read when called: setting deepmat.data.FASHION_MNIST_DIR moves it
    return FASHION_MNIST_DIR


def _mnist_by_name(
    data_dir: str | os.PathLike | None = None, dtype: str = "float32", raw: bool = False
) -> Dataset:
    if data_dir is None:
        raise ValueError(
            "load_dataset('mnist') needs data_dir=, the folder holding the four MNIST IDX files "
            f"({IDX_FILES_TEXT})"
        )
    return load_mnist(data_dir, dtype, raw)


def _cat_by_name(
    data_dir: str | os.PathLike | None = None, dtype: str = "float64", raw: bool = False
) -> Dataset:
    resolved = check_dtype_name(dtype)
    cat = load_catvnoncat(data_dir, raw)
    if raw:
        return cat
    return dataclasses.replace(
        cat, X_train=cat.X_train.astype(resolved, copy=False), X_test=cat.X_test.astype(resolved, copy=False)
    )


#: The data sets :func:`load_dataset` knows by name, in the order help texts list them.
DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo(
            "fashion-mnist",
            "Fashion-MNIST",
            load_fashion_mnist,
            "70000 28×28 grey pictures of clothes in 10 classes",
            takes_dir=True,
            default_dir=_fashion_mnist_dir,
            install=FASHION_MNIST_INSTALL,
        ),
        DatasetInfo(
            "mnist",
            "MNIST",
            _mnist_by_name,
            "70000 28×28 grey pictures of handwritten digits, from a folder of its IDX files",
            takes_dir=True,
        ),
        DatasetInfo(
            "digits",
            "scikit-learn digits",
            load_digits,
            "1797 8×8 grey pictures of handwritten digits that scikit-learn ships",
            install="pip install deepmat[data]",
        ),
        DatasetInfo(
            "cat",
            "cat/non-cat",
            _cat_by_name,
            "259 64×64 RGB pictures labelled cat or non-cat, the seeds' application data",
            takes_dir=True,
            default_dir=default_cat_dir,
        ),
    )
}
#: The names :func:`load_dataset` knows, sorted.
DATASET_NAMES = tuple(sorted(DATASETS))


def dataset_key(name: str) -> str | None:
    """The name in :data:`DATASETS` that ``name`` means (case-insensitive, ``_`` or ``-``:
    ``"Fashion_MNIST"`` → ``"fashion-mnist"``), or None when it names none (a path)."""
    key = name.strip().lower().replace("_", "-")
    return key if key in DATASETS else None


def load_dataset(name_or_path: str | os.PathLike, **kwargs: Any) -> Dataset:
    """A :class:`Dataset` by name or by path.

    Names (case-insensitive, ``_`` or ``-``), those of :data:`DATASETS`:

    - ``"fashion-mnist"``: :func:`load_fashion_mnist` (kwargs ``data_dir``, ``dtype``);
    - ``"mnist"``: :func:`load_mnist`, which needs ``data_dir=``;
    - ``"digits"``: :func:`load_digits` (``dtype``, ``test_fraction``, ``seed``);
    - ``"cat"``: :func:`load_catvnoncat` (``data_dir``; ``dtype`` defaults to its float64),
      classes ``["non-cat", "cat"]``, the uint8 pictures in ``images_train``/``images_test``.

    Paths (write ``./digits`` for a folder that shares a name):

    - a folder holding the four IDX files of MNIST's layout (uint8 pictures are divided by 255;
      kwargs ``dtype``, ``classes``);
    - an ``.npz`` or ``.h5``/``.hdf5`` file with arrays ``X_train``, ``y_train``, ``X_test``,
      ``y_test`` and optionally ``classes`` (kwargs ``dtype``, ``classes``): X is flattened to
      rows (a view), uint8 X is divided by 255 and other X converted to ``dtype``, integer y
      becomes int64.

    Without names from the file or ``classes=``, integer labels are named '0', '1', ….

    ``raw=True`` (every loader of pictures: the names, IDX folders, uint8 .npz/.h5 X): the
    pictures' stored levels, not divided, and ``Dataset.preprocessor`` the transform that
    divides them — give it to a :class:`~deepmat.Network` and the network takes pictures as
    they are stored (what ``deepmat train`` does).

    Raises:
        ValueError: an unknown name (the message lists the valid ones), a file of another kind.
        FileNotFoundError: a path that does not exist.
        TypeError: a keyword the chosen loader does not take.
    """
    if isinstance(name_or_path, str):
        key = dataset_key(name_or_path)
        if key is not None:
            return DATASETS[key].loader(**kwargs)
        looks_like_path = (
            os.sep in name_or_path
            or "/" in name_or_path
            or Path(name_or_path).suffix.lower() in (*NPZ_SUFFIXES, *HDF5_SUFFIXES, *TABLE_SUFFIXES)
        )
        if not looks_like_path and not Path(name_or_path).exists():
            error = unknown_name("dataset", name_or_path, DATASET_NAMES)
            raise ValueError(
                f"{error}, or the path of a folder of IDX files, an .npz or an .h5/.hdf5 file, or a table "
                "(.csv, .tsv, .parquet)"
            )
    path = Path(name_or_path)
    if path.is_dir():
        return load_idx_folder(path, **kwargs)
    expected = (
        f"expected a folder of IDX files, an .npz or .h5/.hdf5 file with arrays {', '.join(SPLIT_KEYS)}, "
        "or a table (.csv, .tsv, .parquet) with target="
    )
    if not path.exists():
        raise FileNotFoundError(f"data set {str(path)!r} does not exist; {expected}")
    suffix = path.suffix.lower()
    if suffix in (*NPZ_SUFFIXES, *HDF5_SUFFIXES):
        return load_split(path, **kwargs)
    if suffix in TABLE_SUFFIXES:
        if "target" not in kwargs:
            raise ValueError(f"{str(path)!r} is a table: name the column to predict (target=, --target NAME)")
        kwargs.pop("dtype", None)  # a table's rows stay as they are; its preprocessing gives the dtype
        return load_table(path, **kwargs)
    raise ValueError(f"cannot tell what kind of data set {str(path)!r} is; {expected}")
