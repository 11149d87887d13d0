"""Datasets and pictures, loaded into the row layout of :class:`deepmat.Network`:
``X`` is ``(n_samples, n_features)`` floats in [0, 1] and ``y`` is ``(n_samples,)`` int64.

- :func:`load_catvnoncat`: the seeds' application data (SPEC §7), 64×64 RGB pictures labelled
  cat (1) or non-cat (0), each flattened row-major to 64·64·3 = 12288 values and divided by 255.
- :func:`load_image`: one picture file as a ``(1, 12288)`` row, prepared the same way, to
  classify with a trained network.
- :func:`load_fashion_mnist`, :func:`load_mnist`: the 28×28 grey-level IDX files (Debian's
  ``dataset-fashion-mnist`` package installs Fashion-MNIST in /usr/share/datasets/fashion-mnist),
  read by :func:`load_idx`, as a :class:`Dataset` of ``(n, 784)`` rows.
- :func:`load_digits`: scikit-learn's bundled 8×8 digits, offline, split train/test.
- :func:`load_hdf5`, :func:`load_npz`, :func:`load_csv`: ``(X, y)`` from your own files.
- :func:`load_dataset`: any of the above by name or by path, as a :class:`Dataset`.

h5py, Pillow and scikit-learn are optional dependencies (``pip install deepmat[data]``),
imported when a loader that needs them is called.
"""

from __future__ import annotations

import csv
import gzip
import math
import os
import zlib
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from deepmat._checks import check_dtype_name, unknown_name
from deepmat.preprocessing import scale, train_val_split

#: Environment variable naming the folder that holds the two ``*_catvnoncat.h5`` files.
CAT_DIR_ENV = "DEEPMAT_CAT_DIR"
CAT_FILES = {"train": "train_catvnoncat.h5", "test": "test_catvnoncat.h5"}
CAT_IMAGE_SHAPE = (64, 64, 3)
_INSTALL_ADVICE = "install it with: pip install deepmat[data]"


