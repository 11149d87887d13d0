"""The checks every loader of :mod:`deepmat.data` makes before reading: the path it was given is
a file (or a folder), the optional package it needs is installed, and what the file declares
is something it could hold and deepmat may allocate.

Each failure is one clear exception naming the path, the package or the array:

- :func:`existing_file`, :func:`existing_folder`: ``FileNotFoundError`` "``<what> '<path>'`` does
  not exist" (or "is not a file" / "is not a folder"), followed by what was expected;
- :func:`optional_import`: ``ImportError`` ending in :data:`INSTALL_ADVICE`;
- :func:`check_declared_size`: ``ValueError`` when a file declares more data than it stores
  (more than :data:`MAX_COMPRESSION_RATIO` times its compressed bytes), and
  :func:`check_allocation`: ``ValueError`` when an array would exceed :func:`max_load_bytes`.

The limit. A loader allocates at most :func:`max_load_bytes` bytes for the arrays of one file
(their sum), and at most as much again for each array it converts (uint8 pictures to float32,
say), so a load stays within about half of memory. The limit is :data:`MAX_BYTES`, a quarter
of the memory the process may use (physical memory, or the address-space limit
``RLIMIT_AS`` when lower) — assign ``deepmat.data.checks.MAX_BYTES`` to change it — unless the
environment variable ``DEEPMAT_MAX_LOAD_BYTES`` (:data:`MAX_BYTES_ENV`) gives a number of bytes.
Sizes are checked from the file's headers before anything of that size is allocated, so a
3 KB file declaring terabytes is a ``ValueError``, never a ``MemoryError``.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from deepmat._checks import check_number, format_bytes

#: How to install the optional packages of the loaders (h5py, Pillow, scikit-learn).
INSTALL_ADVICE = "install it with: pip install deepmat[data]"

#: The environment variable that sets :func:`max_load_bytes` (a whole number of bytes).
MAX_BYTES_ENV = "DEEPMAT_MAX_LOAD_BYTES"

#: The most a compressed stream may inflate: deflate (gzip, zip, HDF5's gzip filter) writes at
#: least 2 bits for every 258 bytes it repeats, so it cannot exceed 258 · 8 / 2 = 1032:1 — zlib's
#: documented ceiling. A file declaring more than this many bytes per stored byte is crafted.
#: (Other codecs can go further — bzip2 and LZMA members of a zip, HDF5's scale-offset filter
#: on constant data — and such extreme files are refused too.)
MAX_COMPRESSION_RATIO = 1032

_GIB = 1 << 30


def _default_max_bytes() -> int:
    """A quarter of the memory this process may use: physical memory, or ``RLIMIT_AS`` when
    that is lower; a quarter of 16 GiB when neither can be read."""
    try:
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # not a POSIX system
        memory = 16 * _GIB
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY and 0 < soft < memory:
            memory = soft
    except (ImportError, OSError, ValueError):  # pragma: no cover - Windows
        pass
    return max(memory // 4, 1)


#: The bytes a loader may allocate for the arrays of one file (a quarter of the memory this
#: process may use); :data:`MAX_BYTES_ENV` in the environment takes precedence.
MAX_BYTES: int = _default_max_bytes()


def max_load_bytes() -> int:
    """The limit in force: ``$DEEPMAT_MAX_LOAD_BYTES`` when set, else :data:`MAX_BYTES`.

    Raises:
        ValueError: the environment variable is not a positive whole number of bytes.
    """
    raw = os.environ.get(MAX_BYTES_ENV, "").strip()
    if not raw:
        return MAX_BYTES
    try:
        value: object = int(raw.replace("_", ""))
    except ValueError:
        value = raw
    return check_number(value, f"${MAX_BYTES_ENV} (the bytes a loader may allocate)", 1, integer=True)


def size_text(n_bytes: int) -> str:
    """``"80000000000 bytes (74.5 GiB)"``: an exact count, then a readable one; past 2⁷⁰ bytes
    (declared by a header, never allocated) only the power of two, ``"about 2^8160 bytes"``."""
    if n_bytes >= 1 << 70:  # a float would overflow (IDX: 255 dimensions of 2**32 - 1)
        return f"about 2^{n_bytes.bit_length() - 1} bytes"
    return f"{n_bytes} bytes" if n_bytes < 1024 else f"{n_bytes} bytes ({format_bytes(n_bytes)})"


def check_allocation(name: str, what: str, n_bytes: int) -> None:
    """Raise ``ValueError`` when ``n_bytes`` is more than :func:`max_load_bytes`; the message reads
    ``"<name>: <what> <n_bytes> bytes, more than a loader may allocate …"``, so ``name`` is the
    file as messages show it (quoted) and ``what`` a clause such as ``"'X' as float32 needs"``."""
    limit = max_load_bytes()
    if n_bytes > limit:
        raise ValueError(
            f"{name}: {what} {size_text(n_bytes)}, more than a loader may allocate, {size_text(limit)}; "
            f"expected at most that (set ${MAX_BYTES_ENV} or deepmat.data.checks.MAX_BYTES to allow more)"
        )


def check_declared_size(name: str, what: str, declared: int, stored: int, compressed: bool) -> None:
    """Raise ``ValueError`` unless ``declared`` bytes (what a header says an array holds) could
    come from the ``stored`` bytes the file keeps for it — at most ``stored`` when
    uncompressed, ``stored`` × :data:`MAX_COMPRESSION_RATIO` when compressed — and are within
    :func:`max_load_bytes` (:func:`check_allocation`, with the same ``name`` and ``what``, a
    clause such as ``"the header declares shape (3, 4) of uint8, i.e."``)."""
    most = stored * MAX_COMPRESSION_RATIO if compressed else stored
    if declared > most:
        if not stored:
            how = "the file stores no data for it (parts never written read back as a fill value)"
        elif compressed:
            how = (
                f"its {size_text(stored)} of compressed data inflate to at most {size_text(most)} "
                f"({MAX_COMPRESSION_RATIO}:1, deflate's ceiling)"
            )
        else:
            how = f"the file stores only {size_text(stored)} for it"
        raise ValueError(
            f"{name}: {what} {size_text(declared)}, but {how}; expected no more data than the file "
            "holds: it is truncated, corrupt or crafted"
        )
    check_allocation(name, what, declared)


def existing_file(path: str | os.PathLike, what: str, expected: str = "") -> Path:
    """``Path(path)``, or FileNotFoundError ``"<what> '<path>' does not exist; <expected>"``
    (or ``is not a file``) when it is not a file."""
    return _existing(Path(path), Path.is_file, "file", what, expected)


def existing_folder(path: str | os.PathLike, what: str, expected: str = "") -> Path:
    """``Path(path)``, or FileNotFoundError ``"<what> '<path>' does not exist; <expected>"``
    (or ``is not a folder``) when it is not a folder."""
    return _existing(Path(path), Path.is_dir, "folder", what, expected)


def _existing(path: Path, is_kind: Callable[[Path], bool], kind: str, what: str, expected: str) -> Path:
    if not is_kind(path):
        state = f"is not a {kind}" if path.exists() else "does not exist"
        raise FileNotFoundError(f"{what} {str(path)!r} {state}{'; ' + expected if expected else ''}")
    return path


def optional_import(module: str, purpose: str) -> ModuleType:
    """``importlib.import_module(module)``, or ImportError ``"<purpose>; install it with: pip
    install deepmat[data]"`` when it is not installed."""
    try:
        importlib.import_module(
            module.partition(".")[0]
        )  # the package first, as `from PIL import Image` does
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(f"{purpose}; {INSTALL_ADVICE}") from error
