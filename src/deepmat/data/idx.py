"""IDX files, the format of MNIST and Fashion-MNIST, and the data sets stored in them.

- :func:`load_idx`: one IDX or IDX.gz file as the array it stores, e.g. ``(60000, 28, 28)``
  uint8 pictures or ``(60000,)`` uint8 labels.
- :func:`load_fashion_mnist`, :func:`load_mnist`: the four IDX files of a folder
  (:data:`IDX_FILES`) as a :class:`~deepmat.data.Dataset` of ``(60000, 784)`` and
  ``(10000, 784)`` rows in [0, 1] (Debian's ``dataset-fashion-mnist`` package installs
  Fashion-MNIST in :data:`FASHION_MNIST_DIR`).
- :func:`load_idx_folder`: any folder of the four files, with any IDX type.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from deepmat._checks import check_dtype_name
from deepmat.data.checks import (
    check_allocation,
    check_declared_size,
    existing_file,
    existing_folder,
    size_text,
)
from deepmat.data.dataset import Dataset, class_names
from deepmat.data.images import pixel_rows

#: IDX type codes (the third byte of the file) and the NumPy dtypes they store, big-endian.
IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_IDX_EXPECTED = (
    "expected 00 00 <type> <ndim> with <type> one of 08 (uint8), 09 (int8), 0b (int16), "
    "0c (int32), 0d (float32), 0e (float64) and <ndim> ≥ 1"
)
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20  # bytes decompressed per read


def load_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (the format of MNIST and Fashion-MNIST), gzip-compressed or not.

    The format: two zero bytes, a type code (08 uint8, 09 int8, 0B int16, 0C int32,
    0D float32, 0E float64), the number of dimensions ``ndim``, then ``ndim`` big-endian uint32
    sizes, then the values, big-endian, row-major. A gzip file is recognised by its first two
    bytes 1f 8b, whatever its name.

    The values are read straight into one buffer that becomes the returned array (multi-byte
    types are byte-swapped in place to the machine's order): no further copy is made. Nothing
    of the declared size is allocated before the declared size is checked: against the file's
    size (uncompressed: exactly; gzip: at most :data:`~deepmat.data.checks.MAX_COMPRESSION_RATIO`
    times the compressed bytes) and against :func:`~deepmat.data.checks.max_load_bytes`. A gzip
    stream is inflated no further than the declared size and one byte (trailing data is
    reported as soon as it is seen), and only into the array when the gzip trailer's size field
    (ISIZE, the inflated size modulo 2³²) agrees with the header; when it does not, the stream is
    only counted, to say what is wrong, keeping nothing.

    Returns:
        a writable, native-endian array of the declared shape, e.g. ``(60000, 28, 28)`` uint8
        for ``train-images-idx3-ubyte`` and ``(60000,)`` uint8 for ``train-labels-idx1-ubyte``.

    Raises:
        FileNotFoundError: ``path`` does not exist or is not a file.
        ValueError: the header is not an IDX header, the data are shorter or longer than the
            header declares or more than a loader may allocate, or the gzip stream is corrupt
            (each message names the file).
    """
    file = existing_file(path, "IDX file")
    with open(file, "rb") as raw:
        size = os.fstat(raw.fileno()).st_size
        compressed = raw.read(2) == _GZIP_MAGIC
        if not compressed:
            raw.seek(0)
            return _read_idx(raw, repr(str(file)), size, None)
        raw.seek(max(size - 4, 0))
        isize = int.from_bytes(raw.read(4), "little")  # the gzip trailer: the inflated size mod 2**32
        raw.seek(0)
        try:
            with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                return _read_idx(stream, f"{str(file)!r} (gzip)", size, isize)
        except (EOFError, zlib.error, gzip.BadGzipFile) as error:
            raise ValueError(
                f"{str(file)!r} starts with the gzip bytes 1f 8b but cannot be decompressed ({error}); "
                "expected a complete gzip stream: the file is corrupt or truncated"
            ) from None