@dataclass(frozen=True, eq=False)
class CatData:
    """The cat/non-cat data set in row layout.

    Shape:
        - ``X_train``: ``(209, 12288)`` float64 in [0, 1] — ``images_train.reshape(209, -1) / 255``
        - ``y_train``: ``(209,)`` int64, 1 = cat, 0 = non-cat
        - ``X_test``: ``(50, 12288)`` float64, ``y_test``: ``(50,)`` int64
        - ``classes``: ``["non-cat", "cat"]`` — ``classes[label]`` names a label
        - ``images_train``: ``(209, 64, 64, 3)`` uint8, ``images_test``: ``(50, 64, 64, 3)`` uint8
          (the pictures as stored, for display)
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: list[str]
    images_train: np.ndarray = field(repr=False)
    images_test: np.ndarray = field(repr=False)

    def __repr__(self) -> str:
        return (
            f"CatData(X_train={self.X_train.shape}, y_train={self.y_train.shape}, "
            f"X_test={self.X_test.shape}, y_test={self.y_test.shape}, classes={self.classes})"
        )


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


def load_catvnoncat(data_dir: str | os.PathLike | None = None) -> CatData:
    """Load ``train_catvnoncat.h5`` and ``test_catvnoncat.h5`` from ``data_dir``.

    Each picture ``(64, 64, 3)`` uint8 becomes one row of 12288 values in [0, 1]:
    ``X = x.reshape(m, -1) / 255.0`` (row-major: height, then width, then the RGB channel), the
    same preparation as :func:`load_image`.

    Args:
        data_dir: the folder holding both files; ``None`` uses :func:`default_cat_dir`
            (``$DEEPMAT_CAT_DIR``, else ``../shared/data/catvnoncat``).

    Returns:
        a :class:`CatData` with ``X_train (209, 12288)``, ``y_train (209,)``,
        ``X_test (50, 12288)``, ``y_test (50,)``, ``classes ["non-cat", "cat"]`` and the raw
        uint8 pictures.

    Raises:
        FileNotFoundError: the folder or one of the files does not exist (the message names the
            path and how to give another one).
        ValueError: a file is not HDF5, or lacks a key, or a key has the wrong shape or type.
        ImportError: h5py is not installed.
    """
    try:
        import h5py
    except ImportError as error:
        raise ImportError(f"load_catvnoncat needs h5py to read HDF5 files; {_INSTALL_ADVICE}") from error

    folder = Path(data_dir) if data_dir is not None else default_cat_dir()
    how = (
        "pass the folder holding train_catvnoncat.h5 and test_catvnoncat.h5 with "
        f"data_dir= (or --data-dir in the example script), or set ${CAT_DIR_ENV}"
    )
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise FileNotFoundError(f"cat/non-cat data folder {str(folder)!r} {what}; {how}")
    parts: dict[str, tuple[np.ndarray, np.ndarray, list[str]]] = {}
    for split, name in CAT_FILES.items():
        path = folder / name
        if not path.is_file():
            raise FileNotFoundError(f"{str(path)!r} does not exist; {how}")
        parts[split] = _read_cat_file(h5py, path, split)
    images_train, y_train, classes = parts["train"]
    images_test, y_test, _ = parts["test"]
    return CatData(
        X_train=images_train.reshape(images_train.shape[0], -1) / 255.0,
        y_train=y_train,
        X_test=images_test.reshape(images_test.shape[0], -1) / 255.0,
        y_test=y_test,
        classes=classes,
        images_train=images_train,
        images_test=images_test,
    )


def _read_cat_file(h5py: Any, path: Path, split: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``(images (m, 64, 64, 3) uint8, labels (m,) int64, classes)`` from one HDF5 file."""
    x_key, y_key = f"{split}_set_x", f"{split}_set_y"
    expected = (
        f"expected an HDF5 file with keys {x_key!r} (m, 64, 64, 3) uint8, {y_key!r} (m,) "
        "labels 0/1 and 'list_classes' [b'non-cat', b'cat']"
    )
    try:
        with h5py.File(path, "r") as f:
            missing = [
                key for key in (x_key, y_key, "list_classes") if not isinstance(f.get(key), h5py.Dataset)
            ]
            if missing:
                raise ValueError(
                    f"{str(path)!r} lacks the dataset(s) {missing} (it has {sorted(f)}); {expected}"
                )
            images, labels, raw_classes = f[x_key][()], f[y_key][()], f["list_classes"][()]
    except OSError as error:  # h5py raises OSError for files that are not HDF5 or are truncated
        raise ValueError(f"{str(path)!r} cannot be read as HDF5 ({error}); {expected}") from None

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
        classes = [
            c.decode("utf-8") if isinstance(c, bytes) else str(c) for c in np.atleast_1d(raw_classes).tolist()
        ]
    except (AttributeError, UnicodeDecodeError):
        classes = []
    if len(classes) != 2:
        raise ValueError(
            f"{str(path)!r}: 'list_classes' is {raw_classes!r}; expected two names, e.g. [b'non-cat', b'cat']"
        )
    return images, labels, classes


