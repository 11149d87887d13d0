"""Hostile data files, case by case: the "Hostile data files" table of docs/BAD_INPUT.md as a test.

Each case builds a file for real (tests/hostile_builders.py) and loads it: the answer must be
one ValueError naming the file and saying what was expected and what was found — never a
MemoryError — with nothing of the secret files read (for the files pointing at them), in
bounded time and memory: tracemalloc here, and an address-space limit (RLIMIT_AS) on a fresh
interpreter running every case in test_every_case_under_an_address_space_limit. Unless a case
sets its own, the limit (DEEPMAT_MAX_LOAD_BYTES) is 1 TiB: the file checks alone must refuse.

``python3 tests/test_hostile_files.py`` prints the documentation's rows from the cases.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")

import hostile_builders as b  # noqa: E402  (needs h5py)
from deepmat import Network  # noqa: E402
from deepmat.cli import main  # noqa: E402
from deepmat.data import (  # noqa: E402
    load_catvnoncat,
    load_csv,
    load_hdf5,
    load_idx,
    load_idx_folder,
    load_image,
    load_split,
    read_samples,
)
from deepmat.data.checks import MAX_BYTES_ENV  # noqa: E402
from deepmat.preprocessing import one_hot  # noqa: E402

DOC = Path(__file__).resolve().parents[1] / "docs" / "BAD_INPUT.md"
NO_LIMIT = 1 << 40
MiB = 1 << 20


@dataclass(frozen=True)
class Case:
    what: str  # the file, for the documentation
    build: Callable[[Path], Path]  # writes the file(s) into a folder; returns what `load` takes
    load: Callable[[Path], object]  # the call that must refuse it
    match: str  # a regular expression the message must match
    limit: int = NO_LIMIT  # DEEPMAT_MAX_LOAD_BYTES for the case
    secret: bool = False  # the file points at the secret files, which must stay unread


def pair(path: Path) -> object:
    return load_hdf5(path, "X", "y")


def h5(name: str, **datasets: object) -> Callable[[Path], Path]:
    return lambda folder: b.h5(folder / name, **datasets)


def npz(name: str, members: Callable[[], dict[str, bytes]], **kw: int) -> Callable[[Path], Path]:
    return lambda folder: b.npz(folder / name, members(), **kw)


def write(name: str, data: Callable[[], bytes]) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        (folder / name).write_bytes(data())
        return folder / name

    return build


def cat_folder(folder: Path) -> Path:
    cat = folder / "cat"
    cat.mkdir()
    for split, m in (("train", 2), ("test", 1)):
        x = h5py.ExternalLink("../secret.h5", "X") if split == "train" else np.zeros((m, 64, 64, 3), np.uint8)
        b.h5(cat / f"{split}_catvnoncat.h5", **{f"{split}_set_x": x, f"{split}_set_y": np.zeros(m, np.int64),
                                             "list_classes": np.array([b"non-cat", b"cat"])})  # fmt: skip
    return cat


LEAVES = r"leaves the file: .*deepmat reads nothing outside the file it is given"
BEYOND = r"expected no more data than the file holds"
OVER = r"more than a loader may allocate"
HUGE = (1 << 40) - 1

CASES: dict[str, Case] = {
    # -- HDF5 pointing outside the file
    "h5-external-link": Case("X is an external link to secret.h5", h5("extlink.h5", **b.xy(X=h5py.ExternalLink("secret.h5", "X"))), pair, rf"extlink\.h5': the path to dataset 'X' {LEAVES}", secret=True),
    "h5-external-link-on-the-path": Case("the group of train/x is an external link", h5("extgroup.h5", train=h5py.ExternalLink("secret.h5", "/"), y=np.zeros(3)), lambda p: load_hdf5(p, "train/X", "y"), r"extgroup\.h5': the path to dataset 'train/X' leaves the file: 'train' is an external link", secret=True),
    "h5-soft-link-to-external-link": Case("X is a soft link to an external link", h5("softext.h5", **b.xy(X=h5py.SoftLink("/hidden"), hidden=h5py.ExternalLink("secret.h5", "X"))), pair, r"softext\.h5': .*'hidden' is an external link", secret=True),
    "h5-external-storage": Case("X's raw data are kept in secret.bin", h5("extstore.h5", **b.xy(X=b.external_storage)), pair, r"extstore\.h5': dataset 'X' keeps its data in external file\(s\) \['secret\.bin'\]", secret=True),
    "h5-virtual-dataset": Case("X is a virtual dataset mapping secret.h5", h5("virtual.h5", **b.xy(X=b.virtual)), pair, r"virtual\.h5': dataset 'X' is a virtual dataset", secret=True),
    "h5-cat-file-external-link": Case("the cat loader's train_set_x is an external link", cat_folder, load_catvnoncat, r"train_catvnoncat\.h5': the path to dataset 'train_set_x' leaves the file", secret=True),
    "h5-soft-link-loop": Case("X is a soft link to a soft link to X", h5("loop.h5", **b.xy(X=h5py.SoftLink("/Z"), Z=h5py.SoftLink("/X"))), pair, r"loop\.h5': the path to dataset 'X' goes through more than 16 soft links"),
    # -- HDF5 declaring more than it holds
    "h5-local-heap-free-list-in-a-circle": Case("the root group's local heap free list points back at itself (libhdf5 allocates without end)", lambda folder: b.local_heap_in_a_circle(folder / "circle.h5"), load_split, r"circle\.h5': the free list of the local heap at byte \d+ runs in a circle \(block \d+ comes back\)"),
    "h5-driver-block-declaring-1-gib": Case("the superblock names a driver information block of 1 GiB (libhdf5 allocates it on opening)", lambda folder: b.driver_block_of(1 << 30)(folder / "driver.h5"), load_split, r"driver\.h5': its superblock's driver information block at byte \d+ runs past the end of the file \(1073741840 bytes \(1 GiB\)\), which libhdf5 would allocate and read"),
    "h5-4kb-declaring-74-gib": Case("a 2 KB file: X (10⁶, 10⁴) float64 in gzip chunks, never written", h5("fill.h5", **b.xy(X=b.never_written((10**6, 10**4), chunks=(1000, 1000), compression="gzip"))), pair, rf"fill\.h5': dataset 'X' declares \(1000000, 10000\) float64, i\.e\. 80000000000 bytes \(74\.5 GiB\), but the file stores no data for it.*{BEYOND}"),
    "h5-contiguous-never-written": Case("X (2¹⁷, 2¹⁰) float64, contiguous, never written", h5("unwritten.h5", **b.xy(X=b.never_written((2**17, 2**10)))), pair, r"unwritten\.h5': dataset 'X' declares .*1 GiB\), but the file stores no data"),
    "h5-one-chunk-of-a-hundred-written": Case("800 MB declared in gzip chunks of 8 MB, one written", h5("partial.h5", **b.xy(X=b.first_chunk_only)), pair, r"partial\.h5': dataset 'X' declares \(100000000,\) float64, i\.e\. 800000000 bytes .*, but its \d+ bytes .*of compressed data inflate to at most .*\(1032:1, deflate's ceiling\)"),
    "h5-chunks-over-the-limit": Case("4 MiB of values in one gzip chunk of 32 MiB; limit 16 MiB", h5("bigchunk.h5", **b.xy(X=b.big_chunks)), pair, rf"bigchunk\.h5': dataset 'X' declares \(524288,\) float64 in chunks of \(4194304,\), i\.e\. 33554432 bytes \(32 MiB\), {OVER}", limit=16 * MiB),
    "h5-compressed-chunk-could-inflate-past-the-limit": Case("a gzip chunk of ~97 KB; limit 1 MiB (at most 1016 bytes a chunk)", h5("zchunk.h5", **b.xy(X=b.random_in_one_chunk, y=np.zeros(12800))), pair, r"zchunk\.h5': dataset 'X' has a compressed chunk of \d+ bytes .*which could inflate to .*expected chunks of at most 1016 bytes", limit=MiB),
    "h5-over-the-limit": Case("X of 2 MiB; limit 1 MiB", h5("big.h5", **b.xy(X=np.zeros((2**18, 1)), y=np.zeros(2**18))), pair, rf"big\.h5': dataset 'X' declares \(262144, 1\) float64, i\.e\. 2097152 bytes \(2 MiB\), {OVER}, 1048576 bytes", limit=MiB),
    "h5-together-over-the-limit": Case("X and y of 600 KB each; limit 1 MiB", h5("two.h5", **b.xy(X=np.zeros(75000), y=np.zeros(75000))), pair, rf"two\.h5': the datasets \['X', 'y'\] together need 1200000 bytes .*{OVER}", limit=MiB),
    # -- HDF5 holding something else than numbers
    "h5-variable-length-numbers": Case("X holds variable-length sequences", h5("vlen.h5", **b.xy(X=b.vlen_numbers)), pair, r"vlen\.h5': 'X' is \(3,\) object; expected an array of numbers"),
    "h5-strings-as-X": Case("X holds strings", h5("strings.h5", **b.xy(X=np.array([b"a", b"b", b"c"]))), pair, r"strings\.h5': 'X' is \(3,\) \|S1; expected an array of numbers"),
    "h5-compound-X": Case("X holds records of two fields", h5("compound.h5", **b.xy(X=np.zeros(3, [("a", "f8"), ("b", "i4")]))), pair, r"compound\.h5': 'X' is \(3,\) \[\('a', '<f8'\), \('b', '<i4'\)\]; expected an array of numbers"),
    "h5-references-as-X": Case("X holds object references", h5("refs.h5", **b.xy(X=b.references)), pair, r"refs\.h5': 'X' is \(3,\) object; expected an array of numbers"),
    "h5-null-dataspace": Case("X is an empty (null) dataspace", h5("null.h5", **b.xy(X=h5py.Empty("f8"))), pair, r"null\.h5': dataset 'X' is empty \(a null dataspace\)"),
    "h5-numbers-as-class-names": Case("classes holds numbers", h5("numnames.h5", **b.split(classes=np.arange(3))), load_split, r"numnames\.h5': dataset 'classes' is \(3,\) int64; expected names \(strings\)"),
    "h5-heap-object-of-size-0": Case("class names whose heap lists an object of size 0 (libhdf5 loops on it)", lambda folder: b.heap_object_of_size_0(folder / "heap0.h5"), load_split, r"heap0\.h5': the global heap collection at byte \d+, which libhdf5 would read, is malformed: its object 0 at byte 40 is 0 bytes long"),
    "h5-strings-sharing-one-object": Case("1000 class names all naming one 4000-byte heap object", lambda folder: b.strings_sharing_one_object(folder / "shared.h5"), load_split, r"shared\.h5': the strings of dataset 'classes' add up to 4000000 bytes .*, more than the file's"),
    "h5-chunked-variable-length-names": Case("class names as variable-length strings in chunks", h5("chunkednames.h5", **b.split(classes=b.chunked_strings)), load_split, r"chunkednames\.h5': dataset 'classes' holds variable-length strings that are not stored contiguously"),
    # -- .npz declaring more than it holds
    "npz-header-declares-2-40-values": Case("X_train.npy's header declares (2²⁰, 2²⁰) float64; 64 bytes follow", npz("header.npz", lambda: {**b.npz_arrays(**b.split()), "X_train.npy": b.npy_bytes((2**20, 2**20), "<f8", bytes(64))}), load_split, r"header\.npz': 'X_train' declares \(1048576, 1048576\) float64, i\.e\. 8796093022208 bytes \(8 TiB\), but its member 'X_train\.npy' holds 64 bytes after the 128-byte header"),
    "npz-stored-member-declares-more": Case("a stored (uncompressed) member declaring 1000 float64, holding 10", npz("stored.npz", lambda: {**b.npz_arrays(**b.split()), "X_train.npy": b.npy_bytes((1000,), "<f8", bytes(80))}, compression=0), load_split, r"stored\.npz': 'X_train' declares \(1000,\) float64, i\.e\. 8000 bytes .*holds 80 bytes after the 128-byte header"),
    "npz-zip-entry-lies-too": Case("the member's header and zip entries say 2 GiB; 800 zero bytes compressed", lambda folder: b.npz_forged_size(folder / "forged.npz"), load_split, r"forged\.npz': 'X_train' declares \(268435456,\) float64, i\.e\. 2147483648 bytes \(2 GiB\), but its \d+ bytes of compressed data inflate to at most"),
    "npz-over-the-limit": Case("X_train of 2 MiB; limit 1 MiB", npz("big.npz", lambda: b.npz_arrays(**b.split(X_train=np.zeros((2**18, 1))))), load_split, rf"big\.npz': 'X_train' declares \(262144, 1\) float64, i\.e\. 2097152 bytes \(2 MiB\), {OVER}", limit=MiB),
    "npz-float32-copy-over-the-limit": Case("uint8 X_train of 300 KB (1.2 MB as float32); limit 1 MiB", npz("uint8.npz", lambda: b.npz_arrays(**b.split(X_train=np.zeros((3, 100000), np.uint8)))), load_split, rf"uint8\.npz': 'X_train' as float32 needs 1200000 bytes .*{OVER}", limit=MiB),
    "npz-object-array": Case("X_train is an object array (a pickle)", npz("pickle.npz", lambda: b.npz_arrays(**b.split(X_train=np.array([1, "a"], dtype=object)))), load_split, r"pickle\.npz': 'X_train' is an object array, which only unpickling can read"),
    "npz-member-not-npy": Case("X_train.npy holds text", npz("text.npz", lambda: {**b.npz_arrays(**b.split()), "X_train.npy": b"not an array"}), load_split, r"text\.npz': 'X_train' cannot be read as a \.npy array"),
    # -- IDX and IDX.gz
    "idx-80-byte-label-file": Case("an 80-byte int32 label file, one label 2³¹ - 1", lambda folder: b.idx_folder(folder / "idx80", train_labels=b.labels_80_bytes(), train_images=b.idx_header(0x08, (18, 2, 2)) + bytes(72)), load_idx_folder, r"train-labels-idx1-ubyte' and '.*t10k-labels-idx1-ubyte' hold labels 0\.\.2147483647; expected 0\.\.21: class labels, at most as many classes as the 22 samples"),
    "idx-gzip-beyond-1032-to-1": Case("a 29-byte gzip file whose header declares 2⁶⁴ bytes", write("ratio.gz", lambda: b.gzip_stream(b.idx_header(0x08, (2**32 - 1, 2**32 - 1)), 100)), load_idx, r"ratio\.gz' \(gzip\): the header declares shape \(4294967295, 4294967295\) of uint8, i\.e\. 18446744065119617025 bytes .*, but its \d+ bytes of compressed data inflate to at most"),
    "idx-gzip-255-dimensions": Case("a gzip file whose header declares 255 dimensions of 2³² - 1", write("dims.gz", lambda: b.gzip_stream(b.idx_header(0x08, (2**32 - 1,) * 255), 0)), load_idx, r"dims\.gz' \(gzip\): the header declares shape \(4294967295, 4294967295, 4294967295, … 255 dimensions\) of uint8, i\.e\. about 2\^8159 bytes, but its \d+ bytes of compressed data inflate to at most"),
    "idx-gzip-truncated": Case("a 1 MiB gzip file: the header declares 64 MiB, the stream holds 1 MiB (random)", write("short.gz", lambda: b.gzip_stream(b.idx_header(0x08, (64 * MiB,)), 0, noise=MiB)), load_idx, r"short\.gz' \(gzip\): the header declares shape \(67108864,\) of uint8, i\.e\. 67108864 bytes \(64 MiB\) of data, but found 1048576 bytes after the header \(truncated\)"),
    "idx-gzip-trailing-bomb": Case("a 65 KB gzip file: the header declares 1000 bytes, the stream holds 64 MiB", write("long.gz", lambda: b.gzip_stream(b.idx_header(0x08, (1000,)), 64 * MiB)), load_idx, r"long\.gz' \(gzip\): the header declares shape \(1000,\) of uint8, i\.e\. 1000 bytes of data, but found 67108864 bytes after the header \(trailing data"),
    "idx-gzip-over-the-limit": Case("a gzip file of 2 MiB of values; limit 1 MiB", write("big.gz", lambda: b.gzip_stream(b.idx_header(0x08, (2 * MiB,)), 2 * MiB)), load_idx, rf"big\.gz' \(gzip\): the header declares shape \(2097152,\) of uint8, i\.e\. 2097152 bytes \(2 MiB\), {OVER}", limit=MiB),
    "idx-over-the-limit": Case("an IDX file of 2 MiB of values; limit 1 MiB", write("big.idx", lambda: b.idx_header(0x08, (2 * MiB,)) + bytes(2 * MiB)), load_idx, rf"big\.idx': the header declares shape \(2097152,\) of uint8, i\.e\. 2097152 bytes \(2 MiB\), {OVER}", limit=MiB),
    # -- labels bounded by the sample count
    "npz-label-2-40": Case("a 712-byte .npz, one label 2⁴⁰", npz("labels.npz", lambda: b.npz_arrays(**b.split(y_train=np.array([0, 1, 1 << 40])))), load_split, r"labels\.npz' 'y_train' and 'y_test' hold labels 0\.\.1099511627776; expected 0\.\.4: class labels, at most as many classes as the 5 samples"),
    "h5-label-2-40": Case("an .h5 file, one label 2⁴⁰", h5("labels.h5", **b.split(y_test=np.array([1 << 40, 0]))), load_split, r"labels\.h5' 'y_train' and 'y_test' hold labels 0\.\.1099511627776; expected 0\.\.4"),
    "npz-negative-label": Case("an .npz, one label -1", npz("negative.npz", lambda: b.npz_arrays(**b.split(y_train=np.array([0, -1, 1])))), load_split, r"negative\.npz' 'y_train' and 'y_test' hold labels -1\.\.1; expected 0\.\.4"),
    "npz-label-beyond-the-names": Case("classes names 2, a label is 2", npz("named.npz", lambda: b.npz_arrays(**b.split(y_train=np.array([0, 2, 1]), classes=np.array(["a", "b"])))), load_split, r"named\.npz' 'y_train' and 'y_test' hold labels 0\.\.2; expected 0\.\.1: class labels, one per class name \(2 names\)"),
    "one-hot-label-2-40": Case("one_hot of labels [0, 2⁴⁰] (no file)", lambda folder: folder, lambda _: one_hot(np.array([0, 1 << 40])), r"one_hot's labels hold labels 0\.\.1099511627776; expected 0\.\.1"),
    # -- no samples
    "npz-zero-samples": Case("X_train (0, 4), y_train (0,)", npz("zero.npz", lambda: b.npz_arrays(**b.split(X_train=np.zeros((0, 4)), y_train=np.zeros(0, int)))), load_split, r"zero\.npz': 'X_train' is empty, shape \(0, 4\); expected at least 1 sample"),
    "npz-zero-features": Case("X_train (3, 0)", npz("nofeatures.npz", lambda: b.npz_arrays(**b.split(X_train=np.zeros((3, 0))))), load_split, r"nofeatures\.npz': 'X_train' is empty, shape \(3, 0\)"),
    "h5-zero-samples": Case("X_test (0, 4), y_test (0,)", h5("zero.h5", **b.split(X_test=np.zeros((0, 4)), y_test=np.zeros(0, int))), load_split, r"zero\.h5': 'X_test' is empty, shape \(0, 4\)"),
    "idx-zero-pictures": Case("train-images holds (0, 2, 2)", lambda folder: b.idx_folder(folder / "idx0", train_images=b.idx_header(0x08, (0, 2, 2)), train_labels=b.idx_header(0x08, (0,))), load_idx_folder, r"train-images-idx3-ubyte' holds no pictures: shape \(0, 2, 2\)"),
    "npz-no-samples-to-predict": Case("X (0, 12) to predict", npz("predict.npz", lambda: b.npz_arrays(X=np.zeros((0, 12)))), lambda p: read_samples(p, 12), r"predict\.npz': 'X' is empty, shape \(0, 12\)"),
    "csv-only-a-header": Case("a CSV file of one header line", write("header.csv", lambda: b"a,b,label\n"), load_csv, r"header\.csv' holds only a header line"),
    # -- CSV
    "csv-cell-over-the-field-limit": Case("a cell of 200,000 digits on line 3, column 2", write("long.csv", lambda: b"x,y,label\n1,2,0\n3," + b"4" * 200_000 + b",1\n"), load_csv, r"long\.csv', line 3, column 2: a cell of more than 131072 characters \(the csv module's field_size_limit\(\)\)"),
    "csv-line-over-the-limit": Case("a line of 2 MiB; limit 1 MiB", write("line.csv", lambda: b"1,0\n" + b"1," * MiB + b"0\n"), load_csv, rf"line\.csv': line 2 needs at least 1048577 bytes .*{OVER}", limit=MiB),
    "csv-numbers-over-the-limit": Case("200,000 short lines; limit 256 KiB", write("many.csv", lambda: b"1,0\n" * 200_000), load_csv, rf"many\.csv': the numbers up to line \d+ need \d+ bytes .*{OVER}", limit=MiB // 4),
    # -- pictures
    "png-declaring-81-megapixels": Case("a 100-byte PNG declaring 9000 × 9000 pixels; limit 100 MiB", lambda folder: b.png_header_only(folder / "huge.png", 9000, 9000), load_image, rf"huge\.png': the picture, 9000×9000 pixels, needs 648000000 bytes .*{OVER}", limit=100 * MiB),
}  # fmt: skip


def run_case(case: Case, path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, int, float]:
    """Load ``path`` as ``case`` says; return the message of the ValueError, the traced peak
    (bytes) and the seconds taken."""
    monkeypatch.setenv(MAX_BYTES_ENV, str(case.limit))
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ValueError) as info:
            case.load(path)
        return str(info.value), tracemalloc.get_traced_memory()[1], time.perf_counter() - start
    finally:
        tracemalloc.stop()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    folder = tmp_path_factory.mktemp("hostile")
    b.secrets(folder)
    return folder, {case_id: case.build(folder) for case_id, case in CASES.items()}


@pytest.mark.parametrize("case_id", CASES)
def test_hostile_file(
    case_id: str, built: tuple[Path, dict[str, Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, paths = built
    case = CASES[case_id]
    secrets = [folder / "secret.h5", folder / "secret.bin"]
    for secret in secrets:  # atime older than mtime: relatime records the next read
        os.utime(secret, (0, secret.stat().st_mtime))
    message, peak, seconds = run_case(case, paths[case_id], monkeypatch)
    assert re.search(case.match, message), message
    assert "\n" not in message and "MemoryError" not in message
    if case_id != "one-hot-label-2-40":
        assert paths[case_id].name in message  # the file is named
    assert peak < 8 * MiB, f"{peak} bytes traced"
    assert seconds < 5
    assert all(secret.stat().st_atime == 0 for secret in secrets), "a secret file was read"


def test_the_secret_check_sees_a_read(tmp_path: Path) -> None:
    """The control of the atime check above: reading the secret does change its atime."""
    secret = b.secrets(tmp_path)[1]
    os.utime(secret, (0, secret.stat().st_mtime))
    secret.read_bytes()
    if secret.stat().st_atime == 0:
        pytest.skip("this file system does not record access times (noatime)")


def test_every_case_under_an_address_space_limit(built: tuple[Path, dict[str, Path]]) -> None:
    """Every case in a fresh interpreter whose address space is capped 384 MiB above what it has
    after importing (RLIMIT_AS): the allocations of HDF5's C library count too."""
    paths = built[1]
    script = f"""
import json, os, resource, sys
sys.path.insert(0, {str(Path(__file__).parent)!r})
import test_hostile_files as t
size = next(int(l.split()[1]) * 1024 for l in open('/proc/self/status') if l.startswith('VmSize'))
resource.setrlimit(resource.RLIMIT_AS, (size + (384 << 20), resource.RLIM_INFINITY))
answers = {{}}
for case_id, path in json.loads(sys.argv[1]).items():
    case = t.CASES[case_id]
    os.environ[{MAX_BYTES_ENV!r}] = str(case.limit)
    try:
        case.load(path)
        answers[case_id] = 'no error'
    except BaseException as error:
        answers[case_id] = type(error).__name__ + ': ' + str(error)
print(json.dumps(answers))
"""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    run = subprocess.run(
        [sys.executable, "-c", script, json.dumps({k: str(v) for k, v in paths.items()})],
        capture_output=True, text=True, timeout=300, env=env, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    answers = json.loads(run.stdout)
    for case_id, answer in answers.items():
        assert answer.startswith("ValueError: ") and re.search(CASES[case_id].match, answer), (
            case_id,
            answer,
        )


def test_what_stays_in_the_file_still_loads(tmp_path: Path) -> None:
    """Soft links inside the file, names in variable-length strings, a gzip IDX of two members."""
    b.h5(tmp_path / "soft.h5", data=np.arange(12.0).reshape(3, 4), X=h5py.SoftLink("/data"), y=np.zeros(3))
    assert load_hdf5(tmp_path / "soft.h5", "X", "y")[0].sum() == 66
    b.h5(tmp_path / "names.h5", **b.split(classes=["cat", "dog"]))
    assert load_split(tmp_path / "names.h5").classes == ["cat", "dog"]
    many = [f"class {i} " + "x" * (i % 50) for i in range(3000)]  # in several heap collections
    b.h5(tmp_path / "many.h5", **b.split(classes=many))
    assert load_split(tmp_path / "many.h5").classes == many
    header, values = b.idx_header(0x08, (4,)), bytes([1, 2, 3, 4])
    two_members = b.gzip_stream(header + values[:2], 0) + b.gzip_stream(values[2:], 0)
    (tmp_path / "two.gz").write_bytes(two_members)
    assert load_idx(tmp_path / "two.gz").tolist() == [1, 2, 3, 4]


CLI: dict[str, tuple[Callable[[Path], Path], str, str]] = {
    "cli-train-npz-declaring-2-40-values": (npz("bomb.npz", lambda: {**b.npz_arrays(**b.split()), "X_train.npy": b.npy_bytes((2**20, 2**20), "<f8", bytes(64))}), "train --data {path}", r"bomb\.npz': 'X_train' declares \(1048576, 1048576\) float64"),
    "cli-train-h5-external-link": (h5("ext.h5", **b.split(X_train=h5py.ExternalLink("secret.h5", "X"))), "train --data {path}", rf"ext\.h5': the path to dataset 'X_train' {LEAVES}"),
    "cli-train-npz-label-2-40": (npz("labels.npz", lambda: b.npz_arrays(**b.split(y_train=np.array([0, 1, 1 << 40])))), "train --data {path}", r"labels\.npz' 'y_train' and 'y_test' hold labels 0\.\.1099511627776"),
    "cli-train-idx-folder-of-80-byte-labels": (lambda folder: b.idx_folder(folder / "idx80", train_labels=b.labels_80_bytes(), train_images=b.idx_header(0x08, (18, 2, 2)) + bytes(72)), "train --data {path}/", r"hold labels 0\.\.2147483647"),
    "cli-evaluate-h5-declaring-74-gib": (h5("fill.h5", **b.split(X_test=b.never_written((10**6, 10**4), chunks=(1000, 1000), compression="gzip"))), "evaluate {folder}/m.safetensors {path}", r"fill\.h5': dataset 'X_test' declares .*74\.5 GiB"),
    "cli-predict-npz-declaring-2-40-values": (npz("predict.npz", lambda: {"X.npy": b.npy_bytes((2**20, 2**20), "<f8", bytes(64))}), "predict {folder}/m.safetensors {path}", r"predict\.npz': 'X' declares \(1048576, 1048576\) float64"),
}  # fmt: skip


@pytest.mark.parametrize("case_id", CLI)
def test_command_line(case_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    build, args, match = CLI[case_id]
    b.secrets(tmp_path)
    Network([4, 5, 3], "relu", "softmax", seed=0).save(tmp_path / "m.safetensors")
    path = build(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(MAX_BYTES_ENV, str(NO_LIMIT))
    before = sorted(p.name for p in tmp_path.iterdir())
    status = main(args.format(path=path, folder=tmp_path).split())
    err = capsys.readouterr().err
    assert status == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("deepmat: error: "), err
    assert re.search(match, lines[0]), lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


def test_the_documentation_lists_every_case() -> None:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## Hostile data files") :]
    missing = [case for case in (*CASES, *CLI) if f"`{case}`" not in section]
    assert not missing, f"docs/BAD_INPUT.md's 'Hostile data files' does not list {missing}"


def documentation_rows() -> str:  # pragma: no cover - run by hand to regenerate the table
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        b.secrets(folder)
        for case_id, case in CASES.items():
            os.environ[MAX_BYTES_ENV] = str(case.limit)
            try:
                case.load(case.build(folder))
                answer = "no error"
            except ValueError as error:
                answer = f"ValueError: {str(error).replace(str(folder) + '/', '')}"
            rows.append(f"| `{case_id}` | {case.what} | {answer.replace('|', '&#124;')} |")
        Network([4, 5, 3], "relu", "softmax", seed=0).save(folder / "m.safetensors")
        os.environ[MAX_BYTES_ENV] = str(NO_LIMIT)
        for case_id, (build, args, _) in CLI.items():
            path = build(folder)
            command = args.format(path=path.name, folder=".").replace("./", "")
            err = io.StringIO()
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                status = main(args.format(path=path, folder=folder).split())
            line = err.getvalue().strip().replace(str(folder) + "/", "")
            rows.append(f"| `{case_id}` | `deepmat {command}` | exit {status}: {line} |")
    return "\n".join(rows)


if __name__ == "__main__":  # pragma: no cover
    print(documentation_rows())
