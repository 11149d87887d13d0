"""The storage layout of an HDF5 dataset, read from its object header without libhdf5:
:func:`layout_class`.

libhdf5 decodes a virtual dataset's mapping — source files, datasets and selections — as soon
as the dataset is opened, before h5py can ask ``is_virtual``, and a corrupt mapping made it
loop forever and crash (a segmentation fault in ``H5S__hyper_deserialize``; both found by
fuzz/fuzz_hdf5.py). deepmat reads no virtual dataset, so it reads the layout message of each
dataset's object header itself and refuses a virtual one before libhdf5 opens it.

The object header (HDF5 file format, section IV.A): version 1 — version, reserved, message
count (2), reference count (4), header size (4), padding to 8, then messages of type (2),
size (2), flags (1), 3 reserved bytes and data; version 2 — ``OHDR``, version 2, flags,
optional times (16 bytes) and attribute phase change values (4), the size of chunk 0 (1, 2, 4
or 8 bytes), then messages of type (1), size (2), flags (1), optional creation order (2) and
data, and a checksum. A continuation message (type 0x10) points at another block of messages
(address, length; version 2 blocks start with ``OCHK``). The layout message (type 0x08) holds
the class after its version byte (versions 3 and up) or after version and dimensionality
(versions 1 and 2): 0 compact, 1 contiguous, 2 chunked, 3 virtual.
"""

from __future__ import annotations

from typing import BinaryIO

#: The layout class of a virtual dataset (``H5D_VIRTUAL``).
VIRTUAL = 3
_LAYOUT, _CONTINUATION = 0x08, 0x10
_MAX_BLOCKS = 256  # continuation blocks followed at most: an honest header has a few


def layout_class(f: BinaryIO, position: int, address_size: int, length_size: int, base: int) -> int | None:
    """The layout class (0 compact, 1 contiguous, 2 chunked, 3 virtual) in the object header at
    byte ``position`` of the open file ``f`` (``address_size``, ``length_size``: the file's sizes
    of addresses and lengths; ``base``: where addresses count from), or None when the header
    cannot be read or holds no layout message."""
    f.seek(position)
    start = f.read(16)
    if start[:4] == b"OHDR" and len(start) >= 6 and start[4] == 2:
        flags = start[5]
        at = 6 + (16 if flags & 0x20 else 0) + (4 if flags & 0x10 else 0)
        size_bytes = 1 << (flags & 0x03)
        f.seek(position + at)
        chunk_size = int.from_bytes(f.read(size_bytes), "little")
        blocks = [(position + at + size_bytes, chunk_size, False)]
        prefix = 4 + (2 if flags & 0x04 else 0)  # type, size, flags [, creation order]
        version = 2
    elif start[:1] == b"\x01" and len(start) == 16:
        blocks = [(position + 16, int.from_bytes(start[8:12], "little"), False)]
        prefix, version = 8, 1
    else:
        return None
    for _ in range(_MAX_BLOCKS):
        if not blocks:
            return None
        block, size, continued = blocks.pop()
        f.seek(block)
        data = f.read(min(size, 1 << 20))  # an object header chunk is far smaller
        signed = version == 2 and continued  # "OCHK", the messages, a checksum
        at, end = (4, len(data) - 4) if signed else (0, len(data))
        while at + prefix <= end:
            kind = int.from_bytes(data[at : at + (2 if version == 1 else 1)], "little")
            length = int.from_bytes(data[at + (2 if version == 1 else 1) :][:2], "little")
            body = data[at + prefix : at + prefix + length]
            if kind == _LAYOUT and body:
                index = 2 if body[0] in (1, 2) else 1  # versions 1, 2: version, dimensionality, class
                return body[index] if len(body) > index else None
            if kind == _CONTINUATION and len(body) >= address_size + length_size:
                address = int.from_bytes(body[:address_size], "little")
                length_of_block = int.from_bytes(body[address_size:][:length_size], "little")
                blocks.append((base + address, length_of_block, True))
            at += prefix + length
    return None
