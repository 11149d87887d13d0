"""``fit`` on rows streamed from disk (:mod:`deepmat.streaming`): a memory-mapped ``.npy`` and
a chunked HDF5 data set train as the same rows in memory would (bit for bit in the file's
order), every row once per epoch in a chunk-then-within-window order, a Ctrl-C resumes bit for
bit, a value that is not finite is named by its row, the reading thread ends with the fit, and
what cannot be streamed is refused with its reason. (The data sets here are small; the
benchmark writes one of 4 GB and measures memory and speed.)"""

from __future__ import annotations

import os
import signal
import threading

import numpy as np
import pytest

import deepmat
from deepmat import streaming
from deepmat.callbacks import Callback

h5py = pytest.importorskip("h5py")

rng = np.random.default_rng(11)
X = rng.standard_normal((1000, 12)).astype(np.float32)
y = (X[:, 0] + X[:, 1] > 0).astype(np.int64) + (X[:, 2] > 0.5)
BATCH = 16


@pytest.fixture(autouse=True)
def small_windows(monkeypatch):
    """Chunks of 4 batches (64 rows) and windows of 3 chunks, so that 1000 rows make 16
    chunks (the last one short) in 6 windows."""
    monkeypatch.setattr(streaming, "CHUNK_BYTES", 64 * 12 * 4)
    monkeypatch.setattr(streaming, "WINDOW_CHUNKS", 3)


@pytest.fixture(params=["npy", "hdf5"])
def on_disk(request, tmp_path):
    """X written to disk, opened for streaming."""
    if request.param == "npy":
        np.save(tmp_path / "X.npy", X)
        yield np.load(tmp_path / "X.npy", mmap_mode="r")
        return
    with h5py.File(tmp_path / "X.h5", "w") as f:
        f.create_dataset("X", data=X, chunks=(50, 12))
    with h5py.File(tmp_path / "X.h5", "r") as f:
        yield f["X"]


def net_and_fit(data, epochs=3, **kwargs):
    net = deepmat.Network([12, 10, 3], "relu", "softmax", init="he", seed=5, dtype="float32")
    history = net.fit(
        data, y, epochs=epochs, batch_size=BATCH, optimizer="adam", learning_rate=0.01, verbose=0, **kwargs
    )
    return net, history


def test_rows_cast_from_a_float64_file_train_exactly_as_in_memory(tmp_path):
    """The window's chunks are read in parallel, each cast from float64 to the network's
    float32 through its own buffer: the rows are those of the file, every epoch."""
    np.save(tmp_path / "X64.npy", X.astype(np.float64) * 3)
    in_memory, _ = net_and_fit((X.astype(np.float64) * 3).astype(np.float32), epochs=5, shuffle=False)
    streamed, _ = net_and_fit(np.load(tmp_path / "X64.npy", mmap_mode="r"), epochs=5, shuffle=False)
    assert streamed.theta.tobytes() == in_memory.theta.tobytes()


def test_in_file_order_it_trains_exactly_as_in_memory(on_disk):
    assert streaming.is_streamed(on_disk)
    in_memory, memory_history = net_and_fit(X, shuffle=False)
    streamed, streamed_history = net_and_fit(on_disk, shuffle=False)
    assert list(streamed_history) == list(memory_history)
    assert streamed.theta.tobytes() == in_memory.theta.tobytes()


def test_every_row_once_per_epoch_chunk_then_within_window(on_disk):
    rows = streaming.StreamedRows(on_disk, y, lambda part, m: np.zeros((m, 3), np.float32), np.float32, BATCH)
    assert rows.chunk_rows == 64 and len(rows.chunks) == 16
    generator = np.random.default_rng(0)
    orders = []
    for _ in range(2):
        order = rows.permutation(generator)
        orders.append(order)
        assert np.array_equal(np.sort(order), np.arange(1000))  # a permutation of the rows
        for window in rows.windows[:-1]:
            assert window.rows == 3 * 64 and window.position % BATCH == 0  # no batch straddles two
        assert (1000 - 1000 % 64, 1000) in rows.windows[-1].chunks  # the short chunk comes last
        for window in rows.windows:  # a window's rows are its chunks' rows, shuffled
            part = order[window.position : window.position + window.rows]
            expected = np.concatenate([np.arange(a, b) for a, b in window.chunks])
            assert np.array_equal(np.sort(part), np.sort(expected))
    assert not np.array_equal(orders[0], orders[1])
    rows.close()


