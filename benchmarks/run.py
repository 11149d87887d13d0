#!/usr/bin/env python3
"""Side-by-side benchmarks: deepmat against PyTorch (CPU) and scikit-learn's MLPClassifier.

    python benchmarks/run.py [--quick] [--json PATH] [--repeats N] [--cases 1,2,3,4] [--threads 2]

All libraries run in this one process, on the same data, architecture, optimiser, batch size,
dtype and thread count (threadpoolctl limits NumPy's and scikit-learn's BLAS/OpenMP pools,
``torch.set_num_threads`` PyTorch's). Within each repeat the libraries take turns (deepmat,
torch, scikit-learn, GEMM floor, deepmat, torch, …) so that a change of machine load hits them
alike; the table reports medians over the repeats and the ratios deepmat / peer (< 1: deepmat is
faster). The GEMM floor is the time of only the matrix products the same training needs, in
NumPy with preallocated outputs: forward W·A for every layer, backward dW = dZ·Aᵀ for every
layer and dA_prev = Wᵀ·dZ for every layer but the first.

Cases:
 1. Fashion-MNIST 784-256-128-10, ReLU, softmax cross-entropy, Adam 1e-3, batch 128, float32:
    seconds per epoch; test accuracy after 5 epochs (deepmat, torch); deepmat's peak memory and
    RSS per epoch, measured in a subprocess.
 2. The seeds' cat model [12288, 20, 7, 5, 1], full-batch gradient descent, α = 0.0075, 2500
    iterations, float64 and float32; deepmat's cost curve checked against the published one.
 3. Inference with the case-1 architecture: 1-sample latency and 10,000-sample throughput.
 4. Scaling: seconds per epoch as the batch size and the hidden width grow.

Targets (from the issue) are printed PASS/MISS next to the ratios; they never fail the run.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_JSON = HERE / "results.json"
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
MB = 1e6

# the published figures deepmat's cat model must reproduce (README.md, "Figures we reproduce")
CAT_REFERENCE = {0: 0.7717493, 2400: 0.0928782}

TARGETS = {  # ratio (or quantity) ≤ bound; printed PASS/MISS, never enforced (speed round 2)
    "case1.epoch.deepmat/torch": 0.5,
    "case1.epoch.deepmat/sklearn": 0.5,
    "case1.epoch.deepmat/gemm_floor": 1.3,
    "case2.float64.deepmat/torch": 0.25,
    "case3.latency_1.deepmat/torch": 0.5,
    "case3.throughput_10k.deepmat/torch": 0.5,
    # scaling: deepmat within 1.5× of the products at every batch ≥ 128 and width ≥ 256
    "case4.batch_128.deepmat/gemm_floor": 1.5,
    "case4.batch_512.deepmat/gemm_floor": 1.5,
    "case4.batch_1024.deepmat/gemm_floor": 1.5,
    "case4.width_256.deepmat/gemm_floor": 1.5,
    "case4.width_1024.deepmat/gemm_floor": 1.5,
    "case4.width_2048.deepmat/gemm_floor": 1.5,
}

#: the variables that pin NumPy's OpenBLAS to older kernels on these machines; unset, OpenBLAS
#: picks the CPU's own (``--blas-kernels own`` runs the benchmark in a child without them)
PINNING_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
ACCURACY_TOLERANCE = 0.005  # deepmat's accuracy may trail torch's by at most 0.5 points
GROWTH_TOLERANCE = 5 * MB  # "no growth": RSS after later epochs at most this above epoch 1's


# -- small tools --------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def timed(fn: Callable[[], Any]) -> float:
    """Seconds taken by ``fn()`` (garbage collected first, outside the timing)."""
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def alternate(runners: dict[str, Callable[[], float]], repeats: int) -> dict[str, list[float]]:
    """Each repeat calls every runner once, in order; a runner returns its own timing."""
    raw: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(repeats):
        for name, run in runners.items():
            raw[name].append(run())
    return raw


def vmrss() -> int:
    """This process's resident set size now, in bytes (/proc/self/status VmRSS)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def vmhwm() -> int:
    """This process image's peak resident set size, in bytes (/proc/self/status VmHWM)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def peak_rss() -> int:
    """Peak resident set size of this process so far, in bytes (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().strip()
    except OSError:
        return "n/a"


class CpuMeter:
    """CPU time used on the whole machine (/proc/stat) against this process's own (with its
    waited-for children): the difference is what *other* processes took while we measured."""

    def __init__(self) -> None:
        self.start = self.sample()

    @staticmethod
    def sample() -> dict[str, float]:
        tick = os.sysconf("SC_CLK_TCK")
        busy = steal = 0.0
        try:
            fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
            idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
            steal = fields[7] / tick if len(fields) > 7 else 0.0
            busy = (sum(fields[:8]) - idle - (fields[7] if len(fields) > 7 else 0)) / tick
        except (OSError, ValueError, IndexError):
            pass
        t = os.times()
        own = t.user + t.system + t.children_user + t.children_system
        return {"wall": time.perf_counter(), "busy": busy, "steal": steal, "own": own}

    def stop(self) -> dict[str, float]:
        end = self.sample()
        wall = end["wall"] - self.start["wall"]
        own = end["own"] - self.start["own"]
        other = max(0.0, end["busy"] - self.start["busy"] - own)
        return {
            "wall_seconds": wall,
            "own_cpu_seconds": own,
            "other_processes_cpu_seconds": other,
            "other_processes_cores_average": other / wall if wall > 0 else 0.0,
            "steal_seconds": end["steal"] - self.start["steal"],
            "loadavg_after": loadavg(),
        }


def fmt_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.3f} s"


def say(*parts: Any) -> None:
    print(*parts, flush=True)


def idx_file(folder: Path, name: str) -> Path:
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"{folder / name}[.gz] not found: install Fashion-MNIST with `apt-get install -y dataset-fashion-mnist`"
    )


# -- machine and threads ------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    import sklearn
    import torch

    cpu_model, cores_per_socket = "unknown", None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and cpu_model == "unknown":
                cpu_model = value.strip()
            if key.strip() == "cpu cores" and cores_per_socket is None:
                cores_per_socket = int(value)
    except OSError:
        pass
    mem_total = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_total = int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = {k: blas.get(k) for k in ("name", "version", "openblas configuration") if k in blas}
    except Exception as error:  # numpy's config layout is not an API
        blas = {"error": repr(error)}
    return {
        "cpu_model": cpu_model,
        "cores_logical": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)),
        "cores_per_socket": cores_per_socket,
        "memory_bytes": mem_total,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "sklearn": sklearn.__version__,
        "numpy_blas": blas,
        "openblas_coretype_env": os.environ.get("OPENBLAS_CORETYPE"),
        "openblas_l2_size_env": os.environ.get("OPENBLAS_L2_SIZE"),
        "blas_kernels": blas_kernels(),
        "deepmat_kernels": deepmat_kernels_in_use(),
        "torch_blas": "MKL" if torch.backends.mkl.is_available() else "other",
    }


