"""HDF5 files, read without leaving them: :func:`read_hdf5`, the one HDF5 reader of
:mod:`deepmat.data` (behind :func:`~deepmat.data.load_hdf5`, :func:`~deepmat.data.load_split`
and the cat files).

An HDF5 file can point elsewhere and can declare far more than it stores, and libhdf5 trusts
what it reads. Before reading any dataset, :func:`read_hdf5` refuses, with a ``ValueError``
naming the file and the dataset:

- first of all, before libhdf5 opens the file, a superblock declaring a driver information
  block beyond the file (:func:`~deepmat.data.hdf5_headers.check_superblock`), and a global
  heap collection or a local heap free list that would make libhdf5 loop
  (:func:`~deepmat.data.hdf5_heap.check_heaps`);
- a path that leaves the file: an external link on the way (to another file), soft links
  followed more than :data:`MAX_LINK_HOPS` times (a loop), a link of a user-defined kind —
  each component of a key is resolved as a link (``getlink=True``) before it is opened;
- data kept outside the file: virtual datasets (data mapped from other datasets), told by the
  layout message of their object header before libhdf5 opens them and decodes the mapping
  (:func:`~deepmat.data.hdf5_headers.layout_class`; ``Dataset.is_virtual`` checks again), and external
  storage (``Dataset.external``, raw data in other files);
- a size the file cannot hold: the dataset's bytes (``nbytes``), or one chunk's bytes
  (HDF5 decompresses whole chunks), more than the bytes it stores
  (``Dataset.id.get_storage_size()``, at most the file's size), times
  :data:`~deepmat.data.checks.MAX_COMPRESSION_RATIO` when a filter compresses them — so
  chunks never written, read back as fill values (a 2 KB file declaring 74 GiB), are refused;
  for big compressed datasets, a chunk stored so large that inflating it could exceed the
  limit; the datasets read more than :func:`~deepmat.data.checks.max_load_bytes` together;
- a type that is not what is expected: numbers (bool, integers, floats, ≥ 1 dimension) for
  data, strings for names (``text`` keys): fixed-length, or variable-length strings whose
  heap is checked first (:mod:`~deepmat.data.hdf5_heap`).

h5py is optional (``pip install deepmat[data]``), imported when a file is read.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from deepmat.data.checks import (
    MAX_COMPRESSION_RATIO,
    check_allocation,
    check_declared_size,
    existing_file,
    max_load_bytes,
    optional_import,
    size_text,
)
from deepmat.data.dataset import check_numbers, describe, key_list
from deepmat.data.hdf5_headers import VIRTUAL, check_superblock, layout_class
from deepmat.data.hdf5_heap import check_heaps, read_vlen_strings

#: The file name endings of HDF5 files.
HDF5_SUFFIXES = (".h5", ".hdf5", ".hdf")
#: How many soft links a key may go through: HDF5's own default (``H5L_NUM_LINKS``).
MAX_LINK_HOPS = 16


class MissingDatasets(ValueError):
    """Raised by :func:`read_hdf5` when a file lacks datasets it was asked for.

    Attributes:
        missing: the keys asked for that are not datasets of the file.
        top_level: the sorted names at the file's root (datasets and groups), for messages.
    """

    def __init__(self, message: str, missing: list[str], top_level: list[str]) -> None:
        super().__init__(message)
        self.missing, self.top_level = missing, top_level


def read_hdf5(
    path: str | os.PathLike,
    keys: tuple[str, ...],
    optional: tuple[str, ...] = (),
    expected: str = "",
    text: tuple[str, ...] = (),
) -> list[Any]:
    """The datasets ``keys`` (then ``optional`` ones, None when absent) of one HDF5 file, as
    stored, after the checks of this module.

    Args:
        path: the HDF5 file.
        keys: the datasets that must be there (paths such as ``"train/x"`` reach into groups).
        optional: datasets read when present.
        expected: what the messages say was expected (default: ``expected an HDF5 file with
            datasets [keys]``).
        text: the keys that hold names (strings); every other one must hold numbers.

    Returns:
        one array per key, in order: numbers as stored, names as an array of ``bytes`` (or of
        objects holding ``bytes``, for variable-length strings), of the dataset's shape.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file is not HDF5 (or is truncated), or a dataset fails a check of this
            module (the message names the file and the dataset).
        MissingDatasets: a key is missing; the message lists the datasets the file holds.
        ImportError: h5py is not installed.
    """
    h5py = optional_import("h5py", "reading HDF5 files needs h5py")
    expected = expected or f"expected an HDF5 file with datasets {list(keys)}"
    file = existing_file(path, "HDF5 file", expected)
    name = repr(str(file))
    try:
        sizes = check_superblock(file, name)  # before libhdf5 opens the file
        if sizes is not None:  # else libhdf5 refuses the file
            check_heaps(file, name, *sizes)
        with h5py.File(file, "r") as f, open(file, "rb") as raw:
            plist = f.id.get_create_plist()
            (address_size, length_size), base = plist.get_sizes(), plist.get_userblock()

            def layout_at(address: int) -> int | None:  # of the object at a hard link's address
                return layout_class(raw, base + address, address_size, length_size, base)

            found = [(key, _dataset(h5py, f, key, name, layout_at)) for key in (*keys, *optional)]
            missing = [key for key, dataset in found[: len(keys)] if dataset is None]
            if missing:
                names = _dataset_names(h5py, f, layout_at)
                raise MissingDatasets(
                    f"{name} has no dataset {', '.join(map(repr, missing))}; expected "
                    f"{list(keys)}; the file holds {key_list(names)}",
                    missing,
                    sorted(f),
                )
            file_size = file.stat().st_size
            present = [(key, dataset) for key, dataset in found if dataset is not None]
            total = sum(
                _check(h5py, dataset, key, str(file), file_size, key in text) for key, dataset in present
            )
            check_allocation(name, f"the datasets {[key for key, _ in present]} together need", total)
            return [None if dataset is None else _read(h5py, dataset, key, file) for key, dataset in found]
    except ValueError as error:
        if str(error).startswith(name):  # ours: every refusal of this module names the file first
            raise
        raise _unreadable(name, error, expected) from None
    except (OSError, RuntimeError, KeyError, TypeError, IndexError, AttributeError) as error:
        # what h5py raises for a file that is not HDF5, truncated or corrupt, by HDF5's error class
        raise _unreadable(name, error, expected) from None


def _unreadable(name: str, error: Exception, expected: str) -> ValueError:
    return ValueError(f"{name} cannot be read as HDF5 ({error}); {expected}")


def _dataset(h5py: Any, root: Any, key: str, name: str, layout_at: Callable[[int], int | None]) -> Any:
    """The dataset ``key`` of the open file ``root``, reached through hard links and soft links
    that stay in the file; None when there is none (or ``key`` names a group). A virtual dataset
    is refused before libhdf5 opens it (``layout_at``: the layout class of the object at an
    address, read by :func:`~deepmat.data.hdf5_headers.layout_class`)."""
    todo = [part for part in key.split("/") if part not in ("", ".")][::-1]  # a stack: next part last
    node, hops = root, 0
    while todo:
        part = todo.pop()
        if not isinstance(node, h5py.Group):
            return None
        try:
            link = node.get(part, getlink=True)
        except (TypeError, KeyError):  # h5py: "Unknown link type" (a user-defined link)
            raise _leaves(name, key, f"{part!r} is a user-defined link, which may point anywhere") from None
        if link is None:
            return None
        if isinstance(link, h5py.ExternalLink):
            raise _leaves(
                name, key, f"{part!r} is an external link to {link.path!r} in file {link.filename!r}"
            )
        if isinstance(link, h5py.SoftLink):
            hops += 1
            if hops > MAX_LINK_HOPS:
                raise ValueError(
                    f"{name}: the path to dataset {key!r} goes through more than {MAX_LINK_HOPS} soft "
                    f"links (a loop); expected at most {MAX_LINK_HOPS}"
                )
            if link.path.startswith("/"):
                node = root
            todo.extend(part for part in link.path.split("/")[::-1] if part not in ("", "."))
            continue
        if layout_at(node.id.links.get_info(part.encode()).u) == VIRTUAL:
            raise _virtual(name, key)
        node = node[part]  # a hard link: an object of this file
    return node if isinstance(node, h5py.Dataset) else None


def _dataset_names(h5py: Any, root: Any, layout_at: Callable[[int], int | None]) -> list[str]:
    """The paths of the datasets of the file (the first 1000), for messages, found through its
    hard links without opening a dataset (an object with a layout message is one)."""
    names: list[str] = []
    seen: set[int] = set()
    groups = [("", root)]
    while groups and len(names) < 1000:
        prefix, group = groups.pop()
        for part in sorted(group):  # the link names: nothing is opened
            link = group.id.links.get_info(part.encode())
            if link.type != h5py.h5l.TYPE_HARD or link.u in seen:
                continue
            seen.add(link.u)
            if layout_at(link.u) is not None:
                names.append(prefix + part)
            elif isinstance(child := group.get(part), h5py.Group):
                groups.append((f"{prefix}{part}/", child))
    return names


def _virtual(name: str, key: str) -> ValueError:
    return ValueError(
        f"{name}: dataset {key!r} is a virtual dataset, whose data are mapped from other datasets and "
        "files; deepmat reads nothing outside the file it is given; expected data stored in the file"
    )


def _leaves(name: str, key: str, how: str) -> ValueError:
    return ValueError(
        f"{name}: the path to dataset {key!r} leaves the file: {how}; deepmat reads nothing outside "
        "the file it is given; expected datasets stored in the file"
    )


def _check(h5py: Any, dataset: Any, key: str, source: str, file_size: int, text: bool) -> int:
    """Refuse ``dataset`` unless its data are in the file ``source``, of the expected kind and of
    a size the file can hold; return the bytes reading it allocates."""
    name = repr(source)
    if dataset.is_virtual:
        raise _virtual(name, key)
    if dataset.external:
        files = sorted({str(entry[0]) for entry in dataset.external})
        raise ValueError(
            f"{name}: dataset {key!r} keeps its data in external file(s) {files}; deepmat reads "
            "nothing outside the file it is given; expected data stored in the file"
        )
    if dataset.shape is None:
        raise ValueError(f"{name}: dataset {key!r} is empty (a null dataspace); expected an array")
    if not text:
        check_numbers(source, key, dataset)
    elif dataset.dtype.kind != "S" and h5py.check_string_dtype(dataset.dtype) is None:
        raise ValueError(f"{name}: dataset {key!r} is {describe(dataset)}; expected names (strings)")
    chunk = math.prod(dataset.chunks) * dataset.dtype.itemsize if dataset.chunks else 0
    declared = max(dataset.nbytes, chunk)  # HDF5 reads (and inflates) whole chunks
    chunks = f" in chunks of {dataset.chunks}" if chunk > dataset.nbytes else ""
    what = f"dataset {key!r} declares {describe(dataset)}{chunks}, i.e."
    stored = min(dataset.id.get_storage_size(), file_size)
    compressed = dataset.id.get_create_plist().get_nfilters() > 0
    check_declared_size(name, what, declared, stored, compressed)
    if compressed and stored * MAX_COMPRESSION_RATIO > max_load_bytes():
        _check_chunks(dataset, key, name)
    return declared


def _check_chunks(dataset: Any, key: str, name: str) -> None:
    """Refuse a compressed chunk whose stored bytes could inflate past the limit: HDF5's filters
    grow their buffer until the stream ends, whatever the chunk's size."""
    most = max_load_bytes() // MAX_COMPRESSION_RATIO
    largest = [0]

    def visit(info: Any) -> None:
        largest[0] = max(largest[0], info.size)

    if hasattr(dataset.id, "chunk_iter"):  # h5py ≥ 3.8 on HDF5 ≥ 1.12.3
        dataset.id.chunk_iter(visit)
    if largest[0] > most:
        raise ValueError(
            f"{name}: dataset {key!r} has a compressed chunk of {size_text(largest[0])}, which could inflate to "
            f"{size_text(largest[0] * MAX_COMPRESSION_RATIO)} while being read; expected chunks of at "
            f"most {size_text(most)} (set $DEEPMAT_MAX_LOAD_BYTES to allow more)"
        )


def _read(h5py: Any, dataset: Any, key: str, file: Path) -> np.ndarray:
    """The values of a checked dataset; variable-length strings through
    :func:`~deepmat.data.hdf5_heap.read_vlen_strings`, which checks their heap first."""
    if dataset.dtype.kind == "S" or h5py.check_string_dtype(dataset.dtype) is None:
        return dataset[()]
    return read_vlen_strings(dataset, file, repr(str(file)), key)