def _read_idx(stream: Any, name: str, file_size: int, isize: int | None) -> np.ndarray:
    """The array stored in an open IDX ``stream`` of a file of ``file_size`` bytes; ``isize`` is
    the gzip trailer's size field, None when the file is not compressed."""
    header = _read_up_to(stream, 4)
    if len(header) < 4 or header[:2] != b"\x00\x00" or header[2] not in IDX_TYPES or header[3] == 0:
        found = header.hex(" ") if header else "none (the file is empty)"
        raise ValueError(f"{name} is not an IDX file: first bytes {found}; {_IDX_EXPECTED}")
    dtype, ndim = IDX_TYPES[header[2]], header[3]
    size_bytes = _read_up_to(stream, 4 * ndim)
    if len(size_bytes) < 4 * ndim:
        raise ValueError(
            f"{name}: the header declares {ndim} dimensions, so {4 * ndim} bytes of sizes after the "
            f"first 4, but the file ends after {len(size_bytes)} of them (truncated)"
        )
    shape = tuple(int.from_bytes(size_bytes[4 * i : 4 * i + 4], "big") for i in range(ndim))
    declared = math.prod(shape) * dtype.itemsize  # a Python int: no overflow, nothing allocated
    header_size = 4 + 4 * ndim
    what = f"the header declares shape {_shape_text(shape)} of {dtype.name}, i.e."

    if isize is None:
        if file_size - header_size != declared:
            raise _idx_size_error(name, shape, dtype, declared, file_size - header_size)
        check_allocation(name, what, declared)
        buffer, found = _read_values(stream, declared, keep=True)
    else:
        check_declared_size(name, what, declared, file_size, compressed=True)
        trailer = (isize - header_size) % 2**32  # the data bytes by the trailer, modulo 2**32
        buffer, found = _read_values(stream, declared, keep=trailer == declared % 2**32)
        if buffer is None and found == declared:  # right after all: several gzip members (the
            stream.seek(header_size)  # trailer counts the last one only); read again, keeping
            buffer, found = _read_values(stream, declared, keep=True)
        if found > declared:  # reading stopped at the first byte too many; the trailer may know more
            found = trailer if trailer > declared else None
    if buffer is None or found != declared:
        raise _idx_size_error(name, shape, dtype, declared, found)

    data = np.frombuffer(buffer, dtype=dtype)
    if not dtype.isnative:
        data = data.byteswap(inplace=True).view(dtype.newbyteorder("="))
    return data.reshape(shape)


def _read_values(stream: Any, declared: int, keep: bool) -> tuple[bytearray | None, int]:
    """Read at most ``declared`` + 1 bytes of ``stream``: ``(buffer, count)``, the first
    ``declared`` bytes in a buffer of that size when ``keep`` (else None, and only a chunk is
    allocated), and how many bytes came — ``declared`` + 1 means trailing data."""
    buffer = bytearray(declared if keep else min(declared, _CHUNK))
    view, count = memoryview(buffer), 0
    while count < declared:
        n = stream.readinto(view[count:] if keep else view[: declared - count])
        if not n:
            break
        count += n
    view.release()
    if count == declared:
        count += len(stream.read(1))  # at the end of a gzip stream, this checks its CRC and size
    return (buffer if keep else None), count


def _read_up_to(stream: Any, n: int) -> bytes:
    """Up to ``n`` bytes of ``stream`` (fewer only at the end of the stream)."""
    parts, remaining = [], n
    while remaining > 0 and (part := stream.read(remaining)):
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def _shape_text(shape: tuple[int, ...]) -> str:
    """The shape as messages show it: ``(60000, 28, 28)``; past 6 dimensions (up to 255 in a
    header) the first three and how many there are."""
    if len(shape) <= 6:
        return str(shape)
    return f"({', '.join(map(str, shape[:3]))}, … {len(shape)} dimensions)"