def blas_kernels() -> str:
    """ "pinned" when the environment holds OpenBLAS to its kernels, else "own" (the CPU's)."""
    return "pinned" if any(os.environ.get(v) for v in PINNING_VARIABLES) else "own"


def deepmat_kernels_in_use() -> str:
    from deepmat.kernels import kernels_in_use

    return kernels_in_use()


def threads_in_effect() -> dict[str, Any]:
    import torch
    from threadpoolctl import threadpool_info

    pools = [
        {
            "prefix": p.get("prefix"),
            "user_api": p.get("user_api"),
            "internal_api": p.get("internal_api"),
            "num_threads": p.get("num_threads"),
            "version": p.get("version"),
            "architecture": p.get("architecture"),
            "filepath": p.get("filepath"),
        }
        for p in threadpool_info()
    ]
    parallel = {}
    for line in torch.__config__.parallel_info().splitlines():
        name, sep, value = line.partition(" : ")
        if sep and value.strip().isdigit():
            parallel[name.strip()] = int(value)
    return {
        "threadpoolctl": pools,
        "torch_num_threads": torch.get_num_threads(),
        "torch_num_interop_threads": torch.get_num_interop_threads(),
        "torch_parallel_info": parallel,
    }


def print_threads(requested: int, info: dict[str, Any]) -> None:
    say(f"threads requested: {requested}; in effect:")
    for p in info["threadpoolctl"]:
        where = "/".join(Path(p["filepath"] or "?").parts[-3:])
        say(
            f"  {p['user_api']:6s} {p['internal_api']:9s} {p['num_threads']} threads  {p['prefix']} ({where})"
            + (f", kernels {p['architecture']}" if p.get("architecture") else "")
        )
    pinned = {v: os.environ[v] for v in PINNING_VARIABLES if os.environ.get(v)}
    say(
        f"  BLAS kernels pinned by the environment ({', '.join(f'{k}={v}' for k, v in pinned.items())}): "
        "NumPy's OpenBLAS uses those"
        if pinned
        else f"  BLAS kernels: the CPU's own ({' and '.join(PINNING_VARIABLES)} unset: OpenBLAS picks them)"
    )
    say(f"  deepmat's elementwise kernels: {deepmat_kernels_in_use()} (deepmat.kernels)")
    extra = ", ".join(f"{k} = {v}" for k, v in info["torch_parallel_info"].items())
    say(
        f"  torch: get_num_threads() = {info['torch_num_threads']}, "
        f"interop = {info['torch_num_interop_threads']}; {extra}"
    )


# -- data ---------------------------------------------------------------------------------------


def load_fashion(n_train: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from deepmat.data import load_fashion_mnist

    data = load_fashion_mnist(FASHION_DIR, dtype="float32")
    X, y = data.X_train, data.y_train
    if n_train is not None and n_train < X.shape[0]:
        X, y = X[:n_train].copy(), y[:n_train].copy()
    return X, y, data.X_test, data.y_test


# -- deepmat, torch, scikit-learn and the GEMM floor as timed runners --------------------------


def deepmat_mlp(dims: list[int], dtype: str, init: str = "he", seed: int = 0):
    import deepmat

    return deepmat.Network(dims, "relu", "softmax", init=init, seed=seed, dtype=dtype)


class DeepmatEpochs:
    """One ``fit(epochs=1)`` call per timing, continuing with the same network and Adam."""

    def __init__(self, dims: list[int], X: np.ndarray, y: np.ndarray, batch_size: int, lr: float):
        import deepmat
        from deepmat.callbacks import Callback

        self.net = deepmat_mlp(dims, X.dtype.name)
        self.optimizer = deepmat.optimizers.Adam(learning_rate=lr)
        self.X, self.y, self.batch_size = X, y, batch_size
        self.inside: list[float] = []  # on_epoch_begin → on_epoch_end, inside fit

        owner = self

        class EpochClock(Callback):
            in_checkpoint = False

            def on_epoch_begin(self, epoch: int) -> None:
                self.start = time.perf_counter()

            def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
                owner.inside.append(time.perf_counter() - self.start)

        self.clock = EpochClock()

    def fit(self, X: np.ndarray, y: np.ndarray, callbacks=()) -> None:
        self.net.fit(
            X,
            y,
            epochs=1,
            batch_size=self.batch_size,
            optimizer=self.optimizer,
            shuffle=True,
            verbose=0,
            callbacks=callbacks,
        )

    def warm_up(self, n: int = 2048) -> None:
        self.fit(self.X[:n], self.y[:n])

    def timed_epoch(self) -> float:
        return timed(lambda: self.fit(self.X, self.y, callbacks=[self.clock]))


def torch_mlp(dims: list[int], torch_dtype, final=None):
    from torch import nn

    modules: list[Any] = []
    for l in range(1, len(dims)):
        modules.append(nn.Linear(dims[l - 1], dims[l]))
        if l < len(dims) - 1:
            modules.append(nn.ReLU())
    if final is not None:
        modules.append(final)
    return nn.Sequential(*modules).to(torch_dtype)


def copy_params_to_torch(net, model) -> None:
    """deepmat's W[l] (n[l], n[l-1]) and b[l] (n[l], 1) into the Linear layers, in order."""
    import torch

    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        for l, linear in enumerate(linears, start=1):
            linear.weight.copy_(torch.from_numpy(net.params[f"W{l}"]))
            linear.bias.copy_(torch.from_numpy(net.params[f"b{l}"][:, 0]))


class TorchEpochs:
    """The fastest fair PyTorch loop: no DataLoader; a per-epoch ``randperm`` gathers the rows
    into preallocated tensors, then contiguous slices are the batches."""

    def __init__(self, dims, X: np.ndarray, y: np.ndarray, batch_size: int, lr: float, init_from=None):
        import torch

        self.torch = torch
        dtype = torch.float64 if X.dtype == np.float64 else torch.float32
        self.model = torch_mlp(dims, dtype)
        if init_from is not None:
            copy_params_to_torch(init_from, self.model)
        self.X = torch.from_numpy(X)  # shares memory with the NumPy array
        self.y = torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64))
        self.X_epoch, self.y_epoch = torch.empty_like(self.X), torch.empty_like(self.y)
        self.loss_fn = torch.nn.CrossEntropyLoss()
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=lr)  # foreach: the default
        self.generator = torch.Generator().manual_seed(0)
        self.batch_size = batch_size

    def epoch(self, max_batches: int | None = None) -> None:
        torch, model, optimizer, loss_fn = self.torch, self.model, self.optimizer, self.loss_fn
        m, bs = self.X.shape[0], self.batch_size
        order = torch.randperm(m, generator=self.generator)
        torch.index_select(self.X, 0, order, out=self.X_epoch)
        torch.index_select(self.y, 0, order, out=self.y_epoch)
        model.train()
        for i, start in enumerate(range(0, m, bs)):
            if max_batches is not None and i >= max_batches:
                break
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(self.X_epoch[start : start + bs]), self.y_epoch[start : start + bs])
            loss.backward()
            optimizer.step()

    def warm_up(self) -> None:
        self.epoch(max_batches=16)

    def timed_epoch(self) -> float:
        return timed(self.epoch)

    def accuracy(self, X: np.ndarray, y: np.ndarray) -> float:
        torch = self.torch
        self.model.eval()
        with torch.inference_mode():
            predicted = self.model(torch.from_numpy(X)).argmax(dim=1).numpy()
        return float((predicted == y).mean())