def test_streamed_training_learns_like_in_memory_training(on_disk):
    in_memory, _ = net_and_fit(X, epochs=8)
    streamed, history = net_and_fit(on_disk, epochs=8)
    assert history[-1] < history[0]
    assert abs(streamed.score(X, y) - in_memory.score(X, y)) < 0.05


def test_the_reading_thread_ends_with_the_fit(on_disk):
    net_and_fit(on_disk, epochs=1)
    assert not [t for t in threading.enumerate() if t.name.startswith(("deepmat-prefetch", "deepmat-read"))]


class SigintAtBatch(Callback):
    touches_parameters = False
    in_checkpoint = False

    def __init__(self, after: int) -> None:
        self.after, self.seen = after, 0

    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
        self.seen += 1
        if self.seen == self.after:
            os.kill(os.getpid(), signal.SIGINT)  # deferred to the end of this step


@pytest.mark.parametrize("after", [5, 63, 70, 140])  # inside windows, at their ends, in epoch 2
def test_ctrl_c_then_resume_is_bit_identical(on_disk, tmp_path, after):
    uninterrupted, _ = net_and_fit(on_disk, epochs=3)
    checkpoint = tmp_path / "streamed.safetensors"
    _, history = net_and_fit(on_disk, epochs=3, callbacks=[SigintAtBatch(after)], checkpoint=checkpoint)
    assert len(history) < 3 and checkpoint.is_file()
    resumed, _ = net_and_fit(on_disk, epochs=3, checkpoint=checkpoint, resume_from=checkpoint)
    assert resumed.theta.tobytes() == uninterrupted.theta.tobytes()


def test_a_value_that_is_not_finite_is_named_by_its_row(tmp_path):
    bad = X.copy()
    bad[777, 4] = np.nan
    np.save(tmp_path / "bad.npy", bad)
    with pytest.raises(ValueError, match=r"X must be finite .*row 777 holds nan at column 4"):
        net_and_fit(np.load(tmp_path / "bad.npy", mmap_mode="r"), epochs=1)
    assert not [t for t in threading.enumerate() if t.name.startswith(("deepmat-prefetch", "deepmat-read"))]


def test_float64_rows_too_large_for_float32_are_refused(tmp_path):
    big = X.astype(np.float64)
    big[12, 0] = 1e300
    np.save(tmp_path / "big.npy", big)
    with pytest.raises(ValueError, match=r"fit in float32\); row 12 holds inf"):
        net_and_fit(np.load(tmp_path / "big.npy", mmap_mode="r"), epochs=1)


def test_bad_targets_are_refused_before_training(on_disk):
    with pytest.raises(ValueError, match="class labels must be integers from 0 to 2"):
        deepmat.Network([12, 3], dtype="float32").fit(on_disk, y + 1, epochs=1, batch_size=BATCH, verbose=0)


@pytest.mark.parametrize(
    ("kwargs", "what"),
    [
        ({"iterations": 5}, "the seeds' full-batch form"),
        ({"epochs": 1, "optimizer": "lbfgs"}, "L-BFGS"),
        ({"epochs": 1, "batch_size": 8, "validation_split": 0.1}, "validation_split"),
        ({"epochs": 1, "batch_size": 8, "sample_weight": np.ones(1000)}, "sample_weight or class_weight"),
        ({"epochs": 1, "batch_size": 8, "class_weight": "balanced"}, "sample_weight or class_weight"),
    ],
)
def test_what_cannot_be_streamed_is_refused_with_its_reason(on_disk, kwargs, what):
    net = deepmat.Network([12, 3], dtype="float32")
    with pytest.raises(ValueError, match=f"data streamed from disk .* cannot be used with {what}"):
        net.fit(on_disk, y, verbose=0, **kwargs)


def test_a_file_of_the_wrong_width_is_refused(tmp_path):
    np.save(tmp_path / "wide.npy", np.zeros((10, 13), np.float32))
    with pytest.raises(ValueError, match=r"X has 13 features per sample but the network expects n\[0\] = 12"):
        deepmat.Network([12, 3]).fit(
            np.load(tmp_path / "wide.npy", mmap_mode="r"), np.zeros(10, int), epochs=1, verbose=0
        )


