"""Data-parallel figures: seconds per epoch on 1 and N MPI ranks, and the share in Allreduce.

    mpirun -n 1 python3 benchmarks/distributed.py      # one rank (OPENBLAS_NUM_THREADS as set)
    mpirun -n 2 -x OPENBLAS_NUM_THREADS=1 python3 benchmarks/distributed.py
    python3 benchmarks/distributed.py --overhead       # the distributed path's own cost, 1 rank

Trains issue 5's case-1 model (Fashion-MNIST 784-256-128-10, Adam 1e-3, global batch 128,
float32, no dropout) for --epochs epochs with fit(distributed=True) and prints, on rank 0,
one JSON line: ranks, threads, seconds per epoch (after the first), seconds in Allreduce per
epoch, calls, and the bytes of one Allreduce message.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

import deepmat
from deepmat.callbacks import Callback
from deepmat.data import load_fashion_mnist


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument(
        "--overhead",
        action="store_true",
        help="one process: alternate fit(epochs=1) and fit(epochs=1, distributed=True), 4 times each",
    )
    args = parser.parse_args()
    data = load_fashion_mnist(dtype="float32")
    if args.overhead:
        overhead(data)
        return
    net = deepmat.Network([784, 256, 128, 10], "relu", "softmax", init="he", seed=0, dtype="float32")

    from deepmat.distributed import Distributed

    dist = Distributed()

    class Clock(Callback):
        touches_parameters = False
        in_checkpoint = False

        def __init__(self) -> None:
            self.epochs: list[tuple[float, float]] = []

        def on_epoch_begin(self, epoch: int) -> None:
            self.start, self.reduce = time.perf_counter(), dist.allreduce_seconds

        def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
            self.epochs.append((time.perf_counter() - self.start, dist.allreduce_seconds - self.reduce))

    clock = Clock()
    net.fit(data.X_train, data.y_train, epochs=args.epochs, batch_size=128, optimizer="adam", verbose=0,
            distributed=dist, callbacks=[clock])  # fmt: skip
    if dist.is_root:
        steady = clock.epochs[1:] or clock.epochs
        epoch = float(np.median([e for e, _ in steady]))
        reduce = float(np.median([r for _, r in steady]))
        print(json.dumps({
            "ranks": dist.size,
            "openblas_threads_per_rank": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
            "seconds_per_epoch": round(epoch, 4),
            "allreduce_seconds_per_epoch": round(reduce, 4),
            "allreduce_share": round(reduce / epoch, 4),
            "allreduce_calls": dist.allreduce_calls,
            "message_bytes": int(dist.buffer.nbytes),
            "test_accuracy": net.score(data.X_test, data.y_test),
        }))  # fmt: skip


def overhead(data) -> None:
    """The cost of the distributed path itself, on one rank, beside a plain fit."""
    nets = {
        k: deepmat.Network([784, 256, 128, 10], "relu", "softmax", init="he", seed=0, dtype="float32")
        for k in (False, True)
    }
    optimizers = {k: deepmat.optimizers.Adam(1e-3) for k in nets}
    times: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(4):
        for k, net in nets.items():
            start = time.perf_counter()
            net.fit(data.X_train, data.y_train, epochs=1, batch_size=128, optimizer=optimizers[k], verbose=0,
                    distributed=k)  # fmt: skip
            times[k].append(time.perf_counter() - start)
    print(json.dumps({"plain_median_s": float(np.median(times[False])), "distributed_median_s": float(np.median(times[True])),
                      "plain_s": times[False], "distributed_s": times[True]}))  # fmt: skip


if __name__ == "__main__":
    main()
