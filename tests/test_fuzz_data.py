"""Fuzzing the data loaders with hypothesis (bounded: a few seconds per property): HDF5 files
and IDX / IDX.gz files, corrupted byte by byte and built from random declarations.

Whatever the file, the loader returns data or raises ``ValueError`` — no other exception —
within 2 s, under 64 MiB traced by tracemalloc, and under an address-space limit
(``resource.setrlimit(RLIMIT_AS)``, 512 MiB above the process's size) that catches what
HDF5's C library allocates. The limit ``DEEPMAT_MAX_LOAD_BYTES`` is 1 TiB: the file checks
alone must hold. The coverage-guided runs (atheris) are ``fuzz/fuzz_hdf5.py`` and
``fuzz/fuzz_idx.py``; their figures are in FUZZING.md.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import itertools
import resource
import struct
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

h5py = pytest.importorskip("h5py")

from deepmat.data import Dataset, load_idx, load_split  # noqa: E402
from deepmat.data.checks import MAX_BYTES_ENV  # noqa: E402

FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
MAX_SECONDS = 2.0
MAX_TRACED = 64 << 20
ADDRESS_SPACE_MARGIN = 512 << 20
FINDINGS = Path(__file__).resolve().parents[1] / "fuzz" / "findings"


@pytest.fixture(autouse=True)
def no_limit_but_the_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_BYTES_ENV, str(1 << 40))


@contextlib.contextmanager
def address_space_limit(margin: int = ADDRESS_SPACE_MARGIN) -> Iterator[None]:
    """RLIMIT_AS set ``margin`` bytes above the process's present size, restored afterwards."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/status") as status:
        size = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize"))
    resource.setrlimit(resource.RLIMIT_AS, (size + margin, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def load_bounded(load: Callable[[Path], object], path: Path) -> object:
    """``load(path)``: data or a ValueError with a message, within the bounds of this module."""
    tracemalloc.start()
    start = time.perf_counter()
    result: object = None
    try:
        with address_space_limit(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = load(path)
    except ValueError as error:
        assert str(error)
    finally:
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert seconds < MAX_SECONDS, f"{seconds:.2f} s"
    assert peak < MAX_TRACED, f"{peak} bytes traced"
    return result


# -- HDF5 -----------------------------------------------------------------------------------------


def h5_bytes(build: Callable[[h5py.File], None]) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "seed.h5"
        with h5py.File(path, "w") as f:
            build(f)
        return path.read_bytes()


def _plain(f: h5py.File) -> None:
    f["X_train"], f["y_train"] = np.arange(24, dtype=np.uint8).reshape(3, 2, 4), np.array([0, 1, 0])
    f["X_test"], f["y_test"] = np.ones((2, 8)), np.array([1, 0])
    f["classes"] = np.array([b"no", b"yes"])


def _compressed(f: h5py.File) -> None:
    rng = np.random.default_rng(0)
    f.create_dataset("X_train", data=rng.random((40, 6)), chunks=(8, 6), compression="gzip", shuffle=True)
    f.create_dataset("y_train", data=np.arange(40) % 3, chunks=(16,), compression="lzf")
    f["data/X_test"], f["y_test"] = rng.random((5, 6)), np.array([0, 1, 2, 0, 1])
    f["X_test"] = h5py.SoftLink("/data/X_test")
    f["classes"] = ["a", "b", "c"]  # variable-length strings


SEEDS = {"plain": h5_bytes(_plain), "compressed": h5_bytes(_compressed)}


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def check_dataset(result: object) -> None:
    if result is not None:
        assert isinstance(result, Dataset) and result.X_train.shape[0] == result.y_train.shape[0] > 0


@FUZZ
@given(seed=st.sampled_from(sorted(SEEDS)), cut=st.integers(min_value=0, max_value=20000))
def test_hdf5_truncated(tmp_path: Path, seed: str, cut: int) -> None:
    data = SEEDS[seed]
    check_dataset(load_bounded(load_split, write(tmp_path, "fuzz.h5", data[: cut % len(data)])))


SHAPES = st.lists(st.sampled_from([0, 1, 2, 3, 7, 1000, 10**6, 2**31, 2**40]), min_size=0, max_size=3)
DTYPES = st.sampled_from(["u1", "i8", "f4", "f8", "S3", "vlen-str", "vlen-f8", "compound", "bool"])


def make_dataset(f: h5py.File, key: str, shape: list[int], dtype: str, layout: str) -> None:
    """A dataset declared with ``shape`` and ``dtype``, stored as ``layout``, written only when small."""
    if dtype == "vlen-str":
        resolved = h5py.string_dtype()
    elif dtype == "vlen-f8":
        resolved = h5py.vlen_dtype("f8")
    elif dtype == "compound":
        resolved = np.dtype([("a", "f8"), ("b", "i2")])
    else:
        resolved = np.dtype(dtype)
    options: dict[str, object] = {}
    if layout != "contiguous" and shape and all(shape):
        options["chunks"] = tuple(min(d, 64) for d in shape)
        if layout == "gzip":
            options["compression"] = "gzip"
    try:
        dataset = f.create_dataset(key, shape=tuple(shape), dtype=resolved, **options)
        size = int(np.prod(shape))
        if 0 < size <= 64 and dtype not in ("vlen-str", "vlen-f8", "compound"):
            dataset[...] = np.ones(shape, dtype=resolved)
    except (ValueError, OSError, TypeError):  # h5py refuses some declarations itself
        pass


@FUZZ
@given(
    declared=st.dictionaries(
        st.sampled_from(["X_train", "y_train", "X_test", "y_test", "classes"]),
        st.tuples(SHAPES, DTYPES, st.sampled_from(["contiguous", "chunked", "gzip"])),
        min_size=3,
    ),
    links=st.lists(
        st.tuples(
            st.sampled_from(["X_train", "y_test", "g/x", "classes"]),
            st.sampled_from(["soft", "soft-loop", "external", "dangling"]),
        ),
        max_size=2,
    ),
)
def test_hdf5_declarations(tmp_path: Path, declared: dict, links: list[tuple[str, str]]) -> None:
    (tmp_path / "secret.h5").write_bytes(SEEDS["plain"])
    path = tmp_path / "fuzz.h5"
    with h5py.File(path, "w") as f:
        for key, (shape, dtype, layout) in declared.items():
            make_dataset(f, key, shape, dtype, layout)
        for key, kind in links:
            if key in f:
                continue
            target = {
                "soft": h5py.SoftLink("/y_train"),
                "soft-loop": h5py.SoftLink(f"/{key}"),
                "external": h5py.ExternalLink("secret.h5", "/X_test"),
                "dangling": h5py.SoftLink("/nowhere"),
            }[kind]
            f[key] = target
    check_dataset(load_bounded(load_split, path))


# -- IDX / IDX.gz ---------------------------------------------------------------------------------


def idx(type_code: int, dims: list[int], payload: bytes) -> bytes:
    return bytes([0, 0, type_code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload


def gz(data: bytes, members: int = 1) -> bytes:
    """``data`` gzip-compressed, in ``members`` gzip members."""
    cuts = np.linspace(0, len(data), members + 1).astype(int)
    out = io.BytesIO()
    for start, stop in itertools.pairwise(cuts):
        out.write(gzip.compress(data[start:stop], mtime=0))
    return out.getvalue()


TYPES = st.sampled_from([0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x00, 0xFF])
DIMS = st.lists(st.one_of(st.integers(0, 40), st.sampled_from([2**16, 2**24, 2**31, 2**32 - 1])), max_size=4)


def check_idx(result: object, data: bytes) -> None:
    if result is not None:
        assert isinstance(result, np.ndarray) and result.ndim == data[3]


@FUZZ
@given(
    type_code=TYPES,
    dims=DIMS,
    payload=st.one_of(st.binary(max_size=600), st.integers(0, 8 << 20).map(bytes)),
    members=st.integers(1, 3),
    mangle=st.sampled_from(["none", "cut-gzip", "trailer", "garbage-after"]),
    compress=st.booleans(),
)
def test_idx_declarations(
    tmp_path: Path, type_code: int, dims: list[int], payload: bytes, members: int, mangle: str, compress: bool
) -> None:
    raw = idx(type_code, dims, payload)
    data = gz(raw, members) if compress else raw
    if mangle == "cut-gzip":
        data = data[: max(len(data) - 13, 2)]
    elif mangle == "trailer":
        data = data[:-4] + b"\xff\xff\xff\x7f"
    elif mangle == "garbage-after":
        data = data + b"\x1f\x8b garbage"
    check_idx(load_bounded(load_idx, write(tmp_path, "fuzz.idx.gz", data)), raw)


IDX_SEEDS = {
    "u1": gz(idx(0x08, [3, 2, 2], bytes(range(12)))),
    "f8": gz(idx(0x0E, [4], np.arange(4, dtype=">f8").tobytes())),
    "zeros": gz(idx(0x08, [1 << 16], bytes(1 << 16))),
}


CORRUPTIBLE: dict[str, tuple[bytes, Callable[[Path], object]]] = {
    **{f"hdf5-{name}": (data, load_split) for name, data in SEEDS.items()},
    **{f"idx-{name}": (data, load_idx) for name, data in IDX_SEEDS.items()},
}


@settings(FUZZ, max_examples=240)
@given(
    seed=st.sampled_from(sorted(CORRUPTIBLE)),
    flips=st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), min_size=1, max_size=16),
)
def test_corrupted_bytes(tmp_path: Path, seed: str, flips: list[tuple[int, int]]) -> None:
    """An HDF5 or gzip IDX seed with bytes changed."""
    original, load = CORRUPTIBLE[seed]
    data = bytearray(original)
    for where, value in flips:
        data[where % len(data)] = value
    result = load_bounded(load, write(tmp_path, "fuzz", bytes(data)))
    if load is load_split:
        check_dataset(result)


def test_valid_seeds_still_load(tmp_path: Path) -> None:
    for name, data in SEEDS.items():
        dataset = load_split(write(tmp_path, f"{name}.h5", data))
        assert dataset.X_train.shape[0] == dataset.y_train.shape[0] > 0
    assert load_split(write(tmp_path, "c.h5", SEEDS["compressed"])).classes == ["a", "b", "c"]
    assert load_idx(write(tmp_path, "u1.gz", IDX_SEEDS["u1"])).shape == (3, 2, 2)
    assert load_idx(write(tmp_path, "two.gz", gz(idx(0x08, [5], bytes(5)), 2))).shape == (5,)


@pytest.mark.parametrize(
    "path", sorted(p for p in FINDINGS.glob("*") if p.suffix != ".safetensors"), ids=lambda p: p.name
)
def test_findings_of_the_fuzz_runs(path: Path) -> None:
    """Inputs that fuzzing found crashing or hanging a data loader (fuzz/findings/), fixed since:
    each is a ValueError now, in a fresh interpreter under the address-space limit and a
    timeout (one of them once hung libhdf5)."""
    load = "load_idx" if path.suffix in (".gz", ".idx") else "load_split"
    script = f"""
import os, resource, sys
sys.path.insert(0, {str(Path(__file__).parent)!r})
os.environ[{MAX_BYTES_ENV!r}] = str(1 << 40)
from test_fuzz_data import address_space_limit
from deepmat.data import {load}
with address_space_limit():
    try:
        {load}({str(path)!r})
    except ValueError as error:
        print('ValueError:', error)
"""
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert run.returncode == 0 and run.stdout.startswith("ValueError: "), run.stdout + run.stderr[-2000:]
