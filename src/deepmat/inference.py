"""The lean inference path: ``predict``, ``predict_proba`` and ``score`` on a few samples
without the per-call overhead of the general one (:meth:`deepmat.Network.outputs`).

A one-sample prediction of a 784-256-128-10 network is 200,000 multiply-adds — a few
microseconds — but the general path adds about 20 NumPy calls (input checks, a transpose,
bias, activation and softmax passes, a fresh array per layer), each 0.5–1 µs. Here, for an
input that is already what the network computes on (a C-contiguous ``(m, n[0])`` array of its
dtype) and a network of Dense layers (and dropout, which does
nothing at inference):

- the only per-call checks are the array's type, dtype, shape and layout (attribute reads) and
  one finiteness test folded into the first layer's bias pass: Z[1] = W[1]·X + b[1] is finite
  exactly when X is (W[1], b[1] are finite; checked before g, as ReLU(−∞) = 0 would hide it),
  and the output must be finite; when either is not, the general path answers instead, with
  its own error. For 10,000 samples that replaces a pass over X (31 MB) with none;
- with the Numba kernels and m ≤ :data:`ONE_CALL_MAX_SAMPLES`, the whole pass is one compiled
  call reading W[l], b[l] from the flat θ (:func:`deepmat.kernels.forward.forward_rows`);
  otherwise each layer is one BLAS product into a buffer and one bias + activation pass
  (:meth:`deepmat.layers.Dense.infer` with ``out=``);
- the intermediates live in buffers allocated once per batch size and kept (no temporaries;
  up to :data:`KEPT_BATCH_SIZES` sizes of at most :data:`KEPT_BYTES` each); only the answer
  is a new array, so results handed out are never overwritten.

The numbers are those of the general path to float rounding (the one-call pass sums each dot
product in its own order; ``tests/test_inference.py``). A call from another thread while one
is running takes the general path (the buffers are not shared).
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from deepmat._checks import all_finite
from deepmat.activations import LEAKY_RELU_SLOPE, get_activation, is_built_in
from deepmat.kernels import fused
from deepmat.layers import Dense, Dropout, z_order

#: the largest batch the Numba one-call pass takes (beyond it BLAS's products are faster)
ONE_CALL_MAX_SAMPLES = 2

#: the lean path keeps buffers for at most this many batch sizes (the oldest go first) …
KEPT_BATCH_SIZES = 8

#: … and only while one batch size's buffers take at most this many bytes (larger batches
#: get new arrays on every call, as the general path does)
KEPT_BYTES = 64 << 20


class LeanInference:
    """The lean path of one network: its Dense layers, their place in θ, and the buffers per
    batch size. Build with :meth:`for_network` (None when the network has other layers)."""

    def __init__(self, theta: np.ndarray, layers: list[Dense], n_in: int) -> None:
        self.theta = theta
        self.layers = layers
        self.n_in = n_in
        self.dtype = theta.dtype
        self.n_out = layers[-1].units
        self.lock = threading.Lock()
        self.buffers: dict[int, list[np.ndarray]] = {}  # m → (n[l], m) per layer, in z_order
        self.work: dict[int, np.ndarray] = {}  # m → the one-call pass's two buffers
        #: (L, 5) int64 per layer: W offset, n[l], n[l-1], b offset, activation code; None
        #: when an activation has no fused loop (the per-layer path then runs)
        self.layout: np.ndarray | None = None
        self.one_call = all(is_built_in(get_activation(layer.activation)) for layer in layers)

    @classmethod
    def for_network(cls, net: Any) -> LeanInference | None:
        """The lean path for ``net``, or None when it has layers other than Dense and Dropout
        or a preprocessor (those take the general path)."""
        if net.preprocessor is not None:
            return None
        if not all(isinstance(layer, (Dense, Dropout)) for layer in net.layers):
            return None
        return cls(net.theta, [layer for layer in net.layers if isinstance(layer, Dense)], net.layer_dims[0])

    def accepts(self, X: Any) -> bool:
        """Whether ``X`` is an array the network computes on as it is: ``(m, n[0])`` with
        m ≥ 1, C-contiguous, of the network's dtype."""
        return (
            type(X) is np.ndarray
            and X.dtype == self.dtype
            and X.ndim == 2
            and X.shape[1] == self.n_in
            and X.shape[0] > 0
            and X.flags.c_contiguous
        )

    def outputs(self, X: np.ndarray) -> np.ndarray | None:
        """A[L]ᵀ ``(m, n[L])`` as a new array, or None when the general path must answer (a
        value is not finite, or another thread is using the buffers)."""
        if not self.lock.acquire(blocking=False):
            return None
        try:
            fast = fused()
            if (
                fast is not None
                and self.one_call
                and X.shape[0] <= ONE_CALL_MAX_SAMPLES
                and X.flags.writeable
            ):
                return self.one_call_outputs(fast, X)
            return self.layer_outputs(X)
        finally:
            self.lock.release()

    def one_call_outputs(self, fast: Any, X: np.ndarray) -> np.ndarray | None:
        m = X.shape[0]
        if self.layout is None:
            self.layout = self.theta_layout(fast)
        work = self.work.get(m)
        if work is None:
            widest = max(layer.units for layer in self.layers)
            work = self.keep(self.work, m, np.empty((2, m * widest), self.dtype))
        out = np.empty((m, self.n_out), self.dtype)
        slope = self.dtype.type(LEAKY_RELU_SLOPE)
        status = fast.forward_rows(X, self.theta, self.layout, work, out, slope)
        return out if status == 0 else None

    def layer_outputs(self, X: np.ndarray) -> np.ndarray | None:
        m = X.shape[0]
        buffers = self.buffers.get(m)
        if buffers is None:
            buffers = [
                np.empty((n, m), self.dtype, order=z_order(n, m)) for n in (l.units for l in self.layers)
            ]
            if sum(Z.nbytes for Z in buffers) <= KEPT_BYTES:
                self.keep(self.buffers, m, buffers)
        first = self.layers[0]
        with np.errstate(over="ignore", invalid="ignore"):  # the checks below answer instead
            Z = first.product(X.T, buffers[0], first.W)
            # the one check of the input: Z[1] + b[1] is finite exactly when X is (W[1] and b[1]
            # are), read off the bias pass (fused: at no cost) instead of a pass over X
            if not first.bias_activation(Z, Z, check=True):
                return None
            A = Z
            for layer, Z in zip(self.layers[1:], buffers[1:], strict=True):
                A = layer.infer(A, out=Z)
        if not all_finite(A):
            return None
        return A.T.copy()

    def theta_layout(self, fast: Any) -> np.ndarray:
        """Each Dense layer's place in θ and its activation's code, ``(L, 5)`` int64."""
        base, size = self.theta.ctypes.data, self.theta.itemsize
        rows = []
        for layer in self.layers:
            W, b = layer.W, layer.b
            if not (np.shares_memory(W, self.theta) and np.shares_memory(b, self.theta)):
                raise ValueError(f"layer {layer.index}: W and b are not views of the network's θ")
            rows.append(
                [
                    (W.ctypes.data - base) // size,
                    W.shape[0],
                    W.shape[1],
                    (b.ctypes.data - base) // size,
                    fast.ACTIVATION_CODES[layer.activation],
                ]
            )
        return np.array(rows, dtype=np.int64)

    @staticmethod
    def keep(store: dict[int, Any], m: int, value: Any) -> Any:
        """Store ``value`` for batch size m, forgetting the oldest size beyond :data:`KEPT_BATCH_SIZES`."""
        if len(store) >= KEPT_BATCH_SIZES:
            del store[next(iter(store))]
        store[m] = value
        return value