class SklearnEpochs:
    """MLPClassifier, one ``partial_fit`` epoch (shuffled) per timing, warnings silenced."""

    def __init__(self, hidden: tuple[int, ...], X: np.ndarray, y: np.ndarray, batch_size: int, lr: float):
        from sklearn.neural_network import MLPClassifier

        self.clf = MLPClassifier(
            hidden_layer_sizes=hidden,
            activation="relu",
            solver="adam",
            batch_size=batch_size,
            learning_rate_init=lr,
            max_iter=1,
            alpha=0.0,
            shuffle=True,
            random_state=0,
        )
        self.X, self.y = X, y
        self.classes = np.unique(y)

    def partial_fit(self, X: np.ndarray, y: np.ndarray) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.clf.partial_fit(X, y, classes=self.classes)

    def warm_up(self, n: int = 2048) -> None:
        self.partial_fit(self.X[:n], self.y[:n])

    def timed_epoch(self) -> float:
        return timed(lambda: self.partial_fit(self.X, self.y))


class GemmFloor:
    """Only the matrix products of one epoch, same shapes, layouts and dtype, in NumPy with
    preallocated outputs (``np.matmul(..., out=)``). As in deepmat, A[0] = X_batchᵀ is a
    transposed view of a row-major batch; Z[l] and dZ[l] are (n[l], m) in the memory order
    deepmat gives them (``deepmat.layers.z_order``: column-major when n[l] < m, the forward
    product then computed as Zᵀ = Aᵀ·Wᵀ, the faster way round for OpenBLAS)."""

    def __init__(self, dims: list[int], X: np.ndarray, batch_size: int, seed: int = 0):
        rng = np.random.default_rng(seed)
        dtype = X.dtype
        self.X, self.dims, self.batch_size = X, dims, batch_size
        L = len(dims) - 1
        self.W = [
            (rng.standard_normal((dims[l], dims[l - 1])) / np.sqrt(dims[l - 1])).astype(dtype)
            for l in range(1, L + 1)
        ]
        self.dW = [np.empty_like(W) for W in self.W]
        m = X.shape[0]
        self.buffers = {}
        from deepmat.layers import z_order

        for b in {min(batch_size, m - start) for start in range(0, m, batch_size)}:
            Z = [np.empty((dims[l], b), dtype, order=z_order(dims[l], b)) for l in range(1, L + 1)]
            dZ = [(0.01 * rng.standard_normal((dims[l], b))).astype(dtype) for l in range(1, L + 1)]
            dA = [np.empty((dims[l - 1], b), dtype) for l in range(1, L + 1)]
            self.buffers[b] = (Z, dZ, dA)

    def epoch(self, max_batches: int | None = None) -> None:
        W, dW, X, bs = self.W, self.dW, self.X, self.batch_size
        m, L = X.shape[0], len(W)
        matmul = np.matmul
        for i, start in enumerate(range(0, m, bs)):
            if max_batches is not None and i >= max_batches:
                break
            stop = min(start + bs, m)
            Z, dZ, dA = self.buffers[stop - start]
            A0 = X[start:stop].T
            A = A0
            for l in range(L):  # forward: Z[l] = W[l]·A[l-1], or Zᵀ = Aᵀ·Wᵀ when Z is column-major
                if Z[l].flags.c_contiguous:
                    matmul(W[l], A, out=Z[l])
                else:
                    matmul(A.T, W[l].T, out=Z[l].T)
                A = Z[l]
            for l in range(L - 1, -1, -1):  # backward: dW[l] = dZ[l]·A[l-1]ᵀ, dA[l-1] = W[l]ᵀ·dZ[l]
                A_prev = A0 if l == 0 else Z[l - 1]
                matmul(dZ[l], A_prev.T, out=dW[l])
                if l > 0:
                    matmul(W[l].T, dZ[l], out=dA[l])

    def warm_up(self) -> None:
        self.epoch(max_batches=16)

    def timed_epoch(self, iterations: int = 1) -> float:
        def run() -> None:
            for _ in range(iterations):
                self.epoch()

        return timed(run)


# -- results bookkeeping ------------------------------------------------------------------------


