"""A whole inference forward pass of Dense layers as one Numba call, for a few samples
(:mod:`deepmat.inference` calls it; the arithmetic per layer is that of
:func:`deepmat.kernels.passes.bias_activation`).

For one sample the matrix-vector products are too small for BLAS to pay off — OpenBLAS wakes
its threads for a 256 × 784 product and the call costs more than the 200,000 multiply-adds —
and a dozen NumPy calls cost more than the arithmetic. Here every layer runs in one call that
reads W[l] and b[l] straight from the flat θ:

    Z[l] = A[l-1]·W[l]ᵀ + b[l],  A[l] = g[l](Z[l])     rows: one sample per row, ``(m, n[l])``

Each dot product is summed with reassociation allowed (several accumulators, as BLAS does), so
it may differ from BLAS's by float rounding; a given input always gives the same bits. NaN and
inf are never assumed away: the pass reports whether Z[1] (hence X, as W[1] is finite) and the
output are finite, and the caller answers as the full path does when they are not.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from deepmat.kernels.passes import bias_activation

__all__ = ["forward_rows"]

#: ``forward_rows``'s answers: all finite, Z[1] not finite (X is not), the output not finite
FINITE, INPUT_NOT_FINITE, OUTPUT_NOT_FINITE = 0, 1, 2


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc", "contract"})
def products(A, theta, w_offset, n_out, n_in, Z):  # pragma: no cover - compiled
    """Z ``(m, n_out)`` = A ``(m, n_in)``·Wᵀ, W the ``(n_out, n_in)`` row-major block of θ at ``w_offset``."""
    W = theta[w_offset : w_offset + n_out * n_in].reshape((n_out, n_in))
    zero = theta.dtype.type(0)
    for j in range(n_out):  # W's row j stays in cache while every sample uses it
        for i in range(A.shape[0]):
            acc = zero
            for k in range(n_in):  # a view, not θ[offset + k]: the loop then vectorises
                acc += A[i, k] * W[j, k]
            Z[i, j] = acc


@njit(cache=True, nogil=True, error_model="numpy")
def forward_rows(X, theta, layout, work, out, slope):  # pragma: no cover - compiled
    """A[L] ``(m, n[L])`` into ``out`` from X ``(m, n[0])`` C-contiguous; returns FINITE,
    INPUT_NOT_FINITE or OUTPUT_NOT_FINITE.

    ``layout`` ``(L, 5)`` int64: per Dense layer (W offset in θ, n[l], n[l-1], b offset,
    activation code); ``work`` ``(2, m·max n[l])``: two buffers the layers alternate between.
    """
    m = X.shape[0]
    L = layout.shape[0]
    big = np.finfo(theta.dtype).max
    A = X
    for l in range(L):
        w_offset, n_out, n_in, b_offset, code = (
            layout[l, 0],
            layout[l, 1],
            layout[l, 2],
            layout[l, 3],
            layout[l, 4],
        )
        Z = out if l == L - 1 else work[l % 2, : m * n_out].reshape((m, n_out))
        products(A, theta, w_offset, n_out, n_in, Z)
        b = theta[b_offset : b_offset + n_out]
        if not bias_activation(Z, b, Z, code, False, slope, l == 0) and l == 0:
            return INPUT_NOT_FINITE  # Z[1] + b[1] is finite exactly when X is
        A = Z
    for i in range(m):
        for j in range(out.shape[1]):
            if not abs(out[i, j]) <= big:
                return OUTPUT_NOT_FINITE
    return FINITE
