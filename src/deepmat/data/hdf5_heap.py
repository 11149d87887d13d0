"""The heaps of an HDF5 file, checked before libhdf5 reads them: :func:`check_heaps` and
:func:`read_vlen_strings`.

libhdf5 trusts its heaps. It keeps variable-length data — strings, the mappings of virtual
datasets — in global heap collections (``GCOL``), and a free-space object of size 0 in one
makes it loop forever (found twice by fuzz/fuzz_hdf5.py, libhdf5 2.0's
``H5HG__cache_heap_deserialize``: reading variable-length names, and merely opening a virtual
dataset). It keeps the names of an old-style group's links in a local heap (``HEAP``), and a
free list that runs in a circle makes it allocate a node per step until memory runs out
(found by the same fuzzer: a 2 KB file; ``H5HL__fl_deserialize``). So:

- :func:`check_heaps`, before libhdf5 opens the file, finds every heap libhdf5 could read in
  one pass over the file — each ``GCOL`` version 1 header of a size within the file, each
  ``HEAP`` version 0 header whose data segment lies in the file — and walks it as libhdf5
  would: the objects of a collection, each moving forward and inside it, the collections
  together no larger than the file; the free list of a local heap, refusing a circle;
- :func:`read_vlen_strings` reads a string dataset's descriptors — each string's length
  (4 bytes), the address of its collection and the index of its object — from the file first,
  and refuses a string longer than its object and strings adding up to more than the file (many
  descriptors may share one object: a small file would yield gigabytes of strings). Only
  datasets stored contiguously (h5py's default) are read; names fit in fixed-length strings
  (``np.array(names, dtype="S")``) otherwise.
"""

from __future__ import annotations

import mmap
import os
from pathlib import Path
from typing import Any, BinaryIO

from deepmat.data.checks import size_text

_SIGNATURE = b"GCOL\x01"  # and version 1, the only one
_LOCAL = b"HEAP"


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
        for length, address, index in strings:
            if length == 0:
                continue  # libhdf5 reads nothing for an empty string
            if address not in collections:
                collections[address] = _collection(f, base + address, length_size, file_size, name)[1]
            if collections[address].get(index, -1) < length:
                raise ValueError(
                    f"{name}: a string of dataset {key!r} of {length} bytes names object {index} of the "
                    f"heap collection at {address}, which holds no such object that long; expected each "
                    "string in its object: the file is corrupt or crafted"
                )
    return dataset[()]


def _number(raw: bytes, at: int, size: int) -> int:
    return int.from_bytes(raw[at : at + size], "little")


def check_heaps(path: Path, name: str, address_size: int, length_size: int, base: int) -> None:
    """Refuse the HDF5 file ``path`` (``name`` as messages show it; the sizes of addresses and
    lengths and the base address from its superblock) if a heap libhdf5 could read would make
    it loop or read outside it: a global heap collection (a ``GCOL`` version 1 header whose size
    fits in the file; all of them adding up to no more than the file) or the free list of a
    local heap (a ``HEAP`` version 0 header whose data segment lies in the file)."""
    with open(path, "rb") as f:
        file_size = os.fstat(f.fileno()).st_size
        if file_size == 0:
            return
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            budget, at = file_size, data.find(_SIGNATURE)
            while at >= 0:
                size = _number(data, at + 8, length_size)
                if 8 + length_size <= size <= file_size - at:
                    budget -= _collection(f, at, length_size, file_size, name)[0]
                    if budget < 0:
                        raise ValueError(
                            f"{name}: its global heap collections add up to more than the file; expected "
                            "collections that do not overlap: the file is corrupt or crafted"
                        )
                at = data.find(_SIGNATURE, at + 1)
            at = data.find(_LOCAL)
            while at >= 0:
                _local_heap(data, at, address_size, length_size, base, name)
                at = data.find(_LOCAL, at + 1)


def _local_heap(data: mmap.mmap, position: int, address_size: int, length_size: int, base: int, name: str) -> None:  # fmt: skip
    """Walk the free list of the local heap at ``position`` as libhdf5's ``H5HL__fl_deserialize``
    does, refusing a cycle: libhdf5 would allocate a node for each step, without end (found by
    fuzz/fuzz_hdf5.py: a 2 KB file took all memory). The header: ``HEAP``, version 0, 3
    reserved bytes, the data segment's size and the offset of the first free block (lengths),
    the data segment's address; a free block starts with the offset of the next one and its
    own size (lengths); 1 ends the list."""
    segment_size = _number(data, position + 8, length_size)
    block = _number(data, position + 8 + length_size, length_size)
    start = base + _number(data, position + 8 + 2 * length_size, address_size)
    if data[position + 4 : position + 5] != b"\x00" or start + segment_size > len(data):
        return  # libhdf5 refuses the heap, or cannot read its data segment
    seen: set[int] = set()
    while block != 1 and block < segment_size:  # past the segment, libhdf5 stops with an error
        if block in seen:
            raise ValueError(
                f"{name}: the free list of the local heap at byte {position} runs in a circle (block "
                f"{block} comes back); expected a list that ends: libhdf5 would allocate without end; "
                "the file is corrupt or crafted"
            )
        seen.add(block)
        following = _number(data, start + block, length_size)
        if following == 0 or block + _number(data, start + block + length_size, length_size) > segment_size:
            return  # libhdf5 stops with an error
        block = following


def _collection(f: BinaryIO, position: int, length_size: int, file_size: int, name: str) -> tuple[int, dict[int, int]]:  # fmt: skip
    """``(size, {index: object size})`` of the global heap collection at ``position``, walked as
    libhdf5 walks it, refusing what would make libhdf5 loop or read outside it."""
    header = 8 + length_size  # "GCOL", version 1, 3 reserved bytes, the collection's size
    f.seek(position)
    data = f.read(header)
    size = _number(data, 8, length_size) if len(data) == header else 0
    if data[:5] != _SIGNATURE or not header <= size <= file_size - position:
        raise _bad_collection(name, position, "header is not GCOL version 1 of a size within the file")
    data += f.read(size - header)
    objects: dict[int, int] = {}
    object_header = 8 + length_size  # index (2), reference count (2), reserved (4), the object's size
    at = header
    while at + object_header <= size:  # what is left after the last object is free space
        index, object_size = _number(data, at, 2), _number(data, at + 8, length_size)
        need = object_size if index == 0 else object_header + (object_size + 7) // 8 * 8
        if need <= 0 or at + need > size:
            raise _bad_collection(name, position, f"object {index} at byte {at} is {object_size} bytes long")
        if index:
            objects[index] = object_size
        at += need
    return size, objects


def _bad_collection(name: str, position: int, found: str) -> ValueError:
    return ValueError(
        f"{name}: the global heap collection at byte {position}, which libhdf5 would read, is malformed: "
        f"its {found}; expected a well-formed collection (libhdf5 loops forever on some): the file is "
        "corrupt or crafted"
    )