class Results:
    def __init__(self) -> None:
        self.cases: dict[str, dict[str, Any]] = {}
        self.medians: dict[str, float] = {}
        self.ratios: dict[str, float] = {}
        self.rows: list[tuple] = []  # for the table
        self.checks: list[dict[str, Any]] = []  # non-ratio targets and checks
        self.contention: list[tuple[int, dict[str, float]]] = []

    def case(self, number: int) -> dict[str, Any]:
        return self.cases.setdefault(str(number), {"measurements": {}})

    def measurement(
        self, case: int, key: str, label: str, raw: dict[str, list[float]], peers: list[str], unit: str = "s"
    ) -> dict[str, Any]:
        medians = {name: median(values) for name, values in raw.items() if values}
        ratios = {f"deepmat/{peer}": medians["deepmat"] / medians[peer] for peer in peers}
        entry = {"label": label, "unit": unit, "raw": raw, "medians": medians, "ratios": ratios}
        self.case(case)["measurements"][key] = entry
        for name, value in medians.items():
            self.medians[f"case{case}.{key}.{name}"] = value
        for first, (name, value) in enumerate(ratios.items()):
            full = f"case{case}.{key}.{name}"
            self.ratios[full] = value
            peer = name.split("/", 1)[1]
            target = TARGETS.get(full)
            status = "" if target is None else ("PASS" if value <= target else "MISS")
            self.rows.append(
                (
                    str(case) if first == 0 else "",
                    label if first == 0 else "",
                    fmt_time(medians["deepmat"]) if first == 0 else "",
                    PEER_NAMES.get(peer, peer),
                    fmt_time(medians[peer]),
                    f"{value:.2f}×",
                    "" if target is None else f"≤ {target:.2f}×",
                    status,
                )
            )
        return entry

    def check(self, case: int, name: str, value: str, target: str, status: str) -> None:
        self.checks.append({"case": case, "check": name, "value": value, "target": target, "status": status})


PEER_NAMES = {
    "torch": "torch",
    "sklearn": "sklearn",
    "gemm_floor": "GEMM floor",
    "torch_float64": "torch",
}


# -- case 1: Fashion-MNIST training -------------------------------------------------------------


def case1(args, results: Results) -> None:
    quick = args.quick
    n_train = 10_000 if quick else None
    dims, batch_size, lr = [784, 256, 128, 10], 128, 1e-3
    X, y, X_test, y_test = load_fashion(n_train)
    say(
        f"\n== case 1: Fashion-MNIST {X.shape[0]} samples, {'-'.join(map(str, dims))}, ReLU, softmax CE, "
        f"Adam {lr:g}, batch {batch_size}, float32 =="
    )
    deep = DeepmatEpochs(dims, X, y, batch_size, lr)
    tor = TorchEpochs(dims, X, y, batch_size, lr)
    skl = SklearnEpochs((256, 128), X, y, batch_size, lr)
    floor = GemmFloor(dims, X, batch_size)
    for runner in (deep, tor, skl, floor):
        runner.warm_up()
    deep.inside.clear()
    raw = alternate(
        {
            "deepmat": deep.timed_epoch,
            "torch": tor.timed_epoch,
            "sklearn": skl.timed_epoch,
            "gemm_floor": floor.timed_epoch,
        },
        args.repeats,
    )
    entry = results.measurement(
        1, "epoch", f"epoch, {X.shape[0]} samples", raw, ["torch", "sklearn", "gemm_floor"]
    )
    entry["deepmat_inside_fit"] = {
        "raw": list(deep.inside),
        "median": median(deep.inside),
        "note": "on_epoch_begin → on_epoch_end inside fit: excludes fit's input checks, one-hot "
        "encoding and setup, which the headline deepmat time (the whole fit(epochs=1) call) includes",
    }
    results.medians["case1.epoch.deepmat_inside_fit"] = median(deep.inside)
    for peer in ("torch", "sklearn"):
        reachability(results, 1, "epoch", "epoch", entry, peer)
    entry["sklearn_coef_dtype"] = str(skl.clf.coefs_[0].dtype)
    say(
        "  medians: "
        + ", ".join(f"{k} {fmt_time(v)}" for k, v in entry["medians"].items())
        + f"; deepmat's epoch inside fit {fmt_time(median(deep.inside))}"
    )

    # accuracy after 5 epochs: deepmat in the memory subprocess (run first thing, see main),
    # torch here, from the same initial weights
    memory = args.memory
    epochs = memory["epochs"]
    acc_torch_runner = TorchEpochs(dims, X, y, batch_size, lr, init_from=deepmat_mlp(dims, "float32"))
    start = time.perf_counter()
    for _ in range(epochs):
        acc_torch_runner.epoch()
    torch_seconds = time.perf_counter() - start
    acc_torch = acc_torch_runner.accuracy(X_test, y_test)
    acc_deepmat = memory["test_accuracy"]
    accuracy = {
        "epochs": epochs,
        "deepmat": acc_deepmat,
        "torch": acc_torch,
        "difference_points": 100 * (acc_deepmat - acc_torch),
        "deepmat_train_seconds": memory["train_seconds"],
        "torch_train_seconds": torch_seconds,
        "init": "both start from deepmat's He-normal weights (Network(..., init='he', seed=0)), "
        "copied into torch's Linear layers, biases 0; shuffling orders differ",
    }
    results.case(1)["accuracy"] = accuracy
    status = "PASS" if acc_deepmat >= acc_torch - ACCURACY_TOLERANCE else "MISS"
    results.check(
        1,
        f"test accuracy after {epochs} epochs",
        f"deepmat {acc_deepmat:.4f}, torch {acc_torch:.4f} ({accuracy['difference_points']:+.2f} pts)",
        "≥ torch − 0.5 pts",
        status,
    )
    say(f"  accuracy after {epochs} epochs: deepmat {acc_deepmat:.4f}, torch {acc_torch:.4f}")

    # for context: deepmat's epochs inside one multi-epoch fit (buffers allocated once per fit)
    steady = median(memory["epoch_seconds"])
    results.medians["case1.epoch.deepmat_in_5_epoch_fit_subprocess"] = steady
    results.check(
        1,
        f"deepmat epoch inside one {epochs}-epoch fit (subprocess, not alternated; for context)",
        f"median {fmt_time(steady)} = {steady / entry['medians']['torch']:.2f}× torch's median "
        f"(per epoch: {', '.join(f'{v:.3f}' for v in memory['epoch_seconds'])} s)",
        "—",
        "info",
    )

    results.case(1)["memory"] = memory
    used = memory["peak_rss_bytes"] - memory["baseline_rss_bytes"]
    budget = memory["dataset_bytes"] + 100 * MB
    results.check(
        1,
        "peak RSS − baseline (deepmat, subprocess; baseline after loading its kernels)",
        f"{used / MB:.0f} MB (dataset {memory['dataset_bytes'] / MB:.0f} MB)",
        f"≤ dataset + 100 MB = {budget / MB:.0f} MB",
        "PASS" if used <= budget else "MISS",
    )
    per_epoch = memory["rss_after_epoch_bytes"]
    growth = max(per_epoch[1:], default=per_epoch[0]) - per_epoch[0]
    memory["growth_after_epoch_1_bytes"] = growth
    results.check(
        1,
        "RSS after each epoch",
        " / ".join(f"{v / MB:.0f}" for v in per_epoch) + f" MB (growth {growth / MB:+.1f} MB)",
        f"no growth (≤ {GROWTH_TOLERANCE / MB:.0f} MB)",
        "PASS" if growth <= GROWTH_TOLERANCE else "MISS",
    )
    say(
        f"  memory: after import {memory['import_rss_bytes'] / MB:.0f} MB, + kernels "
        f"({memory['deepmat_kernels']}) {memory['kernels_rss_bytes'] / MB:.0f} MB = baseline "
        f"{memory['baseline_rss_bytes'] / MB:.0f} MB, after loading "
        f"{memory['after_load_rss_bytes'] / MB:.0f} MB, peak {memory['peak_rss_bytes'] / MB:.0f} MB, "
        f"per epoch {[round(v / MB) for v in per_epoch]} MB"
    )