def load_image(path: str | os.PathLike, size: tuple[int, int] = (64, 64)) -> np.ndarray:
    """One picture file as a row ``(1, width·height·3)`` float64 in [0, 1], ready for
    ``net.predict_proba``.

    The file (PNG, JPEG or anything else Pillow reads) is turned upright by its EXIF
    orientation, converted to RGB (grey levels are repeated in the three channels; an alpha
    channel is dropped), resized to ``size`` with bilinear resampling (Pillow's
    ``Image.Resampling.BILINEAR``, anti-aliased when shrinking — the interpolation of
    ``scipy.misc.imresize`` that the course used), then flattened row-major and divided by 255,
    exactly as :func:`load_catvnoncat` prepares its pictures.

    Args:
        path: the picture file.
        size: ``(width, height)`` in pixels; the default ``(64, 64)`` gives 12288 values, what the
            cat models expect.

    Raises:
        FileNotFoundError: ``path`` does not exist or is not a file.
        ValueError: Pillow cannot read it as a picture; ``size`` is not two positive integers.
        ImportError: Pillow is not installed.
    """
    if (
        not isinstance(size, (tuple, list))
        or len(size) != 2
        or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s > 0 for s in size)
    ):
        raise ValueError(f"size must be (width, height), two positive integers; received {size!r}")
    try:
        from PIL import Image, ImageOps
    except ImportError as error:
        raise ImportError(f"load_image needs Pillow to read pictures; {_INSTALL_ADVICE}") from error

    file = Path(path)
    if not file.is_file():
        what = "is not a file" if file.exists() else "does not exist"
        raise FileNotFoundError(f"image {str(file)!r} {what}; expected a PNG or JPEG picture")
    try:
        with Image.open(file) as image:
            image = ImageOps.exif_transpose(image).convert("RGB")
            image = image.resize((int(size[0]), int(size[1])), Image.Resampling.BILINEAR)
            pixels = np.asarray(image, dtype=np.uint8)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        # UnidentifiedImageError and truncated files are OSErrors; some decoders raise SyntaxError
        raise ValueError(
            f"image {str(file)!r} cannot be read as a picture ({error}); expected a PNG or JPEG file"
        ) from None
    return pixels.reshape(1, -1) / 255.0


# -- the Dataset container ----------------------------------------------------------------------


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

    The arrays are stored as given, not copied; the constructor checks that the shapes agree.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: list[str]

    def __post_init__(self) -> None:
        for part in ("train", "test"):
            X, y = getattr(self, f"X_{part}"), getattr(self, f"y_{part}")
            if not isinstance(X, np.ndarray) or X.ndim != 2:
                raise ValueError(
                    f"Dataset X_{part} must be a 2-D array (n_samples, n_features); received {_describe(X)}"
                )
            if not isinstance(y, np.ndarray) or y.ndim != 1 or y.shape[0] != X.shape[0]:
                raise ValueError(
                    f"Dataset y_{part} must be a 1-D array of {X.shape[0]} labels, one per row of "
                    f"X_{part}; received {_describe(y)}"
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
            f"Dataset(X_train={_describe(self.X_train)}, y_train={_describe(self.y_train)}, "
            f"X_test={_describe(self.X_test)}, y_test={_describe(self.y_test)}, "
            f"classes=[{', '.join(names)}] ({len(self.classes)}))"
        )


def _describe(value: Any) -> str:
    """``(60000, 784) float32`` for an array, the type's name for anything else."""
    if isinstance(value, np.ndarray):
        return f"{value.shape} {value.dtype}"
    return f"a {type(value).__name__}"


def _existing_file(path: str | os.PathLike, what: str, expected: str = "") -> Path:
    """``Path(path)``, or FileNotFoundError naming it when it is not a file."""
    file = Path(path)
    if not file.is_file():
        state = "is not a file" if file.exists() else "does not exist"
        raise FileNotFoundError(f"{what} {str(file)!r} {state}{'; ' + expected if expected else ''}")
    return file


