""".npz archives (``np.savez``, ``np.savez_compressed``), read without unpickling and without
trusting their headers: :func:`read_npz`, the one .npz reader of :mod:`deepmat.data`.

An .npz file is a zip archive of ``.npy`` members, each a header (dtype, shape) and the values.
Before an array is allocated, its header is read from the zip member
(``numpy.lib.format.read_magic``, ``read_array_header_1_0`` / ``_2_0``) and the array is
refused, with a ``ValueError`` naming the file and the array, when:

- it holds Python objects, which only unpickling (able to run any code) can read;
- its shape × itemsize is more than the member's declared uncompressed size
  (``ZipInfo.file_size``) after the header: a truncated or lying member;
- it is more than the member's compressed bytes (at most the archive's size) can hold: times
  :data:`~deepmat.data.checks.MAX_COMPRESSION_RATIO` for a compressed member, once for a
  stored one;
- the arrays read are more than :func:`~deepmat.data.checks.max_load_bytes` together.

So a 3 KB archive whose header declares 2⁴⁰ values is a ``ValueError``, never a ``MemoryError``.
"""

from __future__ import annotations

import math
import os
import zipfile
from typing import Any

import numpy as np
from numpy.lib import format as npy

from deepmat.data.checks import check_allocation, check_declared_size, existing_file, size_text
from deepmat.data.dataset import key_list

#: The file name endings of .npz archives.
NPZ_SUFFIXES = (".npz",)
_HEADER_READERS = {(1, 0): npy.read_array_header_1_0, (2, 0): npy.read_array_header_2_0}


def read_npz(path: str | os.PathLike, keys: tuple[str, ...], optional: tuple[str, ...] = ()) -> list[Any]:
    """The arrays ``keys`` (then ``optional`` ones, None when absent) of one .npz archive, as
    stored, after the checks of this module.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file is not an .npz archive; a key is missing (the message lists the keys
            it holds); an array is an object array, declares more than the archive holds or than
            a loader may allocate, or cannot be read.
    """
    expected = f"expected an .npz archive (np.savez) with arrays {list(keys)}"
    file = existing_file(path, ".npz file", expected)
    name = repr(str(file))
    with open(file, "rb") as f:
        start = f.read(4)
    if start[:2] != b"PK":  # every zip archive starts with a "PK" record
        found = start.hex(" ") if start else "none (the file is empty)"
        raise ValueError(f"{name} is not an .npz archive: first bytes {found}; {expected}")
    try:
        archive = zipfile.ZipFile(file)
    except Exception as error:  # zipfile.BadZipFile, OSError, ValueError, EOFError, ...
        raise ValueError(f"{name} cannot be read as an .npz archive ({error}); {expected}") from None
    with archive:
        # np.load's names: a member "X.npy" is the array "X"
        members = {info.filename.removesuffix(".npy"): info for info in archive.infolist()}
        missing = [key for key in keys if key not in members]
        if missing:
            raise ValueError(
                f"{name} has no array {', '.join(map(repr, missing))}; {expected}; the archive "
                f"holds {key_list(list(members))}"
            )
        wanted = [(key, members.get(key)) for key in (*keys, *optional)]
        archive_size = file.stat().st_size
        total = 0
        for key, info in wanted:
            if info is not None:
                total += _check_member(archive, info, key, name, archive_size, expected)
        check_allocation(name, f"the arrays {[key for key, info in wanted if info]} together need", total)
        return [None if info is None else _read(archive, info, key, name, expected) for key, info in wanted]


def _check_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, key: str, name: str, size: int, expected: str
) -> int:
    """The bytes of the array in ``info``, after reading its header and checking it against the
    member's sizes and the limit."""
    try:
        with archive.open(info) as member:
            version = npy.read_magic(member)
            if version not in _HEADER_READERS:
                raise ValueError(f".npy format version {version[0]}.{version[1]}, expected 1.0 or 2.0")
            shape, _, dtype = _HEADER_READERS[version](member)
            header = member.tell()
    except Exception as error:  # not .npy (bad magic or header), BadZipFile, zlib.error, EOFError, ...
        raise ValueError(f"{name}: {key!r} cannot be read as a .npy array ({error}); {expected}") from None
    if dtype.hasobject:
        raise ValueError(
            f"{name}: {key!r} is an object array, which only unpickling can read, and deepmat never "
            "unpickles (it can run arbitrary code); save numbers, e.g. "
            "np.savez(path, X=X.astype(np.float64), y=y.astype(np.int64))"
        )
    declared = math.prod(shape) * dtype.itemsize  # Python ints: no overflow, nothing allocated
    what = f"{key!r} declares {shape} {dtype}, i.e."
    if header + declared > info.file_size:
        raise ValueError(
            f"{name}: {what} {size_text(declared)}, but its member {info.filename!r} "
            f"holds {size_text(info.file_size - header)} after the {header}-byte header; expected at least "
            "the declared bytes: the archive is truncated or crafted"
        )
    compressed = info.compress_type != zipfile.ZIP_STORED
    check_declared_size(name, what, declared, min(info.compress_size, size), compressed)
    return declared


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, key: str, name: str, expected: str) -> np.ndarray:
    """The array of a checked member."""
    try:
        with archive.open(info) as member:
            return npy.read_array(member, allow_pickle=False)
    except Exception as error:  # a corrupt member: BadZipFile, zlib.error, EOFError, ValueError, ...
        raise ValueError(f"{name}: {key!r} cannot be read ({error}); {expected}") from None