def _idx_size_error(
    name: str, shape: tuple[int, ...], dtype: np.dtype, declared: int, found: int | None
) -> ValueError:
    """``found`` None: more than ``declared`` bytes, how many more not known."""
    what = (
        "truncated" if found is not None and found < declared else "trailing data after the declared values"
    )
    count = f"more than {declared}" if found is None else str(found)
    return ValueError(
        f"{name}: the header declares shape {_shape_text(shape)} of {dtype.name}, i.e. {size_text(declared)} of "
        f"data, but found {count} bytes after the header ({what}); expected exactly {size_text(declared)}"
    )


FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
#: How to install Fashion-MNIST into :data:`FASHION_MNIST_DIR` (Debian's package).
FASHION_MNIST_INSTALL = "apt-get install -y dataset-fashion-mnist"
FASHION_MNIST_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
MNIST_CLASSES = [str(digit) for digit in range(10)]
#: The IDX file names of MNIST and Fashion-MNIST (each may also end in .gz).
IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
#: The four file names as error messages show them.
IDX_FILES_TEXT = ", ".join(f"{name}[.gz]" for pair in IDX_FILES.values() for name in pair)


def load_fashion_mnist(
    data_dir: str | os.PathLike = FASHION_MNIST_DIR, dtype: str = "float32", raw: bool = False
) -> Dataset:
    """Fashion-MNIST: 70000 28×28 grey-level pictures of clothes in 10 classes.

    Reads the four IDX files (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each with or without ``.gz``) and
    flattens each picture row-major and divides by 255 in one pass:
    ``preprocessing.scale(images.reshape(m, -1), 255, dtype)``.

    Args:
        data_dir: the folder of the four files; the default is where Debian's
            ``dataset-fashion-mnist`` package installs them.
        dtype: ``"float32"`` (default) or ``"float64"`` for ``X``.

    Returns:
        a :class:`Dataset` with ``X_train (60000, 784)`` in [0, 1], ``y_train (60000,)`` int64
        in 0..9, ``X_test (10000, 784)``, ``y_test (10000,)`` and ``classes`` =
        :data:`FASHION_MNIST_CLASSES` (``'T-shirt/top'`` … ``'Ankle boot'``).

    Raises:
        FileNotFoundError: the folder or a file is missing (says how to install the data).
        ValueError: a file is not a valid IDX file, or images and labels do not agree.
    """
    how = (
        f"install the data with `{FASHION_MNIST_INSTALL}` (it puts them in "
        f"{FASHION_MNIST_DIR}) or pass data_dir= the folder that holds them"
    )
    return _load_idx_folder(
        data_dir, dtype, FASHION_MNIST_CLASSES, "Fashion-MNIST", how, uint8_only=True, raw=raw
    )


def load_mnist(data_dir: str | os.PathLike, dtype: str = "float32", raw: bool = False) -> Dataset:
    """MNIST: 70000 28×28 grey-level pictures of handwritten digits.

    The same files, names and preparation as :func:`load_fashion_mnist`; MNIST is not packaged
    for this machine, so ``data_dir`` must name the folder holding its four IDX files.

    Returns:
        a :class:`Dataset` with ``X_train (60000, 784)`` in [0, 1], ``y_train (60000,)`` int64,
        ``X_test (10000, 784)``, ``y_test (10000,)``, ``classes`` ``'0'`` … ``'9'``.

    Raises:
        FileNotFoundError: the folder or a file is missing.
        ValueError: a file is not a valid IDX file, or images and labels do not agree.
    """
    how = "pass data_dir= the folder that holds the four MNIST IDX files"
    return _load_idx_folder(data_dir, dtype, MNIST_CLASSES, "MNIST", how, uint8_only=True, raw=raw)


