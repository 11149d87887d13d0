"""deepmat.data's data set loaders: IDX (MNIST, Fashion-MNIST), scikit-learn's digits, HDF5,
.npz, CSV, and load_dataset's dispatch by name or path."""

from __future__ import annotations

import dataclasses
import gzip
import struct
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from deepmat.data import (
    CAT_DIR_ENV,
    DATASET_NAMES,
    DATASETS,
    FASHION_MNIST_CLASSES,
    FASHION_MNIST_DIR,
    IDX_TYPES,
    Dataset,
    dataset_key,
    load_csv,
    load_csv_rows,
    load_dataset,
    load_digits,
    load_fashion_mnist,
    load_hdf5,
    load_idx,
    load_mnist,
    load_npz,
    read_samples,
)

FASHION = Path(FASHION_MNIST_DIR)
needs_fashion = pytest.mark.skipif(
    not FASHION.is_dir(),
    reason=f"{FASHION} not found (apt-get install -y dataset-fashion-mnist to run these tests)",
)
SIGNED = {0x09, 0x0B, 0x0C}
FLOATS = {0x0D, 0x0E}


def idx_bytes(array: np.ndarray, type_code: int, dims: tuple[int, ...] | None = None) -> bytes:
    """``array`` as an IDX file: 00 00 <type> <ndim>, big-endian uint32 sizes, big-endian values."""
    dims = array.shape if dims is None else dims
    header = bytes([0, 0, type_code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)
    return header + array.astype(IDX_TYPES[type_code]).tobytes()


def write_idx(path: Path, array: np.ndarray, type_code: int = 0x08, gz: bool = False, **kw: object) -> Path:
    data = idx_bytes(array, type_code, **kw)  # type: ignore[arg-type]
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def sample_values(type_code: int, shape: tuple[int, ...]) -> np.ndarray:
    """Values spanning the type's range: extremes, negatives for signed types, fractions for floats."""
    dtype = IDX_TYPES[type_code].newbyteorder("=")
    n = int(np.prod(shape))
    if type_code in FLOATS:
        values = np.linspace(-1e3, 1e3, n) / 7
        values[:2] = [np.finfo(dtype).max, np.finfo(dtype).tiny] if n >= 2 else values[:2]
    else:
        info = np.iinfo(dtype)
        values = np.linspace(info.min, info.max, n).round()
        values[: min(n, 2)] = [info.min, info.max][: min(n, 2)]
    return values.astype(dtype).reshape(shape)


def write_idx_folder(
    folder: Path, m_train: int = 6, m_test: int = 4, gz: bool = True, labels_max: int = 9
) -> Path:
    """A small MNIST-layout folder of the four IDX files (28×28 uint8 pictures)."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    for split, m in (("train", m_train), ("t10k", m_test)):
        images = rng.integers(0, 256, (m, 28, 28), dtype=np.uint8)
        images[0, 0, 0], images[0, 0, 1] = 0, 255
        labels = (np.arange(m) % (labels_max + 1)).astype(np.uint8)
        write_idx(folder / f"{split}-images-idx3-ubyte{suffix}", images, 0x08, gz=gz)
        write_idx(folder / f"{split}-labels-idx1-ubyte{suffix}", labels, 0x08, gz=gz)
    return folder


# -- load_idx on the real Fashion-MNIST files ---------------------------------------------------


@needs_fashion
def test_real_fashion_idx_files() -> None:
    images = load_idx(FASHION / "train-images-idx3-ubyte.gz")
    labels = load_idx(FASHION / "train-labels-idx1-ubyte.gz")
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (60000,) and labels.dtype == np.uint8
    assert set(np.unique(labels).tolist()) == set(range(10))
    assert images.max() == 255 and images.min() == 0
    assert images.flags.writeable and images.flags.c_contiguous
    assert load_idx(FASHION / "t10k-images-idx3-ubyte.gz").shape == (10000, 28, 28)
    assert load_idx(FASHION / "t10k-labels-idx1-ubyte.gz").shape == (10000,)


@pytest.fixture(scope="module")
def fashion() -> Dataset:
    if not FASHION.is_dir():
        pytest.skip(f"{FASHION} not found (apt-get install -y dataset-fashion-mnist to run these tests)")
    return load_fashion_mnist()


def test_load_fashion_mnist(fashion: Dataset) -> None:
    assert fashion.X_train.shape == (60000, 784) and fashion.X_train.dtype == np.float32
    assert fashion.X_test.shape == (10000, 784) and fashion.X_test.dtype == np.float32
    assert fashion.y_train.shape == (60000,) and fashion.y_train.dtype == np.int64
    assert fashion.y_test.shape == (10000,) and fashion.y_test.dtype == np.int64
    for X in (fashion.X_train, fashion.X_test):
        assert X.min() == 0.0 and X.max() == 1.0
    assert np.bincount(fashion.y_train).tolist() == [6000] * 10
    assert np.bincount(fashion.y_test).tolist() == [1000] * 10
    assert fashion.classes == FASHION_MNIST_CLASSES and fashion.classes[9] == "Ankle boot"
    # row-major flattening of each picture, divided by 255
    images = load_idx(FASHION / "t10k-images-idx3-ubyte.gz")
    np.testing.assert_allclose(fashion.X_test[7], images[7].ravel() / 255.0, rtol=1e-6)
    text = repr(fashion)
    assert "X_train=(60000, 784) float32" in text and "'Ankle boot'" in text and len(text) < 250


# -- load_idx round trips on small files ----------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gzip"])
@pytest.mark.parametrize("shape", [(7,), (3, 4, 5)], ids=["1d", "3d"])
@pytest.mark.parametrize("type_code", sorted(IDX_TYPES), ids=lambda t: f"type{t:02x}")
def test_idx_round_trip(tmp_path: Path, type_code: int, shape: tuple[int, ...], gz: bool) -> None:
    values = sample_values(type_code, shape)
    loaded = load_idx(write_idx(tmp_path / "a.idx", values, type_code, gz=gz))
    assert loaded.shape == shape
    assert loaded.dtype == IDX_TYPES[type_code].newbyteorder("=") and loaded.dtype.isnative
    np.testing.assert_array_equal(loaded, values)
    assert loaded.flags.writeable and loaded.flags.c_contiguous


def test_gzip_is_detected_by_content_not_name(tmp_path: Path) -> None:
    values = np.arange(12, dtype=np.uint8).reshape(3, 4)
    compressed_without_suffix = write_idx(tmp_path / "images.idx", values, gz=True)
    raw_with_gz_suffix = write_idx(tmp_path / "images.idx.gz", values, gz=False)
    np.testing.assert_array_equal(load_idx(compressed_without_suffix), values)
    np.testing.assert_array_equal(load_idx(raw_with_gz_suffix), values)


def test_idx_with_a_zero_dimension(tmp_path: Path) -> None:
    loaded = load_idx(write_idx(tmp_path / "e", np.zeros((0, 28, 28), np.uint8)))
    assert loaded.shape == (0, 28, 28) and loaded.dtype == np.uint8


def test_idx_reads_uint8_without_copies(tmp_path: Path) -> None:
    values = np.arange(400_000, dtype=np.int64).astype(np.uint8).reshape(4000, 100)
    path = write_idx(tmp_path / "big", values)
    tracemalloc.start()
    try:
        loaded = load_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(loaded, values)
    assert peak < values.nbytes * 1.1 + 200_000  # the data once, plus small change


# -- load_idx errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gzip"])
def test_truncated_idx(tmp_path: Path, gz: bool) -> None:
    data = idx_bytes(np.arange(100, dtype=np.uint8), 0x08)[:-10]
    path = tmp_path / "cut.idx"
    path.write_bytes(gzip.compress(data) if gz else data)
    with pytest.raises(ValueError, match=r"declares shape \(100,\).*100 bytes.*found 90.*truncated") as info:
        load_idx(path)
    assert "cut.idx" in str(info.value)


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gzip"])
def test_trailing_bytes_in_idx(tmp_path: Path, gz: bool) -> None:
    data = idx_bytes(np.arange(6, dtype=np.int32), 0x0C) + b"\x00\x01\x02"
    path = tmp_path / "long.idx"
    path.write_bytes(gzip.compress(data) if gz else data)
    with pytest.raises(ValueError, match=r"24 bytes of data, but found 27.*trailing") as info:
        load_idx(path)
    assert "long.idx" in str(info.value)


@pytest.mark.parametrize(
    "start",
    [
        b"\x01\x00\x08\x01",  # bad magic
        b"\x00\x01\x08\x01",
        b"\x00\x00\x07\x01",  # unknown type code
        b"\x00\x00\x0a\x01",
        b"\x00\x00\x08\x00",  # no dimensions
        b"PK\x03\x04",  # another format altogether
    ],
)
def test_not_an_idx_header(tmp_path: Path, start: bytes) -> None:
    path = tmp_path / "bad.idx"
    path.write_bytes(start + bytes(16))
    with pytest.raises(ValueError, match="not an IDX file: first bytes") as info:
        load_idx(path)
    message = str(info.value)
    assert start.hex(" ") in message and "expected 00 00 <type> <ndim>" in message and "bad.idx" in message


def test_header_cut_inside_the_sizes(tmp_path: Path) -> None:
    path = tmp_path / "short.idx"
    path.write_bytes(b"\x00\x00\x08\x03" + struct.pack(">I", 5) + b"\x00\x00")
    with pytest.raises(ValueError, match=r"declares 3 dimensions.*ends after 6 of them"):
        load_idx(path)


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gzip"])
def test_huge_declared_size_raises_without_allocating(tmp_path: Path, gz: bool) -> None:
    huge = (2**32 - 1,) * 3  # ~6e29 bytes of float64
    data = bytes([0, 0, 0x0E, 3]) + b"".join(struct.pack(">I", d) for d in huge) + bytes(64)
    path = tmp_path / "huge.idx"
    path.write_bytes(gzip.compress(data) if gz else data)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"declares shape \(4294967295, 4294967295, 4294967295\)"):
            load_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * 2**20


@pytest.mark.parametrize(
    "content",
    [
        b"\x1f\x8b" + b"this is not deflate data" * 4,
        gzip.compress(idx_bytes(np.zeros(1000, np.uint8), 0x08))[:-20],  # a gzip stream cut short
        gzip.compress(idx_bytes(np.zeros(1000, np.uint8), 0x08))[:-8] + b"\xff" * 8,  # bad CRC
    ],
    ids=["garbage", "cut", "bad-crc"],
)
def test_corrupt_gzip(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "corrupt.gz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="cannot be decompressed") as info:
        load_idx(path)
    assert "corrupt.gz" in str(info.value)


def test_empty_idx_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.idx"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=r"not an IDX file: first bytes none \(the file is empty\)"):
        load_idx(path)


def test_missing_idx_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nothing\.idx.*does not exist"):
        load_idx(tmp_path / "nothing.idx")
    with pytest.raises(FileNotFoundError, match="is not a file"):
        load_idx(tmp_path)


# -- load_fashion_mnist / load_mnist on small folders ---------------------------------------------


@pytest.mark.parametrize("gz", [True, False], ids=["gzip", "raw"])
def test_fashion_mnist_from_a_small_folder(tmp_path: Path, gz: bool) -> None:
    data = load_fashion_mnist(write_idx_folder(tmp_path / "f", gz=gz))
    assert data.X_train.shape == (6, 784) and data.X_train.dtype == np.float32
    assert data.X_test.shape == (4, 784) and data.y_test.dtype == np.int64
    assert data.X_train.min() == 0.0 and data.X_train.max() == 1.0
    assert data.y_train.tolist() == [0, 1, 2, 3, 4, 5]
    assert data.classes == FASHION_MNIST_CLASSES
    images = load_idx(next((tmp_path / "f").glob("train-images*")))
    np.testing.assert_array_equal(data.X_train, (images.reshape(6, -1) / 255.0).astype(np.float32))


def test_mnist_from_a_small_folder_float64(tmp_path: Path) -> None:
    data = load_mnist(write_idx_folder(tmp_path / "m"), dtype="float64")
    assert data.X_train.dtype == np.float64 and data.classes == [str(d) for d in range(10)]
    images = load_idx(tmp_path / "m" / "t10k-images-idx3-ubyte.gz")
    np.testing.assert_array_equal(data.X_test, images.reshape(4, -1) / 255.0)


def test_compressed_and_uncompressed_files_can_be_mixed(tmp_path: Path) -> None:
    folder = write_idx_folder(tmp_path / "f", gz=True)
    labels = folder / "train-labels-idx1-ubyte.gz"
    (folder / "train-labels-idx1-ubyte").write_bytes(gzip.decompress(labels.read_bytes()))
    labels.unlink()
    assert load_fashion_mnist(folder).y_train.shape == (6,)


def test_missing_fashion_folder_says_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as info:
        load_fashion_mnist(tmp_path / "absent")
    message = str(info.value)
    assert "apt-get install -y dataset-fashion-mnist" in message and "data_dir" in message
    assert "absent" in message and "train-images-idx3-ubyte[.gz]" in message


def test_missing_idx_file_in_folder_is_named(tmp_path: Path) -> None:
    folder = write_idx_folder(tmp_path / "f")
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(
        FileNotFoundError, match=r"neither t10k-labels-idx1-ubyte nor t10k-labels-idx1-ubyte\.gz"
    ):
        load_fashion_mnist(folder)


def test_images_and_labels_counts_must_agree(tmp_path: Path) -> None:
    folder = write_idx_folder(tmp_path / "f")
    write_idx(folder / "train-labels-idx1-ubyte.gz", np.zeros(5, np.uint8), gz=True)
    with pytest.raises(ValueError, match=r"holds 6 pictures but .*train-labels.* holds 5 labels"):
        load_fashion_mnist(folder)


def test_labels_out_of_range(tmp_path: Path) -> None:
    folder = write_idx_folder(tmp_path / "f", labels_max=12, m_train=13)
    with pytest.raises(ValueError, match=r"labels 0\.\.12; expected 0\.\.9"):
        load_mnist(folder)


def test_fashion_pictures_must_be_uint8(tmp_path: Path) -> None:
    folder = write_idx_folder(tmp_path / "f")
    write_idx(folder / "train-images-idx3-ubyte.gz", np.zeros((6, 28, 28)), 0x0D, gz=True)
    with pytest.raises(ValueError, match=r"float32; expected pictures .*uint8"):
        load_fashion_mnist(folder)


def test_bad_dtype_fails_before_reading(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown dtype 'int8'"):
        load_fashion_mnist(tmp_path / "absent", dtype="int8")


# -- load_npz -------------------------------------------------------------------------------------


def test_npz_good_file(tmp_path: Path) -> None:
    X, y = np.arange(12.0).reshape(4, 3), np.array([0, 1, 0, 1])
    np.savez(tmp_path / "d.npz", X=X, y=y)
    X2, y2 = load_npz(tmp_path / "d.npz")
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)
    np.savez_compressed(tmp_path / "c.npz", features=X, target=y)
    X3, _ = load_npz(tmp_path / "c.npz", x_key="features", y_key="target")
    np.testing.assert_array_equal(X3, X)


def test_npz_missing_key_lists_the_keys(tmp_path: Path) -> None:
    np.savez(tmp_path / "d.npz", data=np.zeros((2, 2)), labels=np.zeros(2))
    with pytest.raises(ValueError, match=r"no array 'X', 'y'.*holds \['data', 'labels'\]"):
        load_npz(tmp_path / "d.npz")


def test_npz_object_array_is_refused(tmp_path: Path) -> None:
    np.savez(tmp_path / "o.npz", X=np.zeros((2, 2)), y=np.array([{"a": 1}, None], dtype=object))
    with pytest.raises(ValueError, match=r"'y' is an object array.*never unpickles"):
        load_npz(tmp_path / "o.npz")


@pytest.mark.parametrize(
    "content", [b"", b"hello, world", b"\x93NUMPY\x01\x00"], ids=["empty", "text", "npy"]
)
def test_not_an_npz(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "x.npz").write_bytes(content)
    with pytest.raises(ValueError, match=r"x\.npz' is not an \.npz archive: first bytes"):
        load_npz(tmp_path / "x.npz")


def test_truncated_npz(tmp_path: Path) -> None:
    np.savez(tmp_path / "d.npz", X=np.zeros((50, 50)), y=np.zeros(50))
    data = (tmp_path / "d.npz").read_bytes()
    (tmp_path / "d.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"d.npz"):
        load_npz(tmp_path / "d.npz")


def test_npz_lengths_and_types_checked(tmp_path: Path) -> None:
    np.savez(tmp_path / "d.npz", X=np.zeros((3, 2)), y=np.zeros(4))
    with pytest.raises(ValueError, match=r"'X' holds 3 samples .* 'y' holds 4"):
        load_npz(tmp_path / "d.npz")
    np.savez(tmp_path / "s.npz", X=np.array([["a", "b"]]), y=np.zeros(1))
    with pytest.raises(ValueError, match=r"'X' is \(1, 2\) <U1; expected an array of numbers"):
        load_npz(tmp_path / "s.npz")


def test_npz_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"none\.npz' does not exist"):
        load_npz(tmp_path / "none.npz")


# -- load_csv -------------------------------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_with_header_auto_detected(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "a,b,label\n1,2,0\n3.5,-4e2,1\n\n5,6,2\n")
    X, y = load_csv(path)
    np.testing.assert_array_equal(X, [[1, 2], [3.5, -400], [5, 6]])
    assert X.dtype == np.float64 and X.shape == (3, 2) and X.flags.writeable
    assert y.dtype == np.int64 and y.tolist() == [0, 1, 2]


def test_csv_without_header(tmp_path: Path) -> None:
    X, y = load_csv(write(tmp_path / "d.csv", "1,2,0\n3,4,1\n"))
    assert X.tolist() == [[1, 2], [3, 4]] and y.tolist() == [0, 1]


def test_csv_label_column_choice(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "label,x1,x2\n7,1,2\n8,3,4\n")
    for column in (0, -3, "label", " label "):
        X, y = load_csv(path, label_column=column)
        assert y.tolist() == [7, 8] and X.tolist() == [[1, 2], [3, 4]]
    X, y = load_csv(path, label_column="x1")
    assert y.tolist() == [1, 3] and X.tolist() == [[7, 2], [8, 4]]
    X, y = load_csv(path, label_column=1)
    assert y.tolist() == [1, 3]


def test_csv_float_and_whole_labels(tmp_path: Path) -> None:
    _, y = load_csv(write(tmp_path / "f.csv", "1,0.5\n2,1.25\n"))
    assert y.dtype == np.float64 and y.tolist() == [0.5, 1.25]
    _, y = load_csv(write(tmp_path / "w.csv", "1,1.0\n2,-3.0\n"))
    assert y.dtype == np.int64 and y.tolist() == [1, -3]


def test_csv_other_delimiter(tmp_path: Path) -> None:
    X, y = load_csv(write(tmp_path / "d.csv", "1;2;3\n4;5;6\n"), delimiter=";")
    assert X.tolist() == [[1, 2], [4, 5]] and y.tolist() == [3, 6]


def test_csv_skip_header_choices(tmp_path: Path) -> None:
    numeric_first_line = write(tmp_path / "n.csv", "0,0,0\n1,2,3\n")
    assert load_csv(numeric_first_line)[1].tolist() == [0, 3]
    assert load_csv(numeric_first_line, skip_header=True)[1].tolist() == [3]
    header = write(tmp_path / "h.csv", "x,y,label\n1,2,3\n")
    with pytest.raises(ValueError, match=r"line 1, column 1: 'x' is not a number.*skip_header=True"):
        load_csv(header, skip_header=False)
    with pytest.raises(ValueError, match="skip_header must be 'auto', True or False"):
        load_csv(header, skip_header="yes")


def test_csv_ragged_row_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "a,b,c\n1,2,3\n4,5\n")
    with pytest.raises(ValueError, match=r"r.csv', line 3: 2 cells, expected 3 as on line 1 \(the header\)"):
        load_csv(path)
    path = write(tmp_path / "r2.csv", "1,2,3\n4,5,6,7\n")
    with pytest.raises(ValueError, match=r"line 2: 4 cells, expected 3 as on line 1;"):
        load_csv(path)


def test_csv_non_numeric_cell_names_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "x,y,label\n1,2,0\n3,oops,1\n")
    with pytest.raises(ValueError, match=r"c.csv', line 3, column 2: 'oops' is not a number"):
        load_csv(path)
    path = write(tmp_path / "e.csv", "1,2,0\n3,,1\n")
    with pytest.raises(ValueError, match=r"line 2, column 2: '' is not a number"):
        load_csv(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "is empty"), ("\n\n  \n", "is empty"), ("a,b,label\n", "holds only a header line")],
)
def test_csv_without_data(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_csv(write(tmp_path / "e.csv", text))


def test_csv_label_column_errors(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "1,2,3\n")
    with pytest.raises(ValueError, match=r"label_column=3 is out of range .* 3 columns; expected -3\.\.2"):
        load_csv(path, label_column=3)
    with pytest.raises(ValueError, match=r"names a column, but .* has no header line"):
        load_csv(path, label_column="label")
    header = write(tmp_path / "h.csv", "a,b\n1,2\n")
    with pytest.raises(ValueError, match=r"'target' is not in the header .* \['a', 'b'\]"):
        load_csv(header, label_column="target")
    with pytest.raises(TypeError, match="label_column must be a column index or a header name"):
        load_csv(path, label_column=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="expected at least 2"):
        load_csv(write(tmp_path / "one.csv", "1\n2\n"))


def test_csv_other_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"none\.csv' does not exist"):
        load_csv(tmp_path / "none.csv")
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00\x01,2\n")
    with pytest.raises(ValueError, match=r"bin\.csv.*not UTF-8"):
        load_csv(tmp_path / "bin.csv")
    with pytest.raises(ValueError, match="delimiter must be one character"):
        load_csv(write(tmp_path / "d.csv", "1,2\n"), delimiter=", ")


# -- load_hdf5 ------------------------------------------------------------------------------------


@pytest.fixture
def h5py() -> Any:
    return pytest.importorskip("h5py")


def test_hdf5_good_file_and_nested_keys(tmp_path: Path, h5py: Any) -> None:
    with h5py.File(tmp_path / "d.h5", "w") as f:
        f["images"] = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
        f["labels"] = np.array([1, 0])
        f["train/x"] = np.ones((3, 2))
        f["train/y"] = np.zeros(3)
    X, y = load_hdf5(tmp_path / "d.h5", "images", "labels")
    assert X.shape == (2, 3, 4) and X.dtype == np.uint8 and y.tolist() == [1, 0]
    X, y = load_hdf5(tmp_path / "d.h5", "train/x", "train/y")
    assert X.shape == (3, 2)


def test_hdf5_missing_key_lists_the_datasets(tmp_path: Path, h5py: Any) -> None:
    with h5py.File(tmp_path / "d.h5", "w") as f:
        f["a"] = np.zeros((2, 2))
        f["group/b"] = np.zeros(2)
    with pytest.raises(
        ValueError, match=r"no dataset 'X'; expected \['X', 'a'\]; the file holds \['a', 'group/b'\]"
    ):
        load_hdf5(tmp_path / "d.h5", "X", "a")
    with pytest.raises(ValueError, match="no dataset 'group'"):  # a group is not a dataset
        load_hdf5(tmp_path / "d.h5", "a", "group")


def test_hdf5_errors(tmp_path: Path, h5py: Any) -> None:
    (tmp_path / "bad.h5").write_bytes(b"not hdf5 at all" * 10)
    with pytest.raises(ValueError, match=r"bad\.h5' cannot be read as HDF5"):
        load_hdf5(tmp_path / "bad.h5", "X", "y")
    with pytest.raises(FileNotFoundError, match=r"none\.h5' does not exist"):
        load_hdf5(tmp_path / "none.h5", "X", "y")
    with h5py.File(tmp_path / "d.h5", "w") as f:
        f["X"] = np.zeros((3, 2))
        f["y"] = np.zeros(2)
        f["names"] = np.array([b"a", b"b", b"c"])
    with pytest.raises(ValueError, match=r"'X' holds 3 samples .* 'y' holds 2"):
        load_hdf5(tmp_path / "d.h5", "X", "y")
    with pytest.raises(ValueError, match=r"'names' is \(3,\) \|S1; expected an array of numbers"):
        load_hdf5(tmp_path / "d.h5", "names", "X")


# -- load_csv_rows and read_samples: the samples to predict ---------------------------------------


def test_csv_rows_keep_every_column(tmp_path: Path) -> None:
    rows = load_csv_rows(write(tmp_path / "d.csv", "x1,x2,x3\n1,2,3\n\n4,5.5,-6\n"))
    assert rows.dtype == np.float64 and rows.tolist() == [[1, 2, 3], [4, 5.5, -6]]
    assert load_csv_rows(write(tmp_path / "one.csv", "7\n8\n")).shape == (2, 1)  # one column is fine
    assert load_csv_rows(write(tmp_path / "s.csv", "1;2\n"), delimiter=";").tolist() == [[1, 2]]
    with pytest.raises(ValueError, match=r"n\.csv', line 1, column 2: 'b' is not a number.*skip_header=True"):
        load_csv_rows(write(tmp_path / "n.csv", "1,b\n"), skip_header=False)


def test_read_samples_from_a_csv_with_a_header(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", "a,b,c\n1,2,3\n4,5,6\n")
    X, names = read_samples(path, 3)
    assert X.dtype == np.float64 and X.tolist() == [[1, 2, 3], [4, 5, 6]]
    assert names == ["s.csv[0]", "s.csv[1]"]


def test_read_samples_drops_the_label_of_a_labelled_csv(tmp_path: Path) -> None:
    path = write(tmp_path / "l.csv", "x1,x2,label\n1,2,0\n3,4,1\n")
    X, _ = read_samples(path, 2)
    assert X.tolist() == [[1, 2], [3, 4]]
    X, _ = read_samples(path, 3)  # as many columns as features: nothing is dropped
    assert X.tolist() == [[1, 2, 0], [3, 4, 1]]
    with pytest.raises(ValueError, match=r"l\.csv' holds samples of 3 features but the model takes 5"):
        read_samples(path, 5)


def test_read_samples_names_the_line_and_column_of_a_bad_cell(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.csv", "x1,x2\n1,2\n3,oops\n")
    with pytest.raises(ValueError, match=r"bad\.csv', line 3, column 2: 'oops' is not a number"):
        read_samples(path, 2)
    path = write(tmp_path / "ragged.csv", "1,2\n3\n")
    with pytest.raises(ValueError, match=r"ragged\.csv', line 2: 1 cells, expected 2 as on line 1"):
        read_samples(path, 2)
    with pytest.raises(ValueError, match=r"empty\.csv' is empty"):
        read_samples(write(tmp_path / "empty.csv", "\n"), 2)


def test_read_samples_from_an_npz(tmp_path: Path) -> None:
    np.savez(tmp_path / "p.npz", X=np.arange(12, dtype=np.uint8).reshape(2, 2, 3))
    X, names = read_samples(tmp_path / "p.npz", 6)
    np.testing.assert_array_equal(X, np.arange(12).reshape(2, 6) / 255.0)
    assert names == ["p.npz[0]", "p.npz[1]"]
    np.savez(tmp_path / "one.npz", X=np.array([0.5, 0.25]))
    assert read_samples(tmp_path / "one.npz", 2)[0].tolist() == [[0.5, 0.25]]  # 1-D: one sample
    np.savez(tmp_path / "text.npz", X=np.array(["a", "b"]))
    with pytest.raises(ValueError, match=r"'X' is <U1 \(2,\); expected numbers"):
        read_samples(tmp_path / "text.npz", 2)
    np.savez(tmp_path / "other.npz", Y=np.zeros(2))
    with pytest.raises(ValueError, match=r"no array 'X'"):
        read_samples(tmp_path / "other.npz", 2)


# -- load_digits ----------------------------------------------------------------------------------


def test_digits_shapes_and_values() -> None:
    pytest.importorskip("sklearn")
    data = load_digits()
    assert data.X_train.shape == (1438, 64) and data.X_test.shape == (359, 64)
    assert data.X_train.dtype == np.float32 and data.y_train.dtype == np.int64
    assert data.X_train.min() == 0.0 and data.X_train.max() == 1.0
    assert data.classes == [str(d) for d in range(10)]
    assert set(data.y_train.tolist()) == set(range(10)) and set(data.y_test.tolist()) == set(range(10))
    assert load_digits(test_fraction=0.5, dtype="float64").X_test.shape == (898, 64)


def test_digits_split_is_reproducible_and_complete() -> None:
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    a, b, c = load_digits(seed=3), load_digits(seed=3), load_digits(seed=4)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.y_test, c.y_test)
    # the two parts together are the whole data set, each picture once
    everything = np.vstack([a.X_train, a.X_test]).astype(np.float64) * 16
    original = sklearn_datasets.load_digits().data

    def sort_rows(X: np.ndarray) -> np.ndarray:
        return X[np.lexsort(X.T[::-1])]

    np.testing.assert_array_equal(sort_rows(everything), sort_rows(original))


@pytest.mark.parametrize("fraction", [0, 1, 1.5, -0.1, True, "0.2"])
def test_digits_bad_test_fraction(fraction: object) -> None:
    with pytest.raises(ValueError, match="test_fraction must be a number in"):
        load_digits(test_fraction=fraction)  # type: ignore[arg-type]


def test_digits_without_sklearn_advises_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        load_digits()


# -- load_dataset ---------------------------------------------------------------------------------


def test_dataset_by_name_digits() -> None:
    pytest.importorskip("sklearn")
    data = load_dataset("digits", seed=1, dtype="float64")
    assert data.X_train.shape == (1438, 64) and data.X_train.dtype == np.float64


def test_dataset_by_name_fashion_and_mnist(tmp_path: Path) -> None:
    folder = write_idx_folder(tmp_path / "f")
    fashion = load_dataset("Fashion_MNIST", data_dir=folder)
    assert fashion.classes == FASHION_MNIST_CLASSES and fashion.X_train.shape == (6, 784)
    mnist = load_dataset("mnist", data_dir=folder, dtype="float64")
    assert mnist.classes[3] == "3" and mnist.X_test.dtype == np.float64
    with pytest.raises(ValueError, match=r"load_dataset\('mnist'\) needs data_dir="):
        load_dataset("mnist")


def write_cat_folder(folder: Path) -> Path:
    """A small pair of ``*_catvnoncat.h5`` files: 4 train and 2 test pictures."""
    h5py = pytest.importorskip("h5py")
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for split, m in (("train", 4), ("test", 2)):
        with h5py.File(folder / f"{split}_catvnoncat.h5", "w") as f:
            f[f"{split}_set_x"] = rng.integers(0, 256, (m, 64, 64, 3), dtype=np.uint8)
            f[f"{split}_set_y"] = np.arange(m) % 2
            f["list_classes"] = np.array([b"non-cat", b"cat"])
    return folder


def test_dataset_by_name_cat(tmp_path: Path) -> None:
    write_cat_folder(tmp_path)
    data = load_dataset("cat", data_dir=tmp_path)
    assert data.classes == ["non-cat", "cat"] and data.X_train.shape == (4, 12288)
    assert data.X_train.dtype == np.float64
    assert load_dataset("cat", data_dir=tmp_path, dtype="float32").X_test.dtype == np.float32


# -- the registry of data sets known by name -----------------------------------------------------


def test_importing_the_package_imports_no_optional_dependency() -> None:
    code = (
        "import sys, deepmat.data, deepmat.plotting; "
        "print(sorted(m for m in ('h5py', 'PIL', 'sklearn', 'matplotlib', 'deepmat.cli') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_registry_is_what_load_dataset_knows() -> None:
    assert DATASET_NAMES == tuple(sorted(DATASETS)) == ("cat", "digits", "fashion-mnist", "mnist")
    assert list(DATASETS) == ["fashion-mnist", "mnist", "digits", "cat"]  # the order help texts list
    fashion = DATASETS["fashion-mnist"]
    assert fashion.title == "Fashion-MNIST" and fashion.install == "apt-get install -y dataset-fashion-mnist"
    assert [name for name, info in DATASETS.items() if info.takes_dir] == ["fashion-mnist", "mnist", "cat"]
    assert DATASETS["mnist"].default_dir is None and DATASETS["digits"].default_dir is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        fashion.title = "other"  # type: ignore[misc]
    assert dataset_key(" Fashion_MNIST ") == "fashion-mnist" and dataset_key("./digits") is None


@pytest.mark.parametrize("name", list(DATASETS))
def test_every_registered_data_set_loads_by_name(tmp_path: Path, name: str) -> None:
    info = DATASETS[name]
    assert info.name == name and info.title and info.description
    if name == "digits":
        pytest.importorskip("sklearn")
        kwargs = {}
    elif name == "cat":
        kwargs = {"data_dir": write_cat_folder(tmp_path / "cat")}
    else:
        kwargs = {"data_dir": write_idx_folder(tmp_path / name)}
    assert info.takes_dir == ("data_dir" in kwargs)
    data = load_dataset(name.upper().replace("-", "_"), **kwargs)
    assert isinstance(data, Dataset) and data.X_train.shape[0] > 0 and data.X_test.shape[0] > 0
    assert data.classes and data.y_train.dtype == np.int64
    direct = info.loader(**kwargs)
    np.testing.assert_array_equal(direct.X_test, data.X_test)


def test_registry_default_folders_are_read_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import deepmat.data

    fashion = DATASETS["fashion-mnist"]
    assert fashion.default_dir() == FASHION_MNIST_DIR
    monkeypatch.setattr(deepmat.data, "FASHION_MNIST_DIR", str(tmp_path / "elsewhere"))
    assert fashion.default_dir() == str(tmp_path / "elsewhere")
    monkeypatch.setenv(CAT_DIR_ENV, str(tmp_path / "cats"))
    assert Path(DATASETS["cat"].default_dir()) == tmp_path / "cats"


def test_dataset_from_an_idx_folder(tmp_path: Path) -> None:
    folder = write_idx_folder(tmp_path / "mine", labels_max=4)
    data = load_dataset(folder)
    assert data.classes == ["0", "1", "2", "3", "4"] and data.X_train.shape == (6, 784)
    assert load_dataset(str(folder), classes=list("abcde")).classes == list("abcde")


def test_dataset_from_npz(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    np.savez(
        tmp_path / "d.npz",
        X_train=rng.integers(0, 256, (5, 4, 4), dtype=np.uint8),
        y_train=np.array([[0], [1], [2], [1], [0]]),
        X_test=rng.random((2, 16)),
        y_test=np.array([2, 0]),
        classes=np.array(["red", "green", "blue"]),
    )
    data = load_dataset(tmp_path / "d.npz")
    assert data.X_train.shape == (5, 16) and data.X_train.dtype == np.float32
    assert data.X_train.max() <= 1.0 and data.y_train.tolist() == [0, 1, 2, 1, 0]
    assert data.y_train.dtype == np.int64 and data.classes == ["red", "green", "blue"]
    np.savez(tmp_path / "bad.npz", X_train=np.zeros((2, 2)), y_train=np.zeros(2))
    with pytest.raises(ValueError, match=r"no array 'X_test', 'y_test'.*holds \['X_train', 'y_train'\]"):
        load_dataset(str(tmp_path / "bad.npz"))


def test_dataset_from_hdf5(tmp_path: Path) -> None:
    h5py = pytest.importorskip("h5py")
    with h5py.File(tmp_path / "d.hdf5", "w") as f:
        f["X_train"], f["y_train"] = np.ones((3, 2)), np.array([0, 1, 1])
        f["X_test"], f["y_test"] = np.zeros((1, 2)), np.array([1])
    data = load_dataset(tmp_path / "d.hdf5", dtype="float64")
    assert data.X_train.dtype == np.float64 and data.classes == ["0", "1"]
    np.testing.assert_array_equal(data.X_train, np.ones((3, 2)))


def test_dataset_unknown_name_lists_the_names() -> None:
    with pytest.raises(ValueError) as info:
        load_dataset("cifar10")
    message = str(info.value)
    assert "unknown dataset 'cifar10'" in message
    assert all(repr(name) in message for name in DATASET_NAMES)


def test_dataset_bad_paths(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"none\.npz' does not exist"):
        load_dataset(tmp_path / "none.npz")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_dataset(str(tmp_path / "nowhere"))
    (tmp_path / "d.txt").write_text("1,2\n")
    with pytest.raises(ValueError, match="cannot tell what kind of data set"):
        load_dataset(tmp_path / "d.txt")
    with pytest.raises(TypeError):
        load_dataset("digits", data_dir=tmp_path)


# -- Dataset --------------------------------------------------------------------------------------


def test_dataset_validates_and_is_frozen() -> None:
    X, y = np.zeros((3, 2)), np.zeros(3, np.int64)
    data = Dataset(X, y, X[:1], y[:1], classes=["a", "b"])
    assert data.X_train is X  # stored, not copied
    assert repr(data) == (
        "Dataset(X_train=(3, 2) float64, y_train=(3,) int64, X_test=(1, 2) float64, "
        "y_test=(1,) int64, classes=['a', 'b'] (2))"
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.X_train = X  # type: ignore[misc]
    with pytest.raises(ValueError, match=r"y_train must be a 1-D array of 3 labels.*received \(2,\)"):
        Dataset(X, y[:2], X, y, classes=[])
    with pytest.raises(ValueError, match=r"X_test must be a 2-D array.*received \(3,\)"):
        Dataset(X, y, y.astype(float), y, classes=[])
    with pytest.raises(ValueError, match="same number of features"):
        Dataset(X, y, np.zeros((3, 5)), y, classes=[])


def test_dataset_carries_optional_pictures() -> None:
    X, y = np.zeros((3, 4)), np.zeros(3, np.int64)
    pictures = np.zeros((3, 2, 2), np.uint8)
    data = Dataset(X, y, X[:1], y[:1], classes=["a"], images_train=pictures)
    assert data.images_train is pictures and data.images_test is None
    assert repr(data).endswith("classes=['a'] (1), images_train=(3, 2, 2) uint8)")
    assert Dataset(X, y, X, y, classes=[]).images_train is None  # without pictures, as before
    with pytest.raises(ValueError, match=r"images_test must be None or an array of 1 pictures.*\(2, 2, 2\)"):
        Dataset(X, y, X[:1], y[:1], classes=[], images_test=pictures[:2])
