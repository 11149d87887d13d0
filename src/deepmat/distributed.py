"""Data-parallel training on MPI (mpi4py over Open MPI, or any MPI).

Every rank holds the same network. For each global batch of B samples (the same batches a
single process would take: the shuffle generator is seeded alike on every rank), rank r
takes its contiguous share of m_r rows (``np.array_split``), computes the gradients of its
share's mean cost, scales them by m_r / B, and one ``Allreduce`` (sum) of **one flat
buffer** — every gradient, plus the batch's cost and correct count — gives every rank the
gradient of the global batch's mean cost:

    ∂J/∂θ = (1/B) Σ_i ∂L_i/∂θ = Σ_r (m_r/B) · (1/m_r) Σ_{i ∈ r} ∂L_i/∂θ

Every rank then takes the same optimiser step, so parameters and optimiser state stay equal
without further messages. Rank 0's parameters are broadcast at the start (and after a
resume every rank reads the same checkpoint). Rank 0 alone prints and writes checkpoints.

Every rank draws the dropout masks of the whole global batch from the same stream, as one
process would, and keeps its own columns, so the result equals single-process training on
the same global batches up to rounding, dropout included (tests: 1e-6 relative, float64).
Batch normalisation would normalise each share on its own statistics, which is not the
same network: it is refused. A rank that raises calls ``MPI_Abort``, so the whole job stops with
its message instead of hanging in a collective.

Run: ``mpirun -n 4 deepmat train CONFIG --distributed``, or ``net.fit(..., distributed=True)``
under ``mpirun``.
"""

from __future__ import annotations

import sys
import traceback
from typing import Any

import numpy as np


def _mpi() -> Any:
    try:
        from mpi4py import MPI
    except ImportError:  # pragma: no cover - an extra
        raise ImportError(
            "distributed training needs mpi4py and an MPI runtime: apt-get install openmpi-bin "
            "libopenmpi-dev && pip install mpi4py"
        ) from None
    return MPI


class Distributed:
    """One rank's view of a data-parallel run: its rank, the number of ranks, and the
    collective operations training needs (on ``MPI.COMM_WORLD`` unless ``comm`` is given)."""

    def __init__(self, comm: Any = None) -> None:
        MPI = _mpi()
        self.MPI = MPI
        self.comm = comm if comm is not None else MPI.COMM_WORLD
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()
        self.buffer: np.ndarray | None = None
        #: seconds spent in Allreduce (for the figures), and how many calls
        self.allreduce_seconds = 0.0
        self.allreduce_calls = 0

    @property
    def is_root(self) -> bool:
        return self.rank == 0

    def share(self, rows: np.ndarray) -> np.ndarray:
        """This rank's contiguous share of a global batch's row indices."""
        return np.array_split(rows, self.size)[self.rank]

    def broadcast(self, array: np.ndarray) -> None:
        """Rank 0's values of ``array`` on every rank (in place)."""
        self.comm.Bcast(array, root=0)

    def broadcast_state(self, generators: list[np.random.Generator]) -> None:
        """Rank 0's generator states on every rank (the same shuffles and dropout masks even
        when the network was built with ``seed=None``)."""
        states = self.comm.bcast([g.bit_generator.state for g in generators], root=0)
        for generator, state in zip(generators, states, strict=True):
            generator.bit_generator.state = state

    def check_same(self, value: Any, what: str) -> None:
        """Raise on every rank if the ranks disagree about ``value`` (e.g. data shapes)."""
        values = self.comm.allgather(value)
        if any(v != values[0] for v in values):
            raise ValueError(f"the ranks disagree about {what}: {values}")

    def average(self, grads: np.ndarray, weight: float, cost: float, correct: int) -> tuple[float, int]:
        """``grads`` ← Σ_r weight_r·grads_r over the ranks, in place, with one Allreduce of one
        flat buffer that also carries Σ weight_r·cost_r and Σ correct_r, which it returns."""
        import time

        n = grads.size
        if self.buffer is None or self.buffer.size != n + 2 or self.buffer.dtype != grads.dtype:
            self.buffer = np.empty(n + 2, grads.dtype)  # the message: n + 2 numbers of θ's dtype
        buffer = self.buffer
        np.multiply(grads, weight, out=buffer[:n])
        buffer[n] = weight * cost
        buffer[n + 1] = correct
        start = time.perf_counter()
        self.comm.Allreduce(self.MPI.IN_PLACE, buffer, op=self.MPI.SUM)
        self.allreduce_seconds += time.perf_counter() - start
        self.allreduce_calls += 1
        grads[...] = buffer[:n]
        return float(buffer[n]), int(buffer[n + 1].round())

    def abort(self, error: BaseException) -> None:
        """Print ``error`` (with the rank) and stop every rank of the job."""
        print(f"deepmat: rank {self.rank} of {self.size} failed; stopping the job:", file=sys.stderr)
        traceback.print_exception(error, file=sys.stderr)
        sys.stderr.flush()
        self.comm.Abort(1)