def run_memory_child(threads: int, n_train: int | None, epochs: int) -> dict[str, Any]:
    """deepmat's 5-epoch case-1 training in a fresh interpreter (nothing else loaded)."""
    spec = json.dumps({"threads": threads, "n_train": n_train, "epochs": epochs})
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--memory-child", spec],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"memory subprocess failed ({proc.returncode}):\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def memory_child(spec: str) -> None:
    """Run in the subprocess: baseline RSS, load the training set, train with a callback that
    records VmRSS after every epoch, then peak RSS; the test set is read only afterwards."""
    options = json.loads(spec)
    from threadpoolctl import threadpool_limits

    import deepmat
    from deepmat.callbacks import Callback
    from deepmat.data import load_idx
    from deepmat.preprocessing import scale

    class RssPerEpoch(Callback):
        in_checkpoint = False

        def __init__(self) -> None:
            self.rss: list[int] = []
            self.seconds: list[float] = []

        def on_epoch_begin(self, epoch: int) -> None:
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
            self.seconds.append(time.perf_counter() - self.start)
            self.rss.append(vmrss())

    with threadpool_limits(limits=options["threads"]):
        import_rss = vmrss()
        # load deepmat's kernels (Numba and its compiled loops, from the cache) on a tiny fit:
        # a fixed cost of the library, reported apart from what training on the data costs
        rng = np.random.default_rng(0)
        warm = deepmat_mlp([784, 256, 128, 10], "float32")
        warm.fit(rng.random((256, 784), np.float32), rng.integers(0, 10, 256), epochs=1, batch_size=128,
                 optimizer="adam", verbose=0)  # fmt: skip
        del warm
        baseline = vmrss()
        baseline_peak = peak_rss()
        images = load_idx(idx_file(FASHION_DIR, "train-images-idx3-ubyte"))
        labels = load_idx(idx_file(FASHION_DIR, "train-labels-idx1-ubyte"))
        n = options["n_train"] or images.shape[0]
        X = scale(images[:n].reshape(n, -1), 255, "float32")
        y = labels[:n].astype(np.int64)
        del images, labels
        after_load = vmrss()
        net = deepmat_mlp([784, 256, 128, 10], "float32")
        callback = RssPerEpoch()
        start = time.perf_counter()
        net.fit(
            X,
            y,
            epochs=options["epochs"],
            batch_size=128,
            optimizer="adam",
            learning_rate=1e-3,
            callbacks=[callback],
            verbose=0,
        )
        seconds = time.perf_counter() - start
        peak = peak_rss()
        hwm = vmhwm()
        after_fit = vmrss()
        X_test = scale(load_idx(idx_file(FASHION_DIR, "t10k-images-idx3-ubyte")).reshape(-1, 784), 255)
        y_test = load_idx(idx_file(FASHION_DIR, "t10k-labels-idx1-ubyte")).astype(np.int64)
        accuracy = net.score(X_test, y_test)
    print(
        json.dumps(
            {
                "deepmat_version": deepmat.__version__,
                "n_train": int(X.shape[0]),
                "epochs": options["epochs"],
                "dataset_bytes": int(X.nbytes + y.nbytes),
                "import_rss_bytes": import_rss,
                "kernels_rss_bytes": baseline - import_rss,
                "deepmat_kernels": deepmat_kernels_in_use(),
                "baseline_rss_bytes": baseline,
                "baseline_peak_rss_bytes": baseline_peak,
                "after_load_rss_bytes": after_load,
                "rss_after_epoch_bytes": callback.rss,
                "epoch_seconds": callback.seconds,
                "after_fit_rss_bytes": after_fit,
                "peak_rss_bytes": peak,
                "vmhwm_bytes": hwm,
                "train_seconds": seconds,
                "test_accuracy": accuracy,
                "note": "baseline: VmRSS after importing deepmat and loading its kernels (a tiny fit; "
                "kernels_rss_bytes is what that took), before reading the data; peak: "
                "ru_maxrss after training (the test set is read afterwards); VmHWM: the same peak "
                "from /proc/self/status, as a cross-check",
            }
        )
    )


# -- case 2: the seeds' cat model, full batch ---------------------------------------------------


