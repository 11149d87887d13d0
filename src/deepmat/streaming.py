"""Training on data larger than memory: ``fit`` on a memory-mapped array
(``np.load(path, mmap_mode="r")``) or a chunked HDF5 data set (``h5py.File(path)["X"]``)
streams the rows from disk instead of reading them all.

How the rows come in. The rows are cut into *chunks* of consecutive rows (:data:`CHUNK_BYTES`
or more, a whole number of batches — and of an HDF5 data set's stored chunks when that costs
at most 4× the rows); an epoch takes the chunks in a random order, a *window* of
:data:`WINDOW_CHUNKS` chunks at a time (fewer when the chunks grew to whole stored ones, so
that a window keeps its bytes), and shuffles the rows within each window:

    epoch order = window 1's rows shuffled, window 2's rows shuffled, …   (chunk-then-within-window)

Each window is read (file order, large contiguous reads, a memory map's file with
:data:`READS_IN_FLIGHT` reads at once), checked to be finite and turned
into target rows by a background thread while the previous window trains, so the disk and the
matrix products overlap. Each batch's rows are then gathered from the window by the window's
shuffle into a batch buffer — the one copy ``fit`` makes of rows in memory too.
Resident memory stays bounded: two window buffers (the one training, the next one being
filled) of :data:`WINDOW_CHUNKS` × :data:`CHUNK_BYTES`, plus the epoch order
(8 bytes per row). A memory map's rows are read from its file (``preadv``), not through the map.

Shuffle quality, stated. Within a window the shuffle is uniform: a batch is a uniform random
draw of B rows from the window's W = k·c rows (k chunks of c rows). Across the data set it is
coarser: a batch's rows come from at most k random chunks, so rows that sit near each other
in the file (within c rows) train near each other in time. For a file in random order this
changes nothing measurable; for a file sorted by class, a batch sees at most k classes' runs
— shuffle such a file once before streaming it. Each row's position in the epoch is uniform
over the epoch (every chunk order is equally likely, the short last chunk aside, which always
comes in the last window so that no batch straddles two windows).

Exact resume holds: the whole epoch's plan (chunk order, each window's shuffle) is drawn from
the network's shuffle generator at the start of the epoch, so a resumed run redraws it and
reads the same rows into the same batches. A value that is not finite raises ``ValueError``
naming its row when its window is read, before any batch of that window trains. Not with
streamed data: the seeds' full-batch form, L-BFGS, ``validation_split``, sample or class
weights, a preprocessor, MPI (each is refused with its reason; ``validation_data`` works).
"""

from __future__ import annotations

import math
import mmap
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from deepmat._checks import all_finite

#: a chunk is at least this many bytes of rows (rounded up to whole batches)
CHUNK_BYTES = 1 << 20

#: chunks per window (rows shuffled together, read ahead together)
WINDOW_CHUNKS = 16

#: reads of one window's chunks in flight at once (a memory map's file)
READS_IN_FLIGHT = 4

#: rows validated at once when the targets are checked before training
TARGET_PIECE_ROWS = 1 << 16


def is_streamed(X: Any) -> bool:
    """Whether ``X`` is rows on disk that ``fit`` streams: a ``numpy.memmap`` or an
    ``h5py.Dataset`` (h5py is not imported for the question)."""
    if isinstance(X, np.memmap):
        return True
    h5py = sys.modules.get("h5py")
    return h5py is not None and isinstance(X, h5py.Dataset)


def check_streamable(
    net: Any,
    X: Any,
    *,
    seeds_form: bool,
    full_batch: bool,
    validation_split: Any,
    weighted: bool,
    distributed: Any,
) -> None:
    """Refuse, each with its reason, what a streamed ``fit`` cannot do, and an X that is not
    ``(m, n[0])`` real numbers."""
    refused = [
        (seeds_form, "the seeds' full-batch form (pass epochs= and batch_size=: one batch of every row "
         "would read the whole file into memory)"),
        (full_batch, "L-BFGS (it minimises the full-batch J: every row at once)"),
        (validation_split is not None, "validation_split (it would read the held-out rows into memory; "
         "pass validation_data=(X_val, y_val))"),
        (weighted, "sample_weight or class_weight"),
        (bool(distributed), "distributed training"),
        (net.preprocessor is not None, "a preprocessor (scale the rows before writing the file)"),
    ]  # fmt: skip
    for refuse, what in refused:
        if refuse:
            raise ValueError(f"data streamed from disk ({type(X).__name__}) cannot be used with {what}")
    dtype = np.dtype(X.dtype)
    if dtype.kind not in "biuf":
        raise TypeError(f"X must hold real numbers (float, int or bool); received dtype {dtype}")
    if len(X.shape) != 2 or X.shape[0] == 0:
        raise ValueError(
            f"X must be 2-D (n_samples, n_features) with at least 1 sample; received shape {X.shape}"
        )
    if X.shape[1] != net.layer_dims[0]:
        raise ValueError(
            f"X has {X.shape[1]} features per sample but the network expects n[0] = {net.layer_dims[0]}: "
            f"received shape {X.shape}"
        )


