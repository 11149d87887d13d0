"""Coverage-guided fuzzing of deepmat's IDX / IDX.gz loader with atheris (libFuzzer).

    python3 fuzz/fuzz_idx.py -max_total_time=300 -timeout=10 -rss_limit_mb=2048 fuzz/corpus-idx

Every input is written to a file and read by ``load_idx`` (first byte even) or, as the
training labels of a folder of otherwise valid IDX files, by ``load_idx_folder`` (first byte
odd). Allowed outcomes: an array of at least one dimension, a data set, or ValueError.
Anything else — another exception, MemoryError under the address-space limit of
``harness.py`` or a load raising the peak memory by more than 64 MiB, a crash, a hang past
libFuzzer's timeout, memory past ``-rss_limit_mb`` — is a finding. The seed corpus (gzip and
raw IDX files of several types, a two-member gzip file) is written into the corpus folder on
first run. Figures of the runs are in FUZZING.md.
"""

from __future__ import annotations

import gzip
import os
import struct

import atheris
import harness

with atheris.instrument_imports():
    import numpy as np

    from deepmat.data import Dataset, load_idx, load_idx_folder

FILE = os.path.join(harness.WORK, "input.idx")
FOLDER = os.path.join(harness.WORK, "folder")


def idx(type_code: int, dims: tuple[int, ...], values: bytes) -> bytes:
    return bytes([0, 0, type_code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + values


def seed_corpus(folder: str) -> None:
    seeds = {
        "images-u1.gz": gzip.compress(idx(0x08, (3, 4, 4), bytes(range(48))), mtime=0),
        "labels-u1.gz": gzip.compress(idx(0x08, (6,), bytes([0, 1, 2, 0, 1, 2])), mtime=0),
        "floats-f8.gz": gzip.compress(idx(0x0E, (2, 3), np.arange(6, dtype=">f8").tobytes()), mtime=0),
        "labels-i4.raw": idx(0x0C, (4,), np.arange(4, dtype=">i4").tobytes()),
        "zeros-u1.gz": gzip.compress(idx(0x08, (4096,), bytes(4096)), mtime=0),
        "two-members.gz": gzip.compress(idx(0x08, (4,), b"\x01\x02"), mtime=0)
        + gzip.compress(b"\x03\x04", mtime=0),
    }
    for name, data in seeds.items():
        # the first byte picks the loader: 0 load_idx, 1 load_idx_folder (the rest is the file)
        for mode in (0, 1):
            with open(os.path.join(folder, f"{mode}-{name}"), "wb") as f:
                f.write(bytes([mode]) + data)


def write_folder() -> None:
    """The folder's valid files: 6 training labels are the input, 6 pictures of 2×2, 4 test ones."""
    os.makedirs(FOLDER, exist_ok=True)
    files = {
        "train-images-idx3-ubyte": idx(0x08, (6, 2, 2), bytes(24)),
        "t10k-images-idx3-ubyte": idx(0x08, (4, 2, 2), bytes(16)),
        "t10k-labels-idx1-ubyte": idx(0x08, (4,), bytes([0, 1, 2, 0])),
    }
    for name, data in files.items():
        with open(os.path.join(FOLDER, name), "wb") as f:
            f.write(data)


def test_one_input(data: bytes) -> None:
    if not data:
        return
    folder_mode = data[0] & 1
    path = os.path.join(FOLDER, "train-labels-idx1-ubyte") if folder_mode else FILE
    with open(path, "wb") as f:
        f.write(data[1:])
    if folder_mode:
        result = harness.load(lambda: load_idx_folder(FOLDER))
        assert result is None or isinstance(result, Dataset)
    else:
        result = harness.load(lambda: load_idx(FILE))
        assert result is None or (isinstance(result, np.ndarray) and result.ndim >= 1)


if __name__ == "__main__":
    write_folder()
    harness.run(test_one_input, seed_corpus)