def test_validation_data_in_memory_works_with_streamed_rows(on_disk):
    _, history = net_and_fit(on_disk, epochs=2, validation_data=(X[:100], y[:100]))
    assert len(history.history["val_accuracy"]) == 2


@pytest.mark.parametrize("file_dtype", ["float32", "float64", "uint8"])
def test_a_memory_map_is_read_from_its_file_at_the_right_place_for_every_view(tmp_path, file_dtype):
    """The rows come from the file by ``preadv`` (not through the map, whose touched pages
    would stay resident), at the right byte for a map, a view starting further on and a file
    of another dtype than the buffer; a view that is not C-contiguous goes through the map."""
    stored = (rng.random((300, 12)) * 200).astype(file_dtype)
    np.save(tmp_path / "X.npy", stored)
    mapped = np.load(tmp_path / "X.npy", mmap_mode="r")
    for X_view, expected in ((mapped, stored), (mapped[37:], stored[37:]), (mapped[:, ::2], stored[:, ::2])):
        disk = streaming.DiskRows(X_view)
        assert (disk.file is not None) == X_view.flags.c_contiguous
        out = np.full((50, X_view.shape[1]), np.nan, np.float32)
        disk.read(5, 45, out)
        np.testing.assert_array_equal(out[:40], expected[5:45].astype(np.float32))
        assert np.isnan(out[40:]).all()  # nothing written past the rows asked for
        disk.close()
        assert disk.file is None


def test_a_file_cut_short_under_a_memory_map_is_an_error_that_says_so(tmp_path):
    np.save(tmp_path / "X.npy", X)
    mapped = np.load(tmp_path / "X.npy", mmap_mode="r")
    disk = streaming.DiskRows(mapped)
    os.truncate(tmp_path / "X.npy", os.path.getsize(tmp_path / "X.npy") - 12 * 4 * 10)
    with pytest.raises(OSError, match="ended before row 1000: was it truncated"):
        disk.read(900, 1000, np.empty((100, 12), np.float32))
    disk.close()


def test_chunks_of_an_hdf5_file_are_whole_stored_chunks_and_a_window_keeps_its_bytes(tmp_path):
    """HDF5 reads a stored chunk whole: our chunks are whole stored chunks (and whole batches)
    when that costs at most 4× the rows, and a window then holds fewer, so that its bytes stay."""
    with h5py.File(tmp_path / "X.h5", "w") as f:
        f.create_dataset("X", data=X, chunks=(96, 12))  # lcm(16, 96) = 96 ≤ 4 × 64
        f.create_dataset("odd", data=X, chunks=(50, 12))  # lcm(16, 50) = 400 > 4 × 64: unaligned
    with h5py.File(tmp_path / "X.h5", "r") as f:
        target = lambda part, m: np.zeros((m, 3), np.float32)  # noqa: E731
        aligned = streaming.StreamedRows(f["X"], y, target, np.float32, BATCH)
        assert aligned.chunk_rows == 96 and aligned.chunk_rows % BATCH == 0
        assert aligned.window_chunks == 2  # round(3 × 64 / 96): a window of 192 rows, as 3 × 64
        assert all(a % 96 == 0 for a, _ in aligned.chunks)
        unaligned = streaming.StreamedRows(f["odd"], y, target, np.float32, BATCH)
        assert unaligned.chunk_rows == 64 and unaligned.window_chunks == 3
        order = aligned.permutation(np.random.default_rng(0))
        assert np.array_equal(np.sort(order), np.arange(1000))
        for window in aligned.windows[:-1]:  # whole windows of 192 rows: no batch straddles two
            assert window.rows == 192 and window.position % BATCH == 0
        streamed, _ = net_and_fit(f["X"], shuffle=False)
        assert streamed.theta.tobytes() == net_and_fit(X, shuffle=False)[0].theta.tobytes()
        shuffled, history = net_and_fit(f["X"])  # the shuffled plan trains through every window
        assert len(history) == 3 and np.isfinite(shuffled.theta).all()