# -- IDX files (MNIST, Fashion-MNIST) -----------------------------------------------------------

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
    types are byte-swapped in place to the machine's order): no further copy is made, and the
    declared size is checked against the bytes actually present before anything of that size is
    allocated, so a corrupt header cannot ask for terabytes.

    Returns:
        a writable, native-endian array of the declared shape, e.g. ``(60000, 28, 28)`` uint8
        for ``train-images-idx3-ubyte`` and ``(60000,)`` uint8 for ``train-labels-idx1-ubyte``.

    Raises:
        FileNotFoundError: ``path`` does not exist or is not a file.
        ValueError: the header is not an IDX header, the data are shorter or longer than the
            header declares, or the gzip stream is corrupt (each message names the file).
    """
    file = _existing_file(path, "IDX file")
    with open(file, "rb") as raw:
        compressed = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        if not compressed:
            return _read_idx(raw, repr(str(file)), os.fstat(raw.fileno()).st_size)
        try:
            with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                return _read_idx(stream, f"{str(file)!r} (gzip)", None)
        except (EOFError, zlib.error, gzip.BadGzipFile) as error:
            raise ValueError(
                f"{str(file)!r} starts with the gzip bytes 1f 8b but cannot be decompressed ({error}); "
                "expected a complete gzip stream: the file is corrupt or truncated"
            ) from None


def _read_idx(stream: Any, name: str, file_size: int | None) -> np.ndarray:
    """The array stored in an open IDX ``stream`` (``file_size`` is None when compressed)."""
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

    if file_size is not None:
        found = file_size - header_size
        if found != declared:
            raise _idx_size_error(name, shape, dtype, declared, found)
        buffer = bytearray(declared)
        view, filled = memoryview(buffer), 0
        while filled < declared and (n := stream.readinto(view[filled:])):
            filled += n
        if filled != declared:  # the file shrank while being read
            raise _idx_size_error(name, shape, dtype, declared, filled)
    else:  # compressed: the data size is known only by decompressing, so grow up to `declared`
        buffer = bytearray()
        while len(buffer) < declared and (chunk := stream.read(min(_CHUNK, declared - len(buffer)))):
            buffer += chunk
        found = len(buffer)
        if found == declared:
            while chunk := stream.read(_CHUNK):  # count trailing data without keeping it
                found += len(chunk)
        if found != declared:
            raise _idx_size_error(name, shape, dtype, declared, found)

    data = np.frombuffer(buffer, dtype=dtype)
    if not dtype.isnative:
        data = data.byteswap(inplace=True).view(dtype.newbyteorder("="))
    return data.reshape(shape)


def _read_up_to(stream: Any, n: int) -> bytes:
    """Up to ``n`` bytes of ``stream`` (fewer only at the end of the stream)."""
    parts, remaining = [], n
    while remaining > 0 and (part := stream.read(remaining)):
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def _idx_size_error(
    name: str, shape: tuple[int, ...], dtype: np.dtype, declared: int, found: int
) -> ValueError:
    what = "truncated" if found < declared else "trailing data after the declared values"
    return ValueError(
        f"{name}: the header declares shape {shape} of {dtype.name}, i.e. {declared} bytes of data, "
        f"but found {found} bytes after the header ({what}); expected exactly {declared}"
    )


FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
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
_IDX_FILES_TEXT = ", ".join(f"{name}[.gz]" for pair in IDX_FILES.values() for name in pair)


def load_fashion_mnist(data_dir: str | os.PathLike = FASHION_MNIST_DIR, dtype: str = "float32") -> Dataset:
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
        "install the data with `apt-get install -y dataset-fashion-mnist` (it puts them in "
        f"{FASHION_MNIST_DIR}) or pass data_dir= the folder that holds them"
    )
    return _load_idx_folder(data_dir, dtype, FASHION_MNIST_CLASSES, "Fashion-MNIST", how, uint8_only=True)


def load_mnist(data_dir: str | os.PathLike, dtype: str = "float32") -> Dataset:
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
    return _load_idx_folder(data_dir, dtype, MNIST_CLASSES, "MNIST", how, uint8_only=True)


def _load_idx_folder(
    data_dir: str | os.PathLike,
    dtype: str,
    classes: list[str] | None,
    what: str,
    how: str,
    uint8_only: bool = False,
) -> Dataset:
    """The four IDX files of ``data_dir`` as a :class:`Dataset`; uint8 pictures are divided by
    255, other types only converted to ``dtype``; ``classes=None`` names labels '0', '1', …"""
    resolved = check_dtype_name(dtype)
    folder = Path(data_dir)
    if not folder.is_dir():
        state = "is not a folder" if folder.exists() else "does not exist"
        raise FileNotFoundError(
            f"{what} folder {str(folder)!r} {state}; expected a folder holding {_IDX_FILES_TEXT}; {how}"
        )
    parts: dict[str, tuple[np.ndarray, np.ndarray]] = {}
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
        if labels.shape[0] != m:
            raise ValueError(
                f"{str(images_path)!r} holds {m} pictures but {str(labels_path)!r} holds "
                f"{labels.shape[0]} labels; expected one label per picture"
            )
        y = labels.astype(np.int64)
        if classes is not None and y.size and (y.min() < 0 or y.max() >= len(classes)):
            raise ValueError(
                f"{str(labels_path)!r} holds labels {int(y.min())}..{int(y.max())}; expected "
                f"0..{len(classes) - 1}, one per {what} class"
            )
        rows = images.reshape(m, -1)  # a view: the file's buffer is row-major already
        X = scale(rows, 255, resolved) if images.dtype == np.uint8 else rows.astype(resolved)
        parts[split] = (X, y)
        del images, rows  # free each split's pictures before reading the next
    if classes is None:
        classes = _label_names(parts["train"][1], parts["test"][1])
    (X_train, y_train), (X_test, y_test) = parts["train"], parts["test"]
    return Dataset(X_train, y_train, X_test, y_test, classes=classes)


def _find_idx_file(folder: Path, name: str, what: str, how: str) -> Path:
    """``folder/name`` or ``folder/name.gz``, whichever exists (the uncompressed one first)."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    held = sorted(p.name for p in folder.iterdir())
    listing = ", ".join(held[:12]) + (", …" if len(held) > 12 else "") if held else "nothing"
    raise FileNotFoundError(
        f"{what}: neither {name} nor {name}.gz is in {str(folder)!r} (it holds {listing}); "
        f"expected {_IDX_FILES_TEXT}; {how}"
    )