def _load_idx_folder(
    data_dir: str | os.PathLike,
    dtype: str,
    classes: list[str] | None,
    what: str,
    how: str,
    uint8_only: bool = False,
    raw: bool = False,
) -> Dataset:
    """The four IDX files of ``data_dir`` as a :class:`Dataset`; uint8 pictures are divided by
    255, other types only converted to ``dtype``; ``classes=None`` names labels '0', '1', …"""
    resolved = check_dtype_name(dtype)
    folder = existing_folder(data_dir, f"{what} folder", f"expected a folder holding {IDX_FILES_TEXT}; {how}")
    parts: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    labels_of: dict[str, np.ndarray] = {}  # the labels by file, for class_names
    for split, (images_name, labels_name) in IDX_FILES.items():
        images_path = _find_idx_file(folder, images_name, what, how)
        labels_path = _find_idx_file(folder, labels_name, what, how)
        images, labels = load_idx(images_path), load_idx(labels_path)
        if images.ndim < 2 or (uint8_only and images.dtype != np.uint8):
            raise ValueError(
                f"{str(images_path)!r} holds {images.shape} {images.dtype}; expected pictures "
                f"(m, height, width){' of uint8 grey levels' if uint8_only else ''}"
            )
        if labels.ndim != 1 or labels.dtype.kind not in "iu":
            raise ValueError(
                f"{str(labels_path)!r} holds {labels.shape} {labels.dtype}; expected (m,) integer labels"
            )
        m = images.shape[0]
        if m == 0 or images.size == 0:
            raise ValueError(
                f"{str(images_path)!r} holds no pictures: shape {images.shape}; expected at least 1 "
                "picture of at least 1 pixel"
            )
        if labels.shape[0] != m:
            raise ValueError(
                f"{str(images_path)!r} holds {m} pictures but {str(labels_path)!r} holds "
                f"{labels.shape[0]} labels; expected one label per picture"
            )
        y = labels.astype(np.int64)
        labels_of[repr(str(labels_path))] = y
        rows = images.reshape(m, -1)  # a view: the file's buffer is row-major already
        check_allocation(
            repr(str(images_path)), f"its pictures as {resolved.name} need", rows.size * resolved.itemsize
        )
        preprocessor = None
        if images.dtype == np.uint8:  # bytes: /255, here or (raw) inside the model
            X, preprocessor = pixel_rows(rows, resolved, raw)
        else:
            X = rows.astype(resolved)
        parts[split] = (X, y)
        del images, rows  # free each split's pictures before reading the next
    classes = class_names(labels_of, classes)
    (X_train, y_train), (X_test, y_test) = parts["train"], parts["test"]
    return Dataset(X_train, y_train, X_test, y_test, classes=classes, preprocessor=preprocessor)


def _find_idx_file(folder: Path, name: str, what: str, how: str) -> Path:
    """``folder/name`` or ``folder/name.gz``, whichever exists (the uncompressed one first)."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    held = sorted(p.name for p in folder.iterdir())
    listing = ", ".join(held[:12]) + (", …" if len(held) > 12 else "") if held else "nothing"
    raise FileNotFoundError(
        f"{what}: neither {name} nor {name}.gz is in {str(folder)!r} (it holds {listing}); "
        f"expected {IDX_FILES_TEXT}; {how}"
    )


def load_idx_folder(
    path: str | os.PathLike, dtype: str = "float32", classes: list[str] | None = None, raw: bool = False
) -> Dataset:
    """The four IDX files of MNIST's layout (:data:`IDX_FILES`, each may end in .gz) in the folder
    ``path``, as a :class:`~deepmat.data.Dataset`: ``X_train (m_train, n_features)``, ``y_train
    (m_train,)`` int64, ``X_test``, ``y_test``.

    Each picture is flattened row-major; uint8 pictures are divided by 255, other types only
    converted to ``dtype``. Without ``classes``, integer labels are named '0', '1', ….

    Raises:
        FileNotFoundError: the folder or one of the files is missing.
        ValueError: a file is not a valid IDX file, or pictures and labels do not agree.
    """
    how = f"pass the folder that holds {IDX_FILES_TEXT}"
    return _load_idx_folder(path, dtype, classes, "IDX data set", how, raw=raw)
