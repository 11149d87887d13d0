"""The hostile data files of tests/test_hostile_files.py, built for real in a folder: each
builder writes one file (or folder) and returns its path. The secret files that hostile HDF5
files point at are ``secret.h5`` (a dataset X, 3×4 float64) and ``secret.bin`` (its 96 raw
bytes), written by :func:`secrets`."""

from __future__ import annotations

import gzip
import io
import struct
import zipfile
import zlib
from pathlib import Path

import h5py
import numpy as np
from numpy.lib import format as npy

SECRET = np.arange(12, dtype=np.float64).reshape(3, 4) + 0.5
SPLIT = ("X_train", "y_train", "X_test", "y_test")


def secrets(folder: Path) -> list[Path]:
    """secret.h5 and secret.bin, which no load may read."""
    with h5py.File(folder / "secret.h5", "w") as f:
        f["X"] = SECRET
    (folder / "secret.bin").write_bytes(SECRET.tobytes())
    return [folder / "secret.h5", folder / "secret.bin"]


# -- HDF5 ------------------------------------------------------------------------------------------


def h5(path: Path, **datasets: object) -> Path:
    """An HDF5 file of ``datasets`` (a value is an array, a link, or a callable that makes the
    dataset in the open file)."""
    with h5py.File(path, "w") as f:
        for key, value in datasets.items():
            if callable(value):
                value(f, key)
            else:
                f[key] = value
    return path


def xy(**datasets: object) -> dict[str, object]:
    """A pair X (3, 4), y (3,) for load_hdf5(path, "X", "y"), with ``datasets`` replacing them."""
    return {"X": np.ones((3, 4)), "y": np.array([0, 1, 0]), **datasets}


def split(**datasets: object) -> dict[str, object]:
    """The four arrays of load_split, 3 + 2 samples of 4 features, with ``datasets`` replacing them."""
    return {
        "X_train": np.ones((3, 4)),
        "y_train": np.array([0, 1, 0]),
        "X_test": np.ones((2, 4)),
        "y_test": np.array([1, 0]),
        **datasets,
    }


def external_storage(f: h5py.File, key: str) -> None:
    f.create_dataset(key, shape=(3, 4), dtype="f8", external=[("secret.bin", 0, 96)])


def virtual(f: h5py.File, key: str) -> None:
    layout = h5py.VirtualLayout(shape=(3, 4), dtype="f8")
    layout[:] = h5py.VirtualSource("secret.h5", "X", shape=(3, 4))
    f.create_virtual_dataset(key, layout)


def never_written(shape: tuple[int, ...], **options: object):
    """A dataset declared but never written: HDF5 reads it back as its fill value."""

    def make(f: h5py.File, key: str) -> None:
        f.create_dataset(key, shape=shape, dtype="f8", **options)

    return make


def first_chunk_only(f: h5py.File, key: str) -> None:
    """800 MB declared in chunks of 8 MB, one chunk written (zeros, which gzip shrinks ~1000:1)."""
    dataset = f.create_dataset(key, shape=(10**8,), dtype="f8", chunks=(10**6,), compression="gzip")
    dataset[: 10**6] = 0.0


def big_chunks(f: h5py.File, key: str) -> None:
    """4 MiB of random float64 in one gzip chunk of 2**22 values (32 MiB, which HDF5 allocates
    whole to read them)."""
    values = np.random.default_rng(0).random(2**19)
    f.create_dataset(key, data=values, maxshape=(None,), chunks=(2**22,), compression="gzip")


def random_in_one_chunk(f: h5py.File, key: str) -> None:
    """12800 random float64 (100 KB, incompressible) in one gzip chunk of ~97 KB."""
    values = np.random.default_rng(0).random((12800, 1))
    f.create_dataset(key, data=values, chunks=(12800, 1), compression="gzip")


def vlen_numbers(f: h5py.File, key: str) -> None:
    dataset = f.create_dataset(key, (3,), dtype=h5py.vlen_dtype("f8"))
    for i in range(3):
        dataset[i] = np.arange(i + 1.0)


def references(f: h5py.File, key: str) -> None:
    f["target"] = np.zeros(3)
    dataset = f.create_dataset(key, (3,), dtype=h5py.ref_dtype)
    for i in range(3):
        dataset[i] = f["target"].ref


def chunked_strings(f: h5py.File, key: str) -> None:
    f.create_dataset(key, data=["a", "b"], dtype=h5py.string_dtype(), chunks=(2,))


def heap_object_of_size_0(path: Path) -> Path:
    """Class names ['a', 'b'] whose global heap collection lists, after 'a', a free-space object
    of size 0: libhdf5 2.0 loops forever reading it (a finding of fuzz/fuzz_hdf5.py)."""
    h5(path, **split(classes=["a", "b"]))
    data = bytearray(path.read_bytes())
    second = data.index(b"GCOL") + 16 + 16 + 8  # the collection's header, object 1's header and 'a'
    data[second : second + 2] = bytes(2)  # index 0: free space
    data[second + 8 : second + 16] = bytes(8)  # of size 0
    path.write_bytes(bytes(data))
    return path


def strings_sharing_one_object(path: Path) -> Path:
    """1000 class names whose descriptors all name the first one, 4000 bytes long: 4 MB of
    strings from a file of ~55 KB."""
    h5(path, **split(classes=["x" * 4000] + [""] * 999))
    with h5py.File(path) as f:
        offset = f["classes"].id.get_offset()
    data = bytearray(path.read_bytes())
    data[offset : offset + 16 * 1000] = data[offset : offset + 16] * 1000
    path.write_bytes(bytes(data))
    return path


