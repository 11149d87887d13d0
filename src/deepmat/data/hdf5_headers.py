"""Headers of an HDF5 file read by deepmat itself, before libhdf5 trusts them:
:func:`check_superblock` and :func:`layout_class`.

libhdf5 acts on what some headers declare before it can check them against the file, and
fuzz/fuzz_hdf5.py found three such cases:

- the superblock's driver information block: a 4.9 KB file declaring a block of 188 MB made
  libhdf5 allocate and zero-fill it while merely opening the file. :func:`check_superblock`,
  run before the file is opened, requires the block (if any) to lie within the file, and gives
  the sizes the heap checks (:mod:`~deepmat.data.hdf5_heap`) need.
- a virtual dataset's mapping — source files, datasets and selections — is decoded as soon
  as the dataset is opened, before h5py can ask ``is_virtual``: a corrupt mapping made libhdf5
  loop forever and crash (a segmentation fault in ``H5S__hyper_deserialize``). deepmat reads no
  virtual dataset, so :func:`layout_class` reads the layout message of a dataset's object
  header, and a virtual one is refused before libhdf5 opens it.

The superblock (HDF5 file format, section II): the signature ``\x89HDF\r\n\x1a\n`` at byte 0,
512, 1024, 2048, …, then its version. Versions 0 and 1 give the sizes of addresses and lengths
at bytes 13 and 14 and, after 24 (version 0) or 28 (version 1) bytes, four addresses: base,
free space, end of file, driver information block — whose header is a version, 3 reserved
bytes, the size of the information (4 bytes) and an 8-byte driver name. Versions 2 and 3 give
the sizes at bytes 9 and 10 and the base address at byte 12.

The object header (section IV.A): version 1 — version, reserved, message count (2), reference
count (4), header size (4), padding to 8, then messages of type (2), size (2), flags (1), 3
reserved bytes and data; version 2 — ``OHDR``, version 2, flags, optional times (16 bytes) and
attribute phase change values (4), the size of chunk 0 (1, 2, 4 or 8 bytes), then messages of
type (1), size (2), flags (1), optional creation order (2) and data, and a checksum. A
continuation message (type 0x10) points at another block of messages (address, length;
version 2 blocks start with ``OCHK``). The layout message (type 0x08) holds the class after
its version byte (versions 3 and up) or after version and dimensionality (versions 1 and 2):
0 compact, 1 contiguous, 2 chunked, 3 virtual.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

from deepmat.data.checks import size_text

#: The layout class of a virtual dataset (``H5D_VIRTUAL``).
VIRTUAL = 3
_LAYOUT, _CONTINUATION = 0x08, 0x10
_MAX_BLOCKS = 256  # continuation blocks followed at most: an honest header has a few


_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_SIZES = (2, 4, 8, 16, 32)  # the sizes of addresses and lengths libhdf5 reads


def check_superblock(path: Path, name: str) -> tuple[int, int, int] | None:
    """Refuse the HDF5 file ``path`` (``name`` as messages show it) if its superblock declares
    a driver information block that does not lie within the file; return the superblock's
    ``(size of addresses, size of lengths, base address)``, or None when there is no superblock
    of a version (0 to 3) and sizes (2 to 32 bytes) libhdf5 reads (it refuses the file then)."""
    with open(path, "rb") as f:
        file_size = os.fstat(f.fileno()).st_size
        position = 0
        while position < file_size:  # where libhdf5 looks for the superblock
            f.seek(position)
            start = f.read(32)
            if start[:8] == _SIGNATURE:
                break
            position = 512 if position == 0 else position * 2
        else:
            return None
        version = start[8]
        address_size, length_size = (start[13], start[14]) if version in (0, 1) else (start[9], start[10])
        if version > 3 or address_size not in _SIZES or length_size not in _SIZES:
            return None
        if version >= 2:
            return address_size, length_size, _number(start, 12, address_size)
        f.seek(position + (24 if version == 0 else 28))
        addresses = f.read(4 * address_size)
        base, driver = _number(addresses, 0, address_size), _number(addresses, 3 * address_size, address_size)
        if driver == (1 << (8 * address_size)) - 1:
            return address_size, length_size, base  # no driver information block: h5py's files
        f.seek(base + driver)
        header = f.read(16)
        size = _number(header, 4, 4) if len(header) == 16 else None
        if size is None or base + driver + 16 + size > file_size:
            found = "runs past the end of the file" if size is not None else "lies outside the file"
            raise ValueError(
                f"{name}: its superblock's driver information block at byte {base + driver} {found}"
                f"{f' ({size_text(16 + size)})' if size is not None else ''}, which libhdf5 would "
                f"allocate and read; expected it within the file's {size_text(file_size)}: the file is "
                "corrupt or crafted"
            )
        return address_size, length_size, base


def _number(raw: bytes, at: int, size: int) -> int:
    return int.from_bytes(raw[at : at + size], "little")


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