def _label_names(*labels: np.ndarray) -> list[str]:
    """'0', '1', … up to the largest integer label (no names for non-integer targets)."""
    if not all(y.dtype.kind in "iu" for y in labels) or not any(y.size for y in labels):
        return []
    return [str(i) for i in range(max(int(y.max()) for y in labels if y.size) + 1)]


# -- scikit-learn's digits ----------------------------------------------------------------------


def load_digits(dtype: str = "float32", test_fraction: float = 0.2, seed: int | None = 0) -> Dataset:
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
    if (
        isinstance(test_fraction, bool)
        or not isinstance(test_fraction, (int, float, np.integer, np.floating))
        or not 0 < test_fraction < 1
    ):
        raise ValueError(f"test_fraction must be a number in (0, 1); received {test_fraction!r}")
    try:
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError as error:
        raise ImportError(
            "load_digits needs scikit-learn, which ships the 8×8 digits; install it with: "
            "pip install scikit-learn (or pip install deepmat[data])"
        ) from error
    bunch = sklearn_load_digits()
    X = scale(bunch.data, 16, resolved)
    y = np.asarray(bunch.target).astype(np.int64, copy=False)
    X_train, X_test, y_train, y_test = train_val_split(X, y, val_fraction=test_fraction, seed=seed)
    return Dataset(X_train, y_train, X_test, y_test, classes=MNIST_CLASSES)


# -- your own files: HDF5, .npz, CSV --------------------------------------------------------------


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
    X, y = _read_hdf5(path, (x_key, y_key))
    _check_pair(str(path), x_key, X, y_key, y)
    return X, y