def case2(args, results: Results) -> None:
    import torch

    import deepmat
    from deepmat.data import load_catvnoncat

    iterations = 200 if args.quick else 2500
    dims, lr = [12288, 20, 7, 5, 1], 0.0075
    cat = load_catvnoncat()
    say(
        f"\n== case 2: cat model {dims}, full batch ({cat.X_train.shape[0]} samples), gradient descent "
        f"α = {lr}, {iterations} iterations, float64 and float32 =="
    )
    case = results.case(2)
    case["iterations"] = iterations
    for dtype in ("float64", "float32"):
        X = np.ascontiguousarray(cat.X_train, dtype=dtype)
        y = cat.y_train
        torch_dtype = torch.float64 if dtype == "float64" else torch.float32
        Xt = torch.from_numpy(X)
        yt = torch.from_numpy(y.astype(dtype).reshape(-1, 1))
        curves: dict[str, list[float]] = {}

        def run_deepmat(dtype=dtype, X=X, y=y, curves=curves) -> float:
            net = deepmat.Network(dims, init="scaled", seed=1, dtype=dtype)
            out: dict[str, Any] = {}
            seconds = timed(
                lambda: out.update(
                    history=net.fit(X, y, learning_rate=lr, iterations=iterations, print_every=0)
                )
            )
            curves["deepmat"] = [float(c) for c in out["history"]]
            return seconds

        def run_torch(dtype=dtype, Xt=Xt, yt=yt, torch_dtype=torch_dtype, curves=curves) -> float:
            model = torch_mlp(dims, torch_dtype)
            copy_params_to_torch(deepmat.Network(dims, init="scaled", seed=1, dtype=dtype), model)
            loss_fn = torch.nn.BCEWithLogitsLoss()  # mean over samples, sigmoid folded in
            optimizer = torch.optim.SGD(model.parameters(), lr=lr)
            costs: list[float] = []

            def loop() -> None:
                for i in range(iterations):
                    optimizer.zero_grad(set_to_none=True)
                    loss = loss_fn(model(Xt), yt)
                    loss.backward()
                    optimizer.step()
                    if i % 100 == 0:
                        costs.append(loss.item())

            seconds = timed(loop)
            curves["torch_every_100"] = costs
            return seconds

        floor = GemmFloor(dims, X, X.shape[0])
        floor.warm_up()
        raw = alternate(
            {
                "deepmat": run_deepmat,
                "torch": run_torch,
                "gemm_floor": lambda floor=floor: floor.timed_epoch(iterations),
            },
            args.repeats,
        )
        entry = results.measurement(
            2, dtype, f"{iterations} iterations, {dtype}", raw, ["torch", "gemm_floor"]
        )
        if dtype == "float64":
            reachability(
                results,
                2,
                dtype,
                entry["label"],
                entry,
                "torch",
                " (deepmat's full-batch Gram shortcut, deepmat.fullbatch, skips the first layer's "
                "forward product, so deepmat can run below this floor)",
            )
        costs = curves["deepmat"]
        entry["deepmat_cost_every_100"] = costs[::100]
        entry["torch_cost_every_100"] = curves["torch_every_100"]
        say("  medians: " + ", ".join(f"{k} {fmt_time(v)}" for k, v in entry["medians"].items()))
        say(
            f"  cost @{100 * (len(costs[::100]) - 1)}: deepmat {costs[::100][-1]:.7f}, "
            f"torch {curves['torch_every_100'][-1]:.7f}"
        )
        if dtype == "float64":
            checked = {i: costs[i] for i in CAT_REFERENCE if i < len(costs)}
            ok = all(round(costs[i], 7) == CAT_REFERENCE[i] for i in checked)
            entry["cost_check"] = {
                "reference": {str(i): CAT_REFERENCE[i] for i in checked},
                "deepmat": {str(i): costs[i] for i in checked},
                "status": "OK" if ok else "MISMATCH",
            }
            shown = ", ".join(f"@{i} {costs[i]:.7f}" for i in checked)
            results.check(
                2,
                "deepmat cost curve (float64)",
                shown,
                ", ".join(f"@{i} {CAT_REFERENCE[i]}" for i in checked),
                "OK" if ok else "MISMATCH",
            )
            say(f"  cost check vs the published curve: {shown} → {'OK' if ok else 'MISMATCH'}")


# -- case 3: inference --------------------------------------------------------------------------