class DiskRows:
    """Reads rows ``[a, b)`` of a memory map or an HDF5 data set into a buffer, cast to the
    buffer's dtype.

    A memory map's rows are read from its file with ``os.preadv`` — large sequential reads
    into the buffer — rather than through the map: every page touched through a map becomes
    resident memory of this process, the kernel maps the pages around each fault as well
    (they stayed: 64 MB over a 2.6 GB epoch), and each 4 KiB fault is a trap. A view of a map
    that is not C-contiguous is copied through the map, its pages released after each read
    (``MADV_DONTNEED``)."""

    def __init__(self, X: Any) -> None:
        self.X = X
        self.shape = tuple(int(n) for n in X.shape)
        self.dtype = np.dtype(X.dtype)
        self.hdf5 = not isinstance(X, np.memmap)
        self.map, self.map_address = (None, 0) if self.hdf5 else memory_map_of(X)
        #: (file descriptor, byte position of row 0) for reads by ``preadv``, else None
        self.file = None if self.hdf5 else file_of(X, self.map_address)
        #: per reading thread (reads run in parallel), rows of X's dtype read before a cast
        self.local = threading.local()

    def read(self, a: int, b: int, out: np.ndarray) -> None:
        """Rows ``[a, b)`` into ``out[: b - a]`` (a value too large for ``out``'s dtype becomes
        inf, which the caller's finiteness check reports)."""
        with np.errstate(over="ignore", invalid="ignore"):
            if self.hdf5 and self.dtype == out.dtype:
                self.X.read_direct(out, source_sel=np.s_[a:b], dest_sel=np.s_[0 : b - a])
            elif self.hdf5:
                out[: b - a] = self.X[a:b]
            elif self.file is None:
                np.copyto(out[: b - a], self.X[a:b], casting="unsafe")
                self.release(a, b)
            elif self.dtype == out.dtype:
                self.pread(a, out[: b - a])
            else:
                raw = getattr(self.local, "raw", None)
                if raw is None or raw.shape[0] < b - a:
                    raw = self.local.raw = np.empty((b - a, self.shape[1]), self.dtype)
                self.pread(a, raw[: b - a])
                np.copyto(out[: b - a], raw[: b - a], casting="unsafe")

    def pread(self, a: int, rows: np.ndarray) -> None:
        """Rows from row ``a`` on into the C-contiguous ``rows`` of X's dtype, from the file."""
        fd, position = self.file
        view = memoryview(rows).cast("B")
        position += a * self.X.strides[0]
        while view.nbytes:
            got = os.preadv(fd, [view], position)
            if got == 0:
                raise OSError(f"{self.X.filename} ended before row {a + rows.shape[0]}: was it truncated?")
            view, position = view[got:], position + got

    def release(self, a: int, b: int) -> None:
        """Drop rows ``[a, b)``'s pages from this process's memory (the file keeps them)."""
        if self.map is None:
            return
        row = self.X.strides[0]
        start = self.X.ctypes.data - self.map_address + a * row
        stop = start + (b - a) * row
        page = mmap.PAGESIZE
        first, last = (start // page) * page, min(-(-stop // page) * page, len(self.map))
        if last > first:
            self.map.madvise(mmap.MADV_DONTNEED, first, last - first)

    def close(self) -> None:
        """Close the file the rows are read from."""
        if self.file is not None:
            os.close(self.file[0])
            self.file = None


def aligned_chunk_rows(X: Any, rows: int, batch_size: int) -> int:
    """``rows`` (a whole number of batches), or for an HDF5 data set stored in chunks of
    rows, the fewest rows ≥ ``rows`` that are whole batches and whole stored chunks — HDF5
    reads a stored chunk whole, so a chunk of ours that cut one would read it twice (2.7×
    the bytes for 384-row chunks over 1024-row stored ones) — unless that needs more than
    4× the rows (the batches and the stored chunks then stay unaligned)."""
    stored = getattr(X, "chunks", None)  # h5py: the stored chunk's shape (None: contiguous)
    if not stored or isinstance(X, np.ndarray):
        return rows
    step = math.lcm(batch_size, int(stored[0]))
    return math.ceil(rows / step) * step if step <= 4 * rows else rows


def file_of(X: np.memmap, map_address: int) -> tuple[int, int] | None:
    """The memory map's file opened for reading and the byte position of X's row 0 in it, or
    None when X is not a C-contiguous view of a map whose file can be opened."""
    root = X
    while isinstance(root.base, np.memmap):
        root = root.base
    if not map_address or not X.flags.c_contiguous or not getattr(root, "filename", None):
        return None
    try:
        fd = os.open(root.filename, os.O_RDONLY)
    except OSError:
        return None
    # np.memmap maps from the offset rounded down to the allocation granularity
    start = root.offset - root.offset % mmap.ALLOCATIONGRANULARITY
    return fd, X.ctypes.data - map_address + start


def memory_map_of(X: np.memmap) -> tuple[mmap.mmap | None, int]:
    """The ``mmap`` under a memory-mapped array and its address, or (None, 0) when the array
    is not a plain C-contiguous view of one (its pages are then not released)."""
    base = X
    while isinstance(base, np.ndarray):
        base = base.base
    if not isinstance(base, mmap.mmap) or not X.flags.c_contiguous or not hasattr(mmap, "MADV_DONTNEED"):
        return None, 0
    address = np.frombuffer(base, dtype=np.uint8).ctypes.data
    return base, address


class Window:
    """One window of an epoch: its chunks (row ranges of the file), where its rows sit in the
    epoch order, and the shuffle of its rows."""

    def __init__(self, chunks: list[tuple[int, int]], position: int, shuffle: np.ndarray | None) -> None:
        self.chunks = chunks
        self.position = position
        self.rows = sum(b - a for a, b in chunks)
        self.shuffle = shuffle

    def file_rows(self) -> np.ndarray:
        """The file rows of the window, in epoch order."""
        rows = np.concatenate([np.arange(a, b) for a, b in self.chunks])
        return rows if self.shuffle is None else rows[self.shuffle]


class StreamedRows:
    """The training rows of a streamed ``fit``: X on disk, the targets ``y``, the epoch plan
    and the windows being read.

    Args:
        X: a memory map or HDF5 data set ``(m, n[0])`` of real numbers.
        y: the targets ``(m,)`` or ``(m, n[L])`` (in memory, a memory map or HDF5).
        target_rows: ``(y_part, m_part) → Y_part`` rows in the network's dtype (checks them).
        dtype: the network's dtype (X is cast to it window by window).
        batch_size: B; a chunk is a whole number of batches.
        chunk_bytes, window_chunks: the sizes (None: :data:`CHUNK_BYTES`, :data:`WINDOW_CHUNKS`).

    With fewer rows than one window holds, the plan is one window of every row, shuffled by the
    same draw as data in memory: the training is then identical to an in-memory ``fit``.
    """

    def __init__(
        self,
        X: Any,
        y: Any,
        target_rows: Callable[[Any, int], np.ndarray],
        dtype: np.dtype,
        batch_size: int,
        chunk_bytes: int | None = None,
        window_chunks: int | None = None,
    ) -> None:
        chunk_bytes = CHUNK_BYTES if chunk_bytes is None else chunk_bytes
        window_chunks = WINDOW_CHUNKS if window_chunks is None else window_chunks
        self.disk = DiskRows(X)
        m, n = self.shape = self.disk.shape
        self.y = y
        self.target_rows = target_rows
        self.dtype = np.dtype(dtype)
        row_bytes = n * self.dtype.itemsize
        batches = max(1, math.ceil(chunk_bytes / (row_bytes * batch_size)))
        rows = batches * batch_size
        self.chunk_rows = min(aligned_chunk_rows(X, rows, batch_size), m)
        # a window holds about WINDOW_CHUNKS × CHUNK_BYTES whatever the chunks became
        self.window_chunks = max(1, min(window_chunks, round(window_chunks * rows / self.chunk_rows)))
        self.chunks = [(a, min(a + self.chunk_rows, m)) for a in range(0, m, self.chunk_rows)]
        self.windows: list[Window] = []
        self.window_rows = self.chunk_rows * self.window_chunks
        rows = min(self.window_rows, m)
        self.buffers = [np.empty((rows, n), self.dtype) for _ in range(2)]  # X per window, by parity
        self.X_batch = np.empty((min(batch_size, m), n), self.dtype)  # a shuffled batch's rows
        self.Y_batch: np.ndarray | None = None  # … and its targets (n[L] is known once checked)
        self.pool: ThreadPoolExecutor | None = None
        self.readers: ThreadPoolExecutor | None = None
        self.current: tuple[int, np.ndarray, np.ndarray] | None = None  # (window, X rows, Y rows)
        self.pending: tuple[int, Future] | None = None

    # -- before training -------------------------------------------------------------------

    def check_targets(self) -> None:
        """Check every target (as ``fit`` does for data in memory) before the first step, a
        piece at a time; learns n[L] of the target rows, the width of the batch's targets."""
        m = self.shape[0]
        for a in range(0, m, TARGET_PIECE_ROWS):
            b = min(a + TARGET_PIECE_ROWS, m)
            Y = self.target_rows(self.y[a:b], b - a)
        self.Y_batch = np.empty((self.X_batch.shape[0], Y.shape[1]), self.dtype)

    # -- the epoch plan --------------------------------------------------------------------

    def permutation(self, rng: np.random.Generator | None) -> np.ndarray:
        """Draw the epoch's plan from ``rng`` (None: the file's order) and return the epoch
        order: the file row of every position ``(m,)`` int64."""
        chunks = list(range(len(self.chunks)))
        short_last = self.chunks[-1][1] - self.chunks[-1][0] < self.chunk_rows
        if rng is not None:
            full = chunks[:-1] if short_last else chunks
            order = [full[i] for i in rng.permutation(len(full))]
            chunks = order + ([chunks[-1]] if short_last else [])
        self.windows, position = [], 0
        for w in range(0, len(chunks), self.window_chunks):
            ranges = [self.chunks[c] for c in chunks[w : w + self.window_chunks]]
            rows = sum(b - a for a, b in ranges)
            window = Window(ranges, position, None if rng is None else rng.permutation(rows))
            self.windows.append(window)
            position += rows
        self.drop_windows()
        return np.concatenate([window.file_rows() for window in self.windows])

    # -- batches -----------------------------------------------------------------------------

    def batch(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """(X rows, target rows) of epoch positions ``[start, stop)``: gathered from their
        window by its shuffle into the batch buffers (valid until the next batch), or slices
        of the window when the rows keep the file's order."""
        w = start // self.window_rows
        if self.current is None or self.current[0] != w:
            self.enter(w)
        _, X_rows, Y_rows = self.current
        window = self.windows[w]
        a, b = start - window.position, stop - window.position
        if window.shuffle is None:
            return X_rows[a:b], Y_rows[a:b]
        rows = window.shuffle[a:b]  # clip: the indices are valid, skip np.take's bounds buffer
        return (
            np.take(X_rows, rows, axis=0, out=self.X_batch[: b - a], mode="clip"),
            np.take(Y_rows, rows, axis=0, out=self.Y_batch[: b - a], mode="clip"),
        )

    def enter(self, w: int) -> None:
        """Make window ``w`` the current one (the prefetched one if it is, else read it now)
        and start reading window w + 1."""
        if self.pool is None:
            self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="deepmat-prefetch")
        if self.pending is not None and self.pending[0] == w:
            X_rows, Y_rows = self.pending[1].result()
        else:
            self.wait_pending()
            X_rows, Y_rows = self.load(w)
        self.pending = None
        self.current = (w, X_rows, Y_rows)
        if w + 1 < len(self.windows):
            self.pending = (w + 1, self.pool.submit(self.load, w + 1))

    def load(self, w: int) -> tuple[np.ndarray, np.ndarray]:
        """Read window ``w`` into the buffers of its parity, in file order (its chunks one
        after another), checked finite, with its target rows; :meth:`batch` gathers each
        batch's rows by the window's shuffle, as ``fit`` does for rows in memory."""
        window = self.windows[w]
        X_buffer = self.buffers[w % 2]
        filled = 0
        places = []
        for a, b in window.chunks:
            places.append((a, b, filled))
            filled += b - a

        def read(place: tuple[int, int, int]) -> None:
            a, b, at = place
            self.disk.read(a, b, X_buffer[at : at + b - a])

        if self.disk.file is not None:  # a file's reads in flight together: the disk serves
            if self.readers is None:  # them faster (h5py reads one at a time: its lock)
                self.readers = ThreadPoolExecutor(READS_IN_FLIGHT, thread_name_prefix="deepmat-read")
            list(self.readers.map(read, places))
        else:
            for place in places:
                read(place)
        raw = X_buffer[:filled]
        if not all_finite(raw):
            bad = np.argwhere(~np.isfinite(raw))[0]
            row = np.concatenate([np.arange(a, b) for a, b in window.chunks])[bad[0]]
            raise ValueError(
                f"X must be finite (and fit in {self.dtype.name}); row {row} holds {raw[tuple(bad)]} at "
                f"column {bad[1]} (found when its part of the file was read, before it trained)"
            )
        y_raw = np.concatenate([np.asarray(self.y[a:b]) for a, b in window.chunks])
        return raw, self.target_rows(y_raw, filled)  # the window's targets: a new (rows, n[L]) array

    def wait_pending(self) -> None:
        """Let a read in flight finish (its buffer may be the next one used); its errors are
        those of a window no batch has asked for yet, so they are dropped."""
        if self.pending is not None:
            self.pending[1].exception()
            self.pending = None

    def drop_windows(self) -> None:
        """Forget the windows read for another plan."""
        self.wait_pending()
        self.current = None

    def close(self) -> None:
        """Stop the reading thread (after the read in flight)."""
        self.drop_windows()
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
        if self.readers is not None:
            self.readers.shutdown(wait=True)
            self.readers = None
        self.disk.close()
