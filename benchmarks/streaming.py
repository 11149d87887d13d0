#!/usr/bin/env python3
"""Training on data larger than memory (speed round 2): peak memory and epoch speed of a
``fit`` streamed from a ≥ 4 GB file on disk, against the same training on rows in memory.

    python benchmarks/streaming.py [--gigabytes 4.2] [--repeats 2] [--formats npy,hdf5] [--dir DIR]

The file is Fashion-MNIST's 60,000 training images (float32, 784 columns, 188 MB) written
over and over — each copy shifted by a small constant so no two are equal — until it holds at
least ``--gigabytes`` GB: as ``.npy`` (read with ``np.load(mmap_mode="r")``) and as an HDF5
data set with chunks of 1024 rows (h5py). Each format is written, measured and deleted before
the next (free disk space is checked first: the file needs its size plus 1 GB).

Each measurement runs in a fresh interpreter (its peak RSS is then its own): the case-1
network (784-256-128-10, ReLU, softmax, Adam 1e-3, batch 128, float32, 2 BLAS threads) trains
one epoch, and the child reports

- its RSS after importing deepmat and compiling its kernels on a tiny fit (the baseline),
  its peak RSS (``VmHWM``: ``ru_maxrss`` would carry the parent's peak across ``exec``) and the budget: model + optimiser + 4 batches + 100 MB;
- seconds for the epoch and samples per second.

The in-memory reference trains the same network on the first 240,000 rows (752 MB) held in
memory, one epoch; streamed and in-memory runs alternate (memory, npy, hdf5, memory, …) and
the table reports medians and streamed / in-memory samples per second (target ≥ 0.8). The page
cache is dropped for the file before each streamed run (``posix_fadvise(DONTNEED)``, this file
only), so each epoch reads from the disk; ``--warm`` keeps it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
MB = 1e6
DIMS = [784, 256, 128, 10]
BATCH = 128
IN_MEMORY_ROWS = 240_000
HDF5_CHUNK_ROWS = 1024


def say(*parts) -> None:
    print(*parts, flush=True)


def vm(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(field)


def fashion() -> tuple[np.ndarray, np.ndarray]:
    from deepmat.data import load_fashion_mnist

    data = load_fashion_mnist(FASHION_DIR, dtype="float32")
    return data.X_train, data.y_train


def write_file(path: Path, fmt: str, copies: int, X: np.ndarray) -> float:
    """Write ``copies`` shifted copies of X; returns the seconds taken."""
    start = time.perf_counter()
    m = copies * X.shape[0]
    if fmt == "npy":
        out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(m, X.shape[1]))
        for k in range(copies):
            out[k * X.shape[0] : (k + 1) * X.shape[0]] = X + np.float32(0.001 * k)
        out.flush()
        del out
    else:
        import h5py

        with h5py.File(path, "w") as f:
            d = f.create_dataset(
                "X", shape=(m, X.shape[1]), dtype="float32", chunks=(HDF5_CHUNK_ROWS, X.shape[1])
            )
            for k in range(copies):
                d[k * X.shape[0] : (k + 1) * X.shape[0]] = X + np.float32(0.001 * k)
    os.sync()
    return time.perf_counter() - start


def drop_cache(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def child(spec: str) -> None:
    """One epoch in this fresh interpreter; prints a JSON line."""
    options = json.loads(spec)
    from threadpoolctl import threadpool_limits

    import deepmat
    from deepmat.kernels import kernels_in_use

    if options["source"] == "hdf5":
        import h5py
    with threadpool_limits(limits=2):
        warm = deepmat.Network(DIMS, "relu", "softmax", init="he", seed=0, dtype="float32")
        rng = np.random.default_rng(0)
        warm.fit(rng.random((512, 784), np.float32), rng.integers(0, 10, 512), epochs=1, batch_size=BATCH,
                 optimizer="adam", verbose=0)  # fmt: skip
        del warm
        y = np.load(options["labels"])
        baseline = vm("VmRSS")
        if options["source"] == "memory":
            X = fashion()[0]
            rows = min(IN_MEMORY_ROWS, y.shape[0])
            copies = -(-rows // X.shape[0])
            X = np.concatenate([X + np.float32(0.001 * k) for k in range(copies)])[:rows]
            y = y[:rows]
            after_load = vm("VmRSS")
            data, handle = X, None
        elif options["source"] == "npy":
            data, handle = np.load(options["path"], mmap_mode="r"), None
            after_load = vm("VmRSS")
        else:
            handle = h5py.File(options["path"], "r")
            data = handle["X"]
            after_load = vm("VmRSS")
        net = deepmat.Network(DIMS, "relu", "softmax", init="he", seed=0, dtype="float32")
        start = time.perf_counter()
        net.fit(data, y, epochs=1, batch_size=BATCH, optimizer="adam", learning_rate=1e-3, verbose=0)
        seconds = time.perf_counter() - start
        peak = vm("VmHWM")  # this process image's own peak (ru_maxrss would carry the parent's across exec)
        model = net.theta.nbytes * 4  # θ, ∂J/∂θ, Adam's m and v
        m = data.shape[0]
    print(json.dumps({
        "source": options["source"], "rows": int(m), "seconds": seconds, "samples_per_second": m / seconds,
        "baseline_rss_bytes": baseline, "after_open_rss_bytes": after_load, "peak_rss_bytes": peak,
        "model_and_optimiser_bytes": int(model), "batch_bytes": BATCH * 784 * 4,
        "deepmat_kernels": kernels_in_use(), "pid": os.getpid(),
    }))  # fmt: skip


def run_child(source: str, path: Path | None, labels: Path) -> dict:
    spec = json.dumps({"source": source, "path": str(path) if path else None, "labels": str(labels)})
    proc = subprocess.run(
        [sys.executable, __file__, "--child", spec], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{source} child failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gigabytes", type=float, default=4.2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--formats", default="npy,hdf5")
    parser.add_argument("--dir", default=None, help="where to write the file (default: a temporary folder)")
    parser.add_argument("--warm", action="store_true", help="keep the file in the page cache")
    parser.add_argument("--json", default=str(HERE / "streaming-results.json"))
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return 0

    X, y = fashion()
    copies = int(np.ceil(args.gigabytes * 1e9 / X.nbytes))
    size = copies * X.nbytes
    folder = Path(args.dir or tempfile.mkdtemp(prefix="deepmat-streaming-"))
    free = shutil.disk_usage(folder).free
    say(f"file: {copies} copies of Fashion-MNIST's training images = {copies * X.shape[0]:,} rows, "
        f"{size / 1e9:.2f} GB; free on {folder}: {free / 1e9:.1f} GB")  # fmt: skip
    if free < size + 1e9:
        say("not enough free disk space (the file's size + 1 GB)")
        return 2
    labels = folder / "y.npy"
    np.save(labels, np.tile(y.astype(np.int64), copies))
    results: dict = {"rows": copies * X.shape[0], "file_bytes": size, "warm": args.warm, "runs": []}
    try:
        for fmt in args.formats.split(","):
            path = folder / ("X.npy" if fmt == "npy" else "X.h5")
            say(f"writing {path} …")
            results[f"write_seconds_{fmt}"] = write_file(path, fmt, copies, X)
            for r in range(args.repeats):
                for source in ("memory", fmt):
                    if source != "memory" and not args.warm:
                        drop_cache(path)
                    before = loadavg()
                    run = run_child(source, None if source == "memory" else path, labels)
                    run.update(repeat=r, format=fmt, loadavg_before=before, loadavg_after=loadavg())
                    results["runs"].append(run)
                    used = run["peak_rss_bytes"] - run["baseline_rss_bytes"]
                    say(f"  {source:6s} {run['rows']:>9,} rows {run['seconds']:7.2f} s "
                        f"{run['samples_per_second']:>9,.0f} samples/s  peak − baseline {used / MB:6.0f} MB  "
                        f"(load {before} → {run['loadavg_after']})")  # fmt: skip
            path.unlink()
    finally:
        shutil.rmtree(folder, ignore_errors=True) if args.dir is None else labels.unlink(missing_ok=True)
    say("\nmedians (streamed / in memory; target ≥ 0.80 of the in-memory speed, peak ≤ budget):")
    summary = {}
    memory_speed = statistics.median(
        r["samples_per_second"] for r in results["runs"] if r["source"] == "memory"
    )
    for fmt in args.formats.split(","):
        runs = [r for r in results["runs"] if r["source"] == fmt]
        speed = statistics.median(r["samples_per_second"] for r in runs)
        used = max(r["peak_rss_bytes"] - r["baseline_rss_bytes"] for r in runs)
        budget = runs[0]["model_and_optimiser_bytes"] + 4 * runs[0]["batch_bytes"] + 100 * MB
        summary[fmt] = {
            "samples_per_second": speed, "ratio_to_memory": speed / memory_speed,
            "peak_minus_baseline_bytes": used, "budget_bytes": budget,
            "speed_status": "PASS" if speed / memory_speed >= 0.8 else "MISS",
            "memory_status": "PASS" if used <= budget else "MISS",
        }  # fmt: skip
        s = summary[fmt]
        say(f"  {fmt}: {speed:,.0f} samples/s = {s['ratio_to_memory']:.2f} × in memory ({memory_speed:,.0f}) "
            f"{s['speed_status']}; peak − baseline {used / MB:.0f} MB ≤ {budget / MB:.0f} MB {s['memory_status']}")  # fmt: skip
    results["summary"] = summary
    results["in_memory_samples_per_second"] = memory_speed
    Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
    say(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
