"""Coverage-guided fuzzing of deepmat's HDF5 reader with atheris (libFuzzer).

    python3 fuzz/fuzz_hdf5.py -max_total_time=300 -rss_limit_mb=2048 fuzz/corpus-hdf5

Every input is written to a file beside ``secret.h5`` and read by ``load_split`` (the four
arrays and the class names, through ``read_hdf5``). Allowed outcomes: a data set or
ValueError, with ``secret.h5`` unread. Anything else — another exception, a read of the
secret file, MemoryError under the address-space limit of ``harness.py``, a crash, a hang past
libFuzzer's timeout, memory past ``-rss_limit_mb`` — is a finding. The seed corpus (small
valid files: contiguous, gzip/lzf/shuffle chunks, soft links, variable-length names; and the
hostile kinds: an external link, external storage and a virtual dataset pointing at the
secret, a dataset never written) is written into the corpus folder on first run. h5py's
Python layer is instrumented along with deepmat's modules. Figures of the runs are in
FUZZING.md.
"""

from __future__ import annotations

import io
import os

import atheris
import harness

with atheris.instrument_imports():
    import h5py
    import numpy as np

    from deepmat.data import Dataset, load_split

FILE = os.path.join(harness.WORK, "input.h5")


def h5_bytes(**datasets: object) -> bytes:
    """An HDF5 file (in memory) of ``datasets``: arrays, links, or callables(file, key)."""
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        for key, value in datasets.items():
            if callable(value):
                value(f, key)
            else:
                f[key] = value
    return buffer.getvalue()


def external_storage(f: h5py.File, key: str) -> None:
    f.create_dataset(key, shape=(3, 2), dtype="f8", external=[("secret.h5", 0, 48)])


def virtual(f: h5py.File, key: str) -> None:
    layout = h5py.VirtualLayout(shape=(3, 2), dtype="f8")
    layout[:] = h5py.VirtualSource("secret.h5", "X_train", shape=(3, 2))
    f.create_virtual_dataset(key, layout)


def seed_corpus(folder: str) -> None:
    rng = np.random.default_rng(0)
    split = {
        "X_train": np.arange(6, dtype=np.uint8).reshape(3, 2),
        "y_train": np.array([0, 1, 0]),
        "X_test": np.ones((2, 2)),
        "y_test": np.array([1, 0]),
    }

    def chunked(f: h5py.File, key: str) -> None:
        f.create_dataset(key, data=rng.random((32, 2)), chunks=(8, 2), compression="gzip", shuffle=True)

    def lzf(f: h5py.File, key: str) -> None:
        f.create_dataset(key, data=np.arange(32) % 2, chunks=(8,), compression="lzf")

    def unwritten(f: h5py.File, key: str) -> None:
        f.create_dataset(key, shape=(10**5, 10**3), dtype="f8", chunks=(100, 100), compression="gzip")

    seeds = {
        "plain": h5_bytes(**split, classes=np.array([b"no", b"yes"])),
        "compressed": h5_bytes(X_train=chunked, y_train=lzf, X_test=np.ones((2, 2)), y_test=np.array([1, 0])),
        "links": h5_bytes(
            **{**split, "data/x": np.ones((2, 2)), "X_test": h5py.SoftLink("/data/x")}, classes=["a", "b"]
        ),
        "external-link": h5_bytes(**{**split, "X_train": h5py.ExternalLink("secret.h5", "/X_train")}),
        "external-storage": h5_bytes(**{**split, "X_train": external_storage}),
        "virtual": h5_bytes(**{**split, "X_train": virtual}),
        "unwritten": h5_bytes(**{**split, "X_test": unwritten}),
    }
    for name, data in seeds.items():
        with open(os.path.join(folder, f"{name}.h5"), "wb") as f:
            f.write(data)


def test_one_input(data: bytes) -> None:
    with open(FILE, "wb") as f:
        f.write(data)
    try:
        assert isinstance(load_split(FILE), Dataset)
    except ValueError:
        pass
    harness.check_secret_unread()


if __name__ == "__main__":
    harness.write_secret(h5_bytes(X_train=np.arange(6.0).reshape(3, 2), y_train=np.array([0, 1, 0])))
    harness.run(test_one_input, seed_corpus)
