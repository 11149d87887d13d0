"""Coverage-guided fuzzing of deepmat's HDF5 reader with atheris (libFuzzer).

    python3 fuzz/fuzz_hdf5.py -max_total_time=300 -timeout=10 -rss_limit_mb=2048 fuzz/corpus-hdf5

Every input is written to a file beside ``secret.h5`` and ``secret.bin`` and read by
``load_split`` (the four arrays and the class names, through ``read_hdf5``). Allowed outcomes:
a data set or ValueError, with the secret files unread (their access time stays 0). Anything
else — another exception, a read of a secret file, MemoryError under the address-space limit
of ``harness.py`` or a load raising the peak memory by more than 64 MiB, a crash, a hang past
libFuzzer's timeout, memory past ``-rss_limit_mb`` — is a finding. The seed corpus, written into the corpus folder on first run, is built by
tests/hostile_builders.py: small valid files (contiguous; gzip, lzf and shuffle chunks; soft
links; variable-length names) and the hostile kinds (an external link, external storage and a
virtual dataset pointing at the secrets, a dataset never written). h5py's Python layer is
instrumented along with deepmat's modules. Figures of the runs are in FUZZING.md.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import atheris
import harness

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

with atheris.instrument_imports():
    import h5py
    import numpy as np

    import hostile_builders as b
    from deepmat.data import Dataset, load_split

WORK = Path(harness.WORK)
FILE = WORK / "input.h5"


def seed_corpus(folder: str) -> None:
    rng = np.random.default_rng(0)

    def chunked(f: h5py.File, key: str) -> None:
        f.create_dataset(key, data=rng.random((32, 4)), chunks=(8, 4), compression="gzip", shuffle=True)

    def lzf(f: h5py.File, key: str) -> None:
        f.create_dataset(key, data=np.arange(32) % 2, chunks=(8,), compression="lzf")

    seeds = {
        "plain": b.split(
            X_train=np.arange(12, dtype=np.uint8).reshape(3, 4), classes=np.array([b"no", b"yes"])
        ),
        "compressed": b.split(X_train=chunked, y_train=lzf),
        "links": b.split(
            **{"data/x": np.ones((2, 4)), "X_test": h5py.SoftLink("/data/x")}, classes=["a", "b"]
        ),
        "external-link": b.split(X_train=h5py.ExternalLink("secret.h5", "/X")),
        "external-storage": b.split(X_train=b.external_storage),
        "virtual": b.split(X_train=b.virtual),
        "unwritten": b.split(X_test=b.never_written((10**5, 10**3), chunks=(100, 100), compression="gzip")),
    }
    for name, datasets in seeds.items():
        if not os.path.exists(os.path.join(folder, f"{name}.h5")):
            b.h5(Path(folder, f"{name}.h5"), **datasets)


def test_one_input(data: bytes) -> None:
    FILE.write_bytes(data)
    result = harness.load(lambda: load_split(FILE))
    assert result is None or isinstance(result, Dataset)
    for secret in SECRETS:
        if secret.stat().st_atime != 0:
            raise AssertionError(f"{secret} was read")


SECRETS = b.secrets(WORK)

if __name__ == "__main__":
    for secret in SECRETS:  # an access time older than the contents: a read records a new one
        os.utime(secret, (0, secret.stat().st_mtime))
    harness.run(test_one_input, seed_corpus)
