"""HDF5 variable-length strings, checked before HDF5 reads them: :func:`read_vlen_strings`.

In the file, each string of a variable-length string dataset is a descriptor — its length
(4 bytes), the address of a global heap collection and the index of an object in it — and its
bytes are that object. libhdf5 trusts both: an object of size 0 in a corrupt collection makes
it loop forever (found by fuzzing, libhdf5 2.0's ``H5HG__cache_heap_deserialize``), and many
descriptors may share one object, so that a small file yields gigabytes of strings. So the
descriptors of a dataset stored contiguously (h5py's default) are read from the file first, and
before libhdf5 reads a string:

- every collection they point at must lie in the file, start with ``GCOL`` version 1, and be
  walked to its end, each object header inside it and each step moving forward; the collections
  together may not be larger than the file;
- every descriptor of a non-empty string must name an object of its collection at least as long;
- the strings together may not be longer than the file.

Variable-length strings stored otherwise (chunked, compact) are refused: names fit in fixed-length
strings (``np.array(names, dtype="S")``) or in h5py's default.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, BinaryIO

from deepmat.data.checks import size_text

_SIGNATURE = b"GCOL"


def read_vlen_strings(dataset: Any, path: Path, name: str, key: str) -> Any:
    """The variable-length strings of the h5py ``dataset`` (an object array of ``bytes``, of the
    dataset's shape), read by h5py once the checks of this module pass; ``name`` is the file
    ``path`` as messages show it, ``key`` the dataset's name.

    Raises:
        ValueError: a check fails (the message names the file and the dataset).
    """
    from h5py import h5d  # h5py is loaded: the dataset is one of its objects

    count = dataset.size
    if count == 0:
        return dataset[()]
    offset = dataset.id.get_offset()
    if dataset.id.get_create_plist().get_layout() != h5d.CONTIGUOUS or offset is None:
        raise ValueError(
            f"{name}: dataset {key!r} holds variable-length strings that are not stored contiguously; "
            "expected names as fixed-length strings (np.array(names, dtype='S')) or as h5py's "
            "variable-length strings stored contiguously (its default)"
        )
    file_plist = dataset.file.id.get_create_plist()
    address_size, length_size = file_plist.get_sizes()
    base = file_plist.get_userblock()  # heap addresses count from the superblock
    step = 4 + address_size + 4
    with open(path, "rb") as f:
        file_size = os.fstat(f.fileno()).st_size
        f.seek(offset)
        raw = f.read(count * step)
        if len(raw) < count * step:
            raise ValueError(
                f"{name}: the {count} string descriptors of dataset {key!r} run past the end of the "
                f"file; expected them in its {size_text(file_size)}: it is truncated or crafted"
            )
        strings = [
            (_number(raw, at, 4), _number(raw, at + 4, address_size), _number(raw, at + 4 + address_size, 4))
            for at in range(0, len(raw), step)
        ]
        total = sum(length for length, _, _ in strings)
        if total > file_size:
            raise ValueError(
                f"{name}: the strings of dataset {key!r} add up to {size_text(total)}, more than the "
                f"file's {size_text(file_size)}; expected names stored in the file: it is crafted"
            )
        collections: dict[int, dict[int, int]] = {}
        budget = file_size
        for length, address, index in strings:
            if length == 0:
                continue  # libhdf5 reads nothing for an empty string
            if address not in collections:
                size, collections[address] = _collection(f, base + address, length_size, file_size, name, key)
                budget -= size
                if budget < 0:
                    raise ValueError(
                        f"{name}: the heap collections of dataset {key!r} add up to more than the file; "
                        "expected collections that do not overlap: it is corrupt or crafted"
                    )
            if collections[address].get(index, -1) < length:
                raise ValueError(
                    f"{name}: a string of dataset {key!r} of {length} bytes names object {index} of the "
                    f"heap collection at {address}, which holds no such object that long; expected each "
                    "string in its object: the file is corrupt or crafted"
                )
    return dataset[()]


def _number(raw: bytes, at: int, size: int) -> int:
    return int.from_bytes(raw[at : at + size], "little")


def _collection(f: BinaryIO, position: int, length_size: int, file_size: int, name: str, key: str) -> tuple[int, dict[int, int]]:  # fmt: skip
    """``(size, {index: object size})`` of the global heap collection at ``position``, walked as
    libhdf5 walks it, refusing what would make libhdf5 loop or read outside it."""
    header = 8 + length_size  # "GCOL", version, 3 reserved bytes, the collection's size
    f.seek(position)
    data = f.read(header)
    size = _number(data, 8, length_size) if len(data) == header else 0
    if data[:4] != _SIGNATURE or data[4:5] != b"\x01" or not header <= size <= file_size - position:
        raise _bad_collection(name, key, position, "no GCOL version 1 header of a size within the file")
    data += f.read(size - header)
    objects: dict[int, int] = {}
    object_header = 8 + length_size  # index (2), reference count (2), reserved (4), the object's size
    at = header
    while at + object_header <= size:  # what is left after the last object is free space
        index, object_size = _number(data, at, 2), _number(data, at + 8, length_size)
        need = object_size if index == 0 else object_header + (object_size + 7) // 8 * 8
        if need <= 0 or at + need > size:
            raise _bad_collection(
                name, key, position, f"object {index} at byte {at} is {object_size} bytes long"
            )
        if index:
            objects[index] = object_size
        at += need
    return size, objects


def _bad_collection(name: str, key: str, position: int, found: str) -> ValueError:
    return ValueError(
        f"{name}: the strings of dataset {key!r} point at a global heap collection at byte {position} "
        f"whose {found}; expected a well-formed collection: the file is corrupt or crafted"
    )
