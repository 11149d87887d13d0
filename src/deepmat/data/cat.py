"""The seeds' application data (SPEC §7): the cat/non-cat HDF5 files ``train_catvnoncat.h5``
(209 pictures) and ``test_catvnoncat.h5`` (50), 64×64 RGB pictures labelled cat (1) or
non-cat (0).

:func:`load_catvnoncat` flattens each ``(64, 64, 3)`` uint8 picture row-major to 64·64·3 = 12288
values and divides by 255; :func:`default_cat_dir` says where the files are looked for
(``$DEEPMAT_CAT_DIR``, :data:`CAT_DIR_ENV`). h5py is optional (``pip install deepmat[data]``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from deepmat.data.checks import check_allocation, existing_folder, optional_import
from deepmat.data.dataset import Dataset
from deepmat.data.hdf5 import MissingDatasets, read_hdf5
from deepmat.data.images import PICTURE_SIZES, pixel_rows
from deepmat.data.tables import decode_names

#: Environment variable naming the folder that holds the two ``*_catvnoncat.h5`` files.
CAT_DIR_ENV = "DEEPMAT_CAT_DIR"
CAT_FILES = {"train": "train_catvnoncat.h5", "test": "test_catvnoncat.h5"}
CAT_IMAGE_SHAPE = PICTURE_SIZES[12288].shape  # (64, 64, 3)


def default_cat_dir() -> Path:
    """The folder :func:`load_catvnoncat` reads when given no ``data_dir``.

    In order: ``$DEEPMAT_CAT_DIR`` if set (even if it does not exist, so that a wrong setting is
    reported rather than silently ignored); else ``../shared/data/catvnoncat`` relative to the
    current directory if it exists; else the same path next to the repository that holds this
    package (``<repo>/../shared/data/catvnoncat``), which is returned even if absent.
    """
    env = os.environ.get(CAT_DIR_ENV)
    if env:
        return Path(env)
    relative = Path("..", "shared", "data", "catvnoncat")
    if relative.is_dir():
        return relative
    repo_root = Path(__file__).resolve().parents[3]
    return repo_root.parent / "shared" / "data" / "catvnoncat"


def load_catvnoncat(data_dir: str | os.PathLike | None = None, raw: bool = False) -> Dataset:
    """Load ``train_catvnoncat.h5`` and ``test_catvnoncat.h5`` from ``data_dir``.

    Each picture ``(64, 64, 3)`` uint8 becomes one row of 12288 values in [0, 1]:
    ``X = x.reshape(m, -1) / 255.0`` (row-major: height, then width, then the RGB channel), the
    same preparation as :func:`load_image`.

    Args:
        data_dir: the folder holding both files; ``None`` uses :func:`default_cat_dir`
            (``$DEEPMAT_CAT_DIR``, else ``../shared/data/catvnoncat``).

    Returns:
        a :class:`~deepmat.data.Dataset` (alias ``CatData``) with ``X_train (209, 12288)``
        float64 in [0, 1], ``y_train (209,)`` int64 (1 = cat, 0 = non-cat), ``X_test (50, 12288)``,
        ``y_test (50,)``, ``classes ["non-cat", "cat"]`` and the pictures as stored,
        ``images_train (209, 64, 64, 3)`` and ``images_test (50, 64, 64, 3)`` uint8.

    Raises:
        FileNotFoundError: the folder or one of the files does not exist (the message names the
            path and how to give another one).
        ValueError: a file is not HDF5, or lacks a key, or a key has the wrong shape or type.
        ImportError: h5py is not installed.
    """
    optional_import("h5py", "load_catvnoncat needs h5py to read HDF5 files")  # before the folder checks
    how = (
        "pass the folder holding train_catvnoncat.h5 and test_catvnoncat.h5 with "
        f"data_dir= (or --data-dir in the example script), or set ${CAT_DIR_ENV}"
    )
    folder = existing_folder(
        data_dir if data_dir is not None else default_cat_dir(), "cat/non-cat data folder", how
    )
    parts: dict[str, tuple[np.ndarray, np.ndarray, list[str]]] = {}
    for split, name in CAT_FILES.items():
        path = folder / name
        if not path.is_file():
            raise FileNotFoundError(f"{str(path)!r} does not exist; {how}")
        parts[split] = _read_cat_file(path, split)
    images_train, y_train, classes = parts["train"]
    images_test, y_test, _ = parts["test"]
    for split, images in (("train", images_train), ("test", images_test)):
        check_allocation(
            repr(str(folder / CAT_FILES[split])), "its pictures as float64 need", images.size * 8
        )
    if raw:  # the stored bytes; the model divides them by 255 itself
        X_train, preprocessor = pixel_rows(images_train.reshape(images_train.shape[0], -1), np.float64, True)
        X_test = images_test.reshape(images_test.shape[0], -1)
    else:
        X_train = images_train.reshape(images_train.shape[0], -1) / 255.0
        X_test, preprocessor = images_test.reshape(images_test.shape[0], -1) / 255.0, None
    return Dataset(
        X_train=X_train,
        y_train=y_train,
        X_test=X_test,
        y_test=y_test,
        classes=classes,
        images_train=images_train,
        images_test=images_test,
        preprocessor=preprocessor,
    )


def _read_cat_file(path: Path, split: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``(images (m, 64, 64, 3) uint8, labels (m,) int64, classes)`` from one HDF5 file."""
    x_key, y_key = f"{split}_set_x", f"{split}_set_y"
    expected = (
        f"expected an HDF5 file with keys {x_key!r} (m, 64, 64, 3) uint8, {y_key!r} (m,) "
        "labels 0/1 and 'list_classes' [b'non-cat', b'cat']"
    )
    try:
        images, labels, raw_classes = read_hdf5(
            path, (x_key, y_key, "list_classes"), expected=expected, text=("list_classes",)
        )
    except MissingDatasets as error:
        raise ValueError(
            f"{str(path)!r} lacks the dataset(s) {error.missing} (it has {error.top_level}); {expected}"
        ) from None

    m = images.shape[0] if images.ndim else 0
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[1:] != CAT_IMAGE_SHAPE or m == 0:
        raise ValueError(
            f"{str(path)!r}: {x_key!r} is {images.shape} {images.dtype}; expected (m, 64, 64, 3) uint8 "
            "with m ≥ 1"
        )
    if labels.dtype.kind not in "biu" or labels.size != m or labels.ndim > 2:
        raise ValueError(
            f"{str(path)!r}: {y_key!r} is {labels.shape} {labels.dtype}; expected ({m},) integer "
            f"labels, one per picture of {x_key!r}"
        )
    labels = labels.reshape(m).astype(np.int64)
    if not np.isin(labels, (0, 1)).all():
        raise ValueError(
            f"{str(path)!r}: {y_key!r} holds values {sorted(set(labels.tolist()))}; expected labels 0 and 1"
        )
    try:
        classes = decode_names(raw_classes)
    except UnicodeDecodeError:
        classes = []
    if len(classes) != 2:
        raise ValueError(
            f"{str(path)!r}: 'list_classes' is {raw_classes!r}; expected two names, e.g. [b'non-cat', b'cat']"
        )
    return images, labels, classes