def driver_block_of(size: int):
    """A builder: the 'split' file with a driver information block declaring ``size`` bytes, put
    at its end (the superblock's end-of-file address moved past it), so that libhdf5 opening the
    file allocates and zero-fills ``size`` bytes (a finding of fuzz/fuzz_hdf5.py)."""

    def build(path: Path) -> Path:
        h5(path, **split())
        data = bytearray(path.read_bytes())
        assert data[8] == 0 and data[13] == 8  # superblock version 0, 8-byte addresses
        end = len(data)
        data[24 + 16 : 24 + 24] = struct.pack("<Q", end + 16)  # end of file
        data[24 + 24 : 24 + 32] = struct.pack("<Q", end)  # driver information block
        data += bytes([0, 0, 0, 0]) + struct.pack("<I", size) + b"NCSAfami"
        path.write_bytes(bytes(data))
        return path

    return build


def local_heap_in_a_circle(path: Path) -> Path:
    """The 'split' file whose root group's local heap free list points back at its own first
    block: libhdf5 allocates a node per step of the list, without end (a finding of
    fuzz/fuzz_hdf5.py)."""
    h5(path, **split())
    data = bytearray(path.read_bytes())
    heap = data.index(b"HEAP")
    size, head, segment = struct.unpack_from("<QQQ", data, heap + 8)
    assert 0 < head < size  # h5py leaves a free block at the end of the names
    struct.pack_into("<Q", data, segment + head, head)  # the block's "next" is itself
    path.write_bytes(bytes(data))
    return path


# -- .npz ------------------------------------------------------------------------------------------


def npy_bytes(shape: tuple[int, ...], dtype: str, data: bytes) -> bytes:
    """A .npy member: magic, a header declaring ``shape`` and ``dtype``, then ``data`` as is."""
    out = io.BytesIO()
    npy.write_array_header_1_0(out, {"descr": dtype, "fortran_order": False, "shape": shape})
    return out.getvalue() + data


def npz(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def npz_arrays(**arrays: np.ndarray) -> dict[str, bytes]:
    """Real .npy members (np.save) for ``arrays``."""
    members = {}
    for key, value in arrays.items():
        out = io.BytesIO()
        np.save(out, value, allow_pickle=True)
        members[f"{key}.npy"] = out.getvalue()
    return members


def npz_forged_size(path: Path) -> Path:
    """A compressed member whose header declares 2**28 float64 (2 GiB) and whose zip entries say
    it inflates to that size, while its compressed data are a few hundred bytes."""
    members = npz_arrays(**split())
    members["X_train.npy"] = npy_bytes((2**28,), "<f8", bytes(800))
    npz(path, members)
    data = bytearray(path.read_bytes())
    size = len(members["X_train.npy"]) - 800 + 2**31
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # local header, central directory
        struct.pack_into("<I", data, _entry(data, signature, "X_train.npy") + offset, size)
    path.write_bytes(bytes(data))
    return path


def _entry(data: bytearray, signature: bytes, name: str) -> int:
    """The offset of the zip record ``signature`` (local or central) for the member ``name``."""
    name_offset = 30 if signature == b"PK\x03\x04" else 46
    start = -1
    while True:  # data.index raises ValueError when there is no such record
        start = data.index(signature, start + 1)
        if data[start + name_offset : start + name_offset + len(name)] == name.encode():
            return start


# -- IDX -------------------------------------------------------------------------------------------


def idx_header(type_code: int, shape: tuple[int, ...]) -> bytes:
    return bytes([0, 0, type_code, len(shape)]) + b"".join(struct.pack(">I", d) for d in shape)


def gzip_stream(header: bytes, zeros: int, noise: int = 0) -> bytes:
    """``header``, ``noise`` random bytes (incompressible) and ``zeros`` zero bytes,
    gzip-compressed (quickly: the zeros go in 1 MiB pieces)."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=6, mtime=0) as stream:
        stream.write(header + np.random.default_rng(0).bytes(noise))
        chunk = bytes(1 << 20)
        for start in range(0, zeros, len(chunk)):
            stream.write(chunk[: min(len(chunk), zeros - start)])
    return out.getvalue()


def idx_folder(folder: Path, train_labels: bytes | None = None, train_images: bytes | None = None) -> Path:
    """A folder of the four IDX files (6 train, 4 test pictures of 2×2), some replaced."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "train-images-idx3-ubyte": idx_header(0x08, (6, 2, 2)) + bytes(24),
        "train-labels-idx1-ubyte": idx_header(0x08, (6,)) + bytes([0, 1, 2, 0, 1, 2]),
        "t10k-images-idx3-ubyte": idx_header(0x08, (4, 2, 2)) + bytes(16),
        "t10k-labels-idx1-ubyte": idx_header(0x08, (4,)) + bytes([0, 1, 2, 0]),
    }
    if train_labels is not None:
        files["train-labels-idx1-ubyte"] = train_labels
    if train_images is not None:
        files["train-images-idx3-ubyte"] = train_images
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def labels_80_bytes() -> bytes:
    """An IDX label file of 80 bytes: int32 (type 0c), 18 labels, the last 2**31 - 1."""
    labels = [0, 1, 2] * 5 + [0, 1, 2**31 - 1]
    return idx_header(0x0C, (18,)) + b"".join(struct.pack(">i", v) for v in labels)


# -- pictures ----------------------------------------------------------------------------------------


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG whose header declares ``width`` × ``height`` RGB pixels, with almost no pixel data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(bytes(64)))
        + chunk(b"IEND", b"")
    )
    return path