def _read_hdf5(path: str | os.PathLike, keys: tuple[str, ...], optional: tuple[str, ...] = ()) -> list[Any]:
    """The datasets ``keys`` (then ``optional`` ones, None when absent) of one HDF5 file."""
    try:
        import h5py
    except ImportError as error:
        raise ImportError(f"reading HDF5 files needs h5py; {_INSTALL_ADVICE}") from error
    file = _existing_file(path, "HDF5 file", f"expected an HDF5 file with datasets {list(keys)}")
    try:
        with h5py.File(file, "r") as f:
            missing = [key for key in keys if not isinstance(f.get(key), h5py.Dataset)]
            if missing:
                names: list[str] = []
                f.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None)
                raise ValueError(
                    f"{str(file)!r} has no dataset {', '.join(map(repr, missing))}; expected "
                    f"{list(keys)}; the file holds {_key_list(names)}"
                )
            values = [f[key][()] for key in keys]
            values += [f[key][()] if isinstance(f.get(key), h5py.Dataset) else None for key in optional]
            return values
    except OSError as error:  # h5py raises OSError for files that are not HDF5 or are truncated
        raise ValueError(
            f"{str(file)!r} cannot be read as HDF5 ({error}); expected an HDF5 file with datasets {list(keys)}"
        ) from None


def _key_list(names: list[str]) -> str:
    shown = ", ".join(repr(n) for n in sorted(names)[:20])
    return f"[{shown}{', …' if len(names) > 20 else ''}]" if names else "no datasets at all"


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
    X, y = _read_npz(path, (x_key, y_key))
    _check_pair(str(path), x_key, X, y_key, y)
    return X, y


def _read_npz(path: str | os.PathLike, keys: tuple[str, ...], optional: tuple[str, ...] = ()) -> list[Any]:
    """The arrays ``keys`` (then ``optional`` ones, None when absent) of one .npz archive."""
    expected = f"expected an .npz archive (np.savez) with arrays {list(keys)}"
    file = _existing_file(path, ".npz file", expected)
    with open(file, "rb") as f:
        start = f.read(4)
    if start[:2] != b"PK":  # every zip archive starts with a "PK" record
        found = start.hex(" ") if start else "none (the file is empty)"
        raise ValueError(f"{str(file)!r} is not an .npz archive: first bytes {found}; {expected}")
    try:
        archive = np.load(file, allow_pickle=False)
    except Exception as error:  # zipfile.BadZipFile, OSError, ValueError, EOFError, ...
        raise ValueError(f"{str(file)!r} cannot be read as an .npz archive ({error}); {expected}") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):  # pragma: no cover - a zip is always an NpzFile
        raise ValueError(f"{str(file)!r} holds a single array, not an archive; {expected}")
    with archive:
        missing = [key for key in keys if key not in archive.files]
        if missing:
            raise ValueError(
                f"{str(file)!r} has no array {', '.join(map(repr, missing))}; {expected}; the archive "
                f"holds {_key_list(archive.files)}"
            )
        values = []
        for key in (*keys, *optional):
            if key not in archive.files:
                values.append(None)
                continue
            try:
                values.append(archive[key])
            except ValueError as error:
                if "allow_pickle" in str(error):
                    raise ValueError(
                        f"{str(file)!r}: {key!r} is an object array, which only unpickling can read, and "
                        "deepmat never unpickles (it can run arbitrary code); save numbers, e.g. "
                        "np.savez(path, X=X.astype(np.float64), y=y.astype(np.int64))"
                    ) from None
                raise ValueError(f"{str(file)!r}: {key!r} cannot be read ({error})") from None
            except Exception as error:  # a corrupt member: BadZipFile, zlib.error, EOFError, ...
                raise ValueError(f"{str(file)!r}: {key!r} cannot be read ({error}); {expected}") from None
    return values