def case3(args, results: Results) -> None:
    import torch
    from sklearn.neural_network import MLPClassifier

    dims = [784, 256, 128, 10]
    n_calls = 500 if args.quick else 2000
    n_big_calls = 5 if args.quick else 20
    _, _, X_test, _ = load_fashion(10)
    X1 = np.ascontiguousarray(X_test[:1])
    X10k = np.ascontiguousarray(X_test[:10_000])
    say(
        f"\n== case 3: inference, {'-'.join(map(str, dims))} float32; 1 sample × {n_calls} calls and "
        f"{X10k.shape[0]} samples × {n_big_calls} calls per repeat =="
    )
    net = deepmat_mlp(dims, "float32")
    model = torch_mlp(dims, torch.float32)
    copy_params_to_torch(net, model)
    model.eval()
    clf = MLPClassifier(hidden_layer_sizes=(256, 128), max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.partial_fit(X10k[:1000], np.arange(1000) % 10, classes=np.arange(10))
    for l in range(3):  # the same weights everywhere, so the outputs can be compared
        clf.coefs_[l][...] = net.params[f"W{l + 1}"].T
        clf.intercepts_[l][...] = net.params[f"b{l + 1}"][:, 0]
    x1_t, x10k_t = torch.from_numpy(X1), torch.from_numpy(X10k)

    def torch_proba(x):
        with torch.inference_mode():
            return torch.softmax(model(x), dim=1)

    agreement = {
        "max_abs_diff_torch": float(np.abs(net.predict_proba(X10k) - torch_proba(x10k_t).numpy()).max()),
        "max_abs_diff_sklearn": float(np.abs(net.predict_proba(X10k) - clf.predict_proba(X10k)).max()),
    }
    results.case(3)["agreement"] = agreement
    say(
        f"  same weights in all three: max |Δp| vs torch {agreement['max_abs_diff_torch']:.1e}, "
        f"vs sklearn {agreement['max_abs_diff_sklearn']:.1e}"
    )

    def per_call(fn: Callable[[], Any], n: int) -> Callable[[], list[float]]:
        def run() -> list[float]:
            gc.collect()
            times = []
            clock = time.perf_counter
            for _ in range(n):
                start = clock()
                fn()
                times.append(clock() - start)
            return times

        return run

    floor_1, floor_10k = inference_floor(net, X1), inference_floor(net, X10k)
    for key, label, n, fns in (
        (
            "latency_1",
            "predict_proba, 1 sample",
            n_calls,
            {
                "deepmat": lambda: net.predict_proba(X1),
                "torch": lambda: torch_proba(x1_t),
                "sklearn": lambda: clf.predict_proba(X1),
                "gemm_floor": floor_1,
            },
        ),
        (
            "throughput_10k",
            f"predict_proba, {X10k.shape[0]} samples",
            n_big_calls,
            {
                "deepmat": lambda: net.predict_proba(X10k),
                "torch": lambda: torch_proba(x10k_t),
                "sklearn": lambda: clf.predict_proba(X10k),
                "gemm_floor": floor_10k,
            },
        ),
    ):
        for fn in fns.values():  # warm-up
            per_call(fn, max(3, n // 20))()
        runners = {name: per_call(fn, n) for name, fn in fns.items()}
        per_repeat: dict[str, list[list[float]]] = {name: [] for name in runners}
        for _ in range(args.repeats):
            for name, run in runners.items():
                per_repeat[name].append(run())
        raw = {name: [median(r) for r in reps] for name, reps in per_repeat.items()}
        entry = results.measurement(3, key, label, raw, ["torch", "sklearn", "gemm_floor"])
        reachability(results, 3, key, label, entry, "torch")
        entry["raw_note"] = "raw: per repeat, the median seconds per call; raw_calls: every call"
        entry["raw_calls"] = per_repeat
        if key == "throughput_10k":
            entry["samples_per_second"] = {k: X10k.shape[0] / v for k, v in entry["medians"].items()}
        say("  " + label + ": " + ", ".join(f"{k} {fmt_time(v)}" for k, v in entry["medians"].items()))


def reachability(
    results: Results, case: int, key: str, label: str, entry: dict[str, Any], peer: str, note: str = ""
) -> None:
    """Record whether a deepmat/peer target is reachable by removing overhead: an
    implementation of the standard algorithm computes at least its matrix products, so if
    they alone (the GEMM floor) take more than target × the peer's whole run, only a change of
    algorithm (or of BLAS kernels) can meet the target."""
    target = TARGETS[f"case{case}.{key}.deepmat/{peer}"]
    floor_vs_peer = entry["medians"]["gemm_floor"] / entry["medians"][peer]
    entry[f"gemm_floor/{peer}"] = floor_vs_peer
    results.check(
        case,
        f"{label}: the standard algorithm's matrix products alone (GEMM floor) against "
        f"{PEER_NAMES.get(peer, peer)}'s whole run{note}",
        f"{floor_vs_peer:.2f}× {PEER_NAMES.get(peer, peer)}",
        f"< {target:.2f}× for the deepmat/{PEER_NAMES.get(peer, peer)} target to be reachable by "
        "removing overhead alone",
        "reachable" if floor_vs_peer < target else "out of reach for the standard algorithm",
    )


def inference_floor(net, X: np.ndarray) -> Callable[[], None]:
    """Only the matrix products of one predict on ``X``: Z[l] = W[l]·A[l-1] into preallocated
    arrays of deepmat's memory order (no bias, activation, softmax or input check)."""
    from deepmat.layers import z_order

    m = X.shape[0]
    Ws = [net.params[f"W{l}"] for l in range(1, net.L + 1)]
    Zs = [np.empty((W.shape[0], m), W.dtype, order=z_order(W.shape[0], m)) for W in Ws]
    A0 = X.T

    def run() -> None:
        A = A0
        for W, Z in zip(Ws, Zs, strict=True):
            if Z.flags.c_contiguous:
                np.matmul(W, A, out=Z)
            else:
                np.matmul(A.T, W.T, out=Z.T)
            A = Z

    return run


# -- case 4: scaling ----------------------------------------------------------------------------


def case4(args, results: Results) -> None:
    quick = args.quick
    X, y, _, _ = load_fashion(10_000 if quick else None)
    batch_sizes = (32, 512) if quick else (32, 128, 512, 1024)
    widths = (64, 1024) if quick else (64, 256, 1024, 2048)
    lr = 1e-3
    say(
        f"\n== case 4: scaling, Fashion-MNIST {X.shape[0]} samples, Adam {lr:g}, float32: batch sizes "
        f"{batch_sizes} (784-256-128-10), widths {widths} (784-w-w-10, batch 128) =="
    )
    points = [("batch", bs, [784, 256, 128, 10], bs) for bs in batch_sizes]
    points += [("width", w, [784, w, w, 10], 128) for w in widths]
    for kind, value, dims, batch_size in points:
        deep = DeepmatEpochs(dims, X, y, batch_size, lr)
        tor = TorchEpochs(dims, X, y, batch_size, lr)
        floor = GemmFloor(dims, X, batch_size)
        for runner in (deep, tor, floor):
            runner.warm_up()
        raw = alternate(
            {"deepmat": deep.timed_epoch, "torch": tor.timed_epoch, "gemm_floor": floor.timed_epoch},
            args.repeats,
        )
        label = f"epoch, batch {batch_size}" if kind == "batch" else f"epoch, 784-{value}-{value}-10"
        entry = results.measurement(4, f"{kind}_{value}", label, raw, ["torch", "gemm_floor"])
        entry["deepmat_inside_fit"] = {"raw": list(deep.inside), "median": median(deep.inside)}
        say(f"  {label}: " + ", ".join(f"{k} {fmt_time(v)}" for k, v in entry["medians"].items()))


# -- the table ----------------------------------------------------------------------------------


def print_table(results: Results) -> None:
    header = ("case", "measurement", "deepmat", "peer", "peer time", "deepmat/peer", "target", "")
    rows = [header, *results.rows]
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(header))]
    say("\n" + "=" * 100)
    say("medians over repeats; ratio < 1 means deepmat is faster; targets are printed, not enforced")
    for i, row in enumerate(rows):
        cells = [
            str(c).ljust(w) if j < 2 or j == 3 else str(c).rjust(w)
            for j, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        say("  ".join(cells).rstrip())
        if i == 0:
            say("  ".join("-" * w for w in widths))
    if results.contention:
        say("")
        say("machine load while measuring (CPU time of other processes, averaged over each case):")
        for number, c in results.contention:
            say(
                f"  case {number}: {c['other_processes_cores_average']:.2f} cores busy elsewhere, "
                f"steal {c['steal_seconds']:.1f} s, load average {c['loadavg_before'].split()[0]} → "
                f"{c['loadavg_after'].split()[0]}"
            )
    if results.checks:
        say("")
        say("checks:")
        for c in results.checks:
            say(f"  case {c['case']}: {c['check']}: {c['value']} — target {c['target']}: {c['status']}")


# -- main ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, 2 repeats")
    parser.add_argument("--json", default=None, help=f"where to write the results (default {DEFAULT_JSON})")
    parser.add_argument("--repeats", type=int, default=None, help="repeats per measurement (5; --quick 2)")
    parser.add_argument("--cases", default="1,2,3,4", help="comma-separated case numbers (default 1,2,3,4)")
    parser.add_argument("--threads", type=int, default=2, help="threads for every library (default 2)")
    parser.add_argument(
        "--blas-kernels",
        choices=("as-is", "own", "pinned", "both"),
        default="as-is",
        help="NumPy's OpenBLAS kernels: as the environment has them (default), the CPU's own (a child "
        "process without OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE), the environment's pinned ones, or both in turn",
    )
    parser.add_argument(
        "--deepmat-kernels",
        choices=("numpy", "numba"),
        default=None,
        help="deepmat's elementwise kernels (default: DEEPMAT_KERNELS, else Numba when installed)",
    )
    parser.add_argument("--memory-child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child is not None:
        return args
    if args.repeats is None:
        args.repeats = 2 if args.quick else 5
    if args.repeats < 1:
        parser.error("--repeats must be ≥ 1")
    if args.threads < 1:
        parser.error("--threads must be ≥ 1")
    try:
        args.case_list = sorted({int(c) for c in args.cases.split(",") if c.strip()})
    except ValueError:
        parser.error(f"--cases takes numbers from 1 to 4 separated by commas; received {args.cases!r}")
    if not args.case_list or not set(args.case_list) <= {1, 2, 3, 4}:
        parser.error(f"--cases takes numbers from 1 to 4 separated by commas; received {args.cases!r}")
    return args


def rerun_with_blas_kernels(args: argparse.Namespace, argv: list[str] | None) -> int:
    """Run this benchmark again in a child process per kernel choice of ``--blas-kernels``
    (OpenBLAS reads the variables once, when NumPy loads it): "own" without the pinning
    variables, "pinned" with the environment's. Each child writes its JSON beside ``--json``
    with the choice in its name."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if "--blas-kernels" in arguments:  # the child runs as-is in its environment
        i = arguments.index("--blas-kernels")
        del arguments[i : i + 2]
    arguments = [a for a in arguments if not a.startswith("--blas-kernels=")]
    base = Path(args.json) if args.json else DEFAULT_JSON
    for choice in ("pinned", "own") if args.blas_kernels == "both" else (args.blas_kernels,):
        env = dict(os.environ)
        if choice == "own":
            for variable in PINNING_VARIABLES:
                env.pop(variable, None)
        elif not any(env.get(v) for v in PINNING_VARIABLES):
            say(f"--blas-kernels pinned: the environment sets none of {', '.join(PINNING_VARIABLES)}")
            return 2
        json_path = base.with_name(f"{base.stem}-{choice}-blas{base.suffix}")
        say(f"\n######## BLAS kernels: {choice} → {json_path}")
        command = [sys.executable, str(Path(__file__).resolve()), *arguments, "--json", str(json_path)]
        code = subprocess.run(command, env=env, check=False).returncode
        if code != 0:
            return code
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.memory_child is not None:
        memory_child(args.memory_child)
        return 0
    if args.blas_kernels != "as-is":
        return rerun_with_blas_kernels(args, argv)
    if args.deepmat_kernels is not None:  # children (the memory run) inherit the choice
        os.environ["DEEPMAT_KERNELS"] = args.deepmat_kernels

    # deepmat's memory run goes first, from a parent that has loaded nothing but NumPy: a child
    # inherits its launcher's peak RSS into ru_maxrss across exec, so launching it later, from
    # a parent holding torch and the data, would report the parent's peak instead of its own
    started = time.perf_counter()
    if 1 in args.case_list:
        say("case 1 memory: deepmat's 5-epoch training in a subprocess …")
        meter = CpuMeter()
        args.memory = run_memory_child(args.threads, 10_000 if args.quick else None, epochs=5)
        args.memory["contention"] = meter.stop()

    # import every library first: threadpoolctl only limits pools already loaded
    import sklearn.neural_network  # noqa: F401  (loads scipy's OpenBLAS and sklearn's OpenMP)
    import torch
    from threadpoolctl import threadpool_limits

    import deepmat

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    command = shlex.join([sys.executable, *sys.argv]) if argv is None else shlex.join(["run.py", *argv])
    with threadpool_limits(limits=args.threads):
        threads = threads_in_effect()
        machine = machine_info()
        say(
            f"deepmat {deepmat.__version__} benchmarks — {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}"
        )
        say(
            f"machine: {machine['cpu_model']}, {machine['cores_usable']} usable cores; numpy {np.__version__} "
            f"({machine['numpy_blas'].get('name')} {machine['numpy_blas'].get('version')}), torch "
            f"{torch.__version__} ({machine['torch_blas']}), scikit-learn {machine['sklearn']}"
        )
        print_threads(args.threads, threads)
        meter = CpuMeter()
        time.sleep(1.0)
        idle = meter.stop()
        say(
            f"load average at start: {loadavg()}; other processes used "
            f"{idle['other_processes_cores_average']:.2f} cores in the last second"
        )
        say(
            "  other processes may be running on this machine: the libraries alternate within each "
            "repeat so that load hits them alike, and each case reports the CPU others took meanwhile"
        )
        if idle["other_processes_cores_average"] > 0.1:
            say("  WARNING: the machine is not idle; timings will be slower and noisier than on a quiet one")
        say(f"repeats: {args.repeats}{' (quick: smaller sizes)' if args.quick else ''}")
        results = Results()
        cases = {1: case1, 2: case2, 3: case3, 4: case4}
        for number in args.case_list:
            before = loadavg()
            meter = CpuMeter()
            cases[number](args, results)
            contention = meter.stop()
            contention["loadavg_before"] = before
            results.case(number)["contention"] = contention
            results.case(number)["seconds"] = contention["wall_seconds"]
            results.contention.append((number, contention))
            say(
                f"  [case {number}: {contention['wall_seconds']:.0f} s; other processes took "
                f"{contention['other_processes_cores_average']:.2f} of {os.cpu_count()} cores on average "
                f"meanwhile, steal {contention['steal_seconds']:.1f} s]"
            )
        threads_after = threads_in_effect()
    print_table(results)
    say(f"\nload average at end: {loadavg()}; total {time.perf_counter() - started:.0f} s")

    targets = []
    for key, bound in TARGETS.items():
        if key in results.ratios:
            value = results.ratios[key]
            targets.append(
                {
                    "ratio": key,
                    "value": value,
                    "target": bound,
                    "status": "PASS" if value <= bound else "MISS",
                }
            )
    report = {
        "command": command,
        "argv": sys.argv if argv is None else argv,
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "quick": args.quick,
        "repeats": args.repeats,
        "cases_run": args.case_list,
        "threads": {"requested": args.threads, "in_effect": threads, "in_effect_at_end": threads_after},
        "machine": machine,
        "deepmat_version": deepmat.__version__,
        "idle_check_at_start": idle,
        "medians": results.medians,
        "ratios": results.ratios,
        "targets": targets,
        "checks": results.checks,
        "cases": results.cases,
        "total_seconds": time.perf_counter() - started,
    }
    path = Path(args.json) if args.json else DEFAULT_JSON
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1) + "\n")
    say(f"results written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