def _check_pair(source: str, x_key: str, X: Any, y_key: str, y: Any) -> None:
    """Raise unless ``X`` and ``y`` are numeric arrays with as many samples each."""
    for key, value in ((x_key, X), (y_key, y)):
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "biuf" or value.ndim == 0:
            raise ValueError(
                f"{source!r}: {key!r} is {_describe(value)}; expected an array of numbers with one "
                "sample per row"
            )
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
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise ValueError(f"delimiter must be one character; received {delimiter!r}")
    if not (isinstance(skip_header, bool) or skip_header == "auto"):
        raise ValueError(f"skip_header must be 'auto', True or False; received {skip_header!r}")
    if isinstance(label_column, bool) or not isinstance(label_column, (int, np.integer, str)):
        raise TypeError(
            f"label_column must be a column index or a header name; received {label_column!r} "
            f"({type(label_column).__name__})"
        )
    file = _existing_file(path, "CSV file", "expected a text file of comma-separated numbers")
    name = str(file)
    features, labels = array("d"), array("d")
    n_columns = label_index = first_line = 0
    header: list[str] | None = None
    try:
        with open(file, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f, delimiter=delimiter)
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue  # a blank line
                line = reader.line_num
                if not n_columns:  # the first line: the header, or the first data row
                    n_columns, first_line = len(row), line
                    if skip_header is True or (skip_header == "auto" and _numbers(row) is None):
                        header = row
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
                labels.append(values.pop(label_index))
                features.extend(values)
    except UnicodeDecodeError as error:
        raise ValueError(f"{name!r} is not UTF-8 text ({error}); expected a CSV file of numbers") from None
    except csv.Error as error:
        raise ValueError(
            f"{name!r} cannot be read as CSV ({error}); expected a CSV file of numbers"
        ) from None
    n = len(labels)
    if n == 0:
        what = "holds only a header line" if header is not None else "is empty"
        raise ValueError(f"{name!r} {what}; expected lines of {delimiter!r}-separated numbers")
    X = np.frombuffer(features, dtype=np.float64).reshape(n, n_columns - 1)  # no copy
    y = np.frombuffer(labels, dtype=np.float64)
    whole = np.isfinite(y).all() and np.abs(y).max() < 2**53 and (y == np.floor(y)).all()
    return X, (y.astype(np.int64) if whole else y)


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


# -- any of them, by name or by path ------------------------------------------------------------

#: The names :func:`load_dataset` knows.
DATASET_NAMES = ("cat", "digits", "fashion-mnist", "mnist")
_ARRAY_KEYS = ("X_train", "y_train", "X_test", "y_test")
_NPZ_SUFFIXES = (".npz",)
_HDF5_SUFFIXES = (".h5", ".hdf5", ".hdf")


def load_dataset(name_or_path: str | os.PathLike, **kwargs: Any) -> Dataset:
    """A :class:`Dataset` by name or by path.

    Names (case-insensitive, ``_`` or ``-``):

    - ``"fashion-mnist"``: :func:`load_fashion_mnist` (kwargs ``data_dir``, ``dtype``);
    - ``"mnist"``: :func:`load_mnist`, which needs ``data_dir=``;
    - ``"digits"``: :func:`load_digits` (``dtype``, ``test_fraction``, ``seed``);
    - ``"cat"``: :func:`load_catvnoncat` (``data_dir``; ``dtype`` defaults to its float64),
      classes ``["non-cat", "cat"]``.

    Paths (write ``./digits`` for a folder that shares a name):

    - a folder holding the four IDX files of MNIST's layout (uint8 pictures are divided by 255;
      kwargs ``dtype``, ``classes``);
    - an ``.npz`` or ``.h5``/``.hdf5`` file with arrays ``X_train``, ``y_train``, ``X_test``,
      ``y_test`` and optionally ``classes`` (kwargs ``dtype``, ``classes``): X is flattened to
      rows (a view), uint8 X is divided by 255 and other X converted to ``dtype``, integer y
      becomes int64.

    Without names from the file or ``classes=``, integer labels are named '0', '1', ….

    Raises:
        ValueError: an unknown name (the message lists the valid ones), a file of another kind.
        FileNotFoundError: a path that does not exist.
        TypeError: a keyword the chosen loader does not take.
    """
    if isinstance(name_or_path, str):
        key = name_or_path.strip().lower().replace("_", "-")
        loaders = {
            "fashion-mnist": load_fashion_mnist,
            "mnist": _mnist_by_name,
            "digits": load_digits,
            "cat": _cat_by_name,
        }
        if key in loaders:
            return loaders[key](**kwargs)
        looks_like_path = (
            os.sep in name_or_path
            or "/" in name_or_path
            or Path(name_or_path).suffix.lower() in (*_NPZ_SUFFIXES, *_HDF5_SUFFIXES)
        )
        if not looks_like_path and not Path(name_or_path).exists():
            error = unknown_name("dataset", name_or_path, DATASET_NAMES)
            raise ValueError(f"{error}, or the path of a folder of IDX files, an .npz or an .h5/.hdf5 file")
    path = Path(name_or_path)
    if path.is_dir():
        return _idx_folder_by_path(path, **kwargs)
    expected = (
        f"expected a folder of IDX files, or an .npz or .h5/.hdf5 file with arrays {', '.join(_ARRAY_KEYS)}"
    )
    if not path.exists():
        raise FileNotFoundError(f"data set {str(path)!r} does not exist; {expected}")
    suffix = path.suffix.lower()
    if suffix in _NPZ_SUFFIXES:
        return _arrays_by_path(path, _read_npz, **kwargs)
    if suffix in _HDF5_SUFFIXES:
        return _arrays_by_path(path, _read_hdf5, **kwargs)
    raise ValueError(f"cannot tell what kind of data set {str(path)!r} is; {expected}")


def _mnist_by_name(data_dir: str | os.PathLike | None = None, dtype: str = "float32") -> Dataset:
    if data_dir is None:
        raise ValueError(
            "load_dataset('mnist') needs data_dir=, the folder holding the four MNIST IDX files "
            f"({_IDX_FILES_TEXT})"
        )
    return load_mnist(data_dir, dtype)


def _cat_by_name(data_dir: str | os.PathLike | None = None, dtype: str = "float64") -> Dataset:
    resolved = check_dtype_name(dtype)
    cat = load_catvnoncat(data_dir)
    return Dataset(
        cat.X_train.astype(resolved, copy=False),
        cat.y_train,
        cat.X_test.astype(resolved, copy=False),
        cat.y_test,
        classes=cat.classes,
    )


def _idx_folder_by_path(path: Path, dtype: str = "float32", classes: list[str] | None = None) -> Dataset:
    how = f"pass the folder that holds {_IDX_FILES_TEXT}"
    return _load_idx_folder(path, dtype, classes, "IDX data set", how)


def _arrays_by_path(
    path: Path, read: Any, dtype: str = "float32", classes: list[str] | None = None
) -> Dataset:
    """A :class:`Dataset` from the four arrays (and optional ``classes``) of an .npz/HDF5 file."""
    resolved = check_dtype_name(dtype)
    X_train, y_train, X_test, y_test, stored_classes = read(path, _ARRAY_KEYS, ("classes",))
    parts = []
    for part, X, y in (("train", X_train, y_train), ("test", X_test, y_test)):
        _check_pair(str(path), f"X_{part}", X, f"y_{part}", y)
        rows = X.reshape(X.shape[0], -1)
        X = scale(rows, 255, resolved) if rows.dtype == np.uint8 else rows.astype(resolved, copy=False)
        y = y.reshape(-1) if y.ndim == 2 and 1 in y.shape else y  # (m, 1) labels
        y = y.astype(np.int64, copy=False) if y.dtype.kind in "biu" else y
        parts.append((X, y))
    (X_train, y_train), (X_test, y_test) = parts
    if classes is None and stored_classes is not None:
        classes = [
            c.decode("utf-8") if isinstance(c, bytes) else str(c) for c in np.ravel(stored_classes).tolist()
        ]
    if classes is None:
        classes = _label_names(y_train, y_test)
    return Dataset(X_train, y_train, X_test, y_test, classes=classes)
