"""A Dense layer's elementwise passes as fused Numba loops (:mod:`deepmat.layers.dense` holds
the NumPy reference in :mod:`deepmat.activations` and calls these when the Numba kernels are
in use, :mod:`deepmat.kernels`):

- forward, after the product W·A: Z ← Z + b and A = g(Z) in one pass (:func:`bias_activation`);
- backward: dZ = dA ⊙ g'(Z) in one pass (:func:`activation_backward`), then (1/m)·dZ and
  db = Σ_columns (1/m)·dZ in one pass (:func:`mean_and_bias_gradient`);
- the cross-entropy cost Σ −y·log a (:func:`cross_entropy_sum`) and the count of right
  arg-maxes (:func:`argmax_matches`), each one pass with no temporary.

Layout: a layer's arrays are ``(n, m)`` — a unit per row, a sample per column — and either
row-major or column-major (:func:`deepmat.layers.z_order`). The loops take them row-major:
``(n, m)`` itself with ``units_on_rows=True``, or the transpose ``(m, n)`` of a column-major
array with ``units_on_rows=False``; ``b`` and ``db`` are ``(n,)``. The inner loop always runs
along memory. Scalars come in the arrays' dtype, so float32 computes in float32.

The formulas are those of :mod:`deepmat.activations`, element by element and in the same
order (ReLU keeps NaN, as ``np.maximum`` does; the sigmoid is e^min(z,0)/(1 + e^−|z|)); exp
and tanh are the C library's, which may differ from NumPy's by an ulp.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "ACTIVATION_CODES",
    "TRANSCENDENTAL",
    "activation_backward",
    "argmax_matches",
    "bias_activation",
    "cross_entropy_sum",
    "mean_and_bias_gradient",
]

RELU, LEAKY_RELU, TANH, SIGMOID, IDENTITY, SOFTMAX = range(6)

#: the activations whose forward needs exp or tanh: NumPy's vectorised exp and tanh beat the C
#: library's one value at a time on large arrays, so their forward is fused only for small ones
TRANSCENDENTAL = (TANH, SIGMOID, SOFTMAX)

#: the activations with a fused loop, by name (others run on NumPy)
ACTIVATION_CODES = {
    "relu": RELU,
    "leaky_relu": LEAKY_RELU,
    "tanh": TANH,
    "sigmoid": SIGMOID,
    "identity": IDENTITY,
    "softmax": SOFTMAX,
}


@njit(inline="always")
def activate(z, code, slope, zero, one):  # pragma: no cover - compiled
    """g(z) for one element (not softmax)."""
    if code == RELU:
        return z if z >= zero or z != z else zero  # np.maximum(z, 0): NaN stays NaN
    if code == LEAKY_RELU:
        return z if z > zero else z * slope
    if code == TANH:
        return np.tanh(z)
    if code == SIGMOID:
        e = np.exp(-np.abs(z))
        return (one if z >= zero else e) / (one + e)
    return z


@njit(inline="always")
def derivative_times(da, z, a, code, slope, zero, one):  # pragma: no cover - compiled
    """dA ⊙ g'(z) for one element (not softmax), in the reference's order of operations."""
    if code == RELU:
        return da * (one if z > zero else zero)  # dA·1[z > 0]: NaN·0 stays NaN
    if code == LEAKY_RELU:
        return da if z > zero else da * slope
    if code == TANH:
        return da * (one - a * a)
    if code == SIGMOID:
        return da * a * (one - a)
    return da


@njit(inline="always")
def softmax_sample(z, b, a):  # pragma: no cover - compiled
    """z ← z + b and a = softmax(z) for one sample's units (1-D views; a may be z): the
    maximum subtracted first, NaN kept, as :func:`deepmat.activations.softmax`. Returns
    whether z + b is finite."""
    big = np.finfo(z.dtype).max
    finite = True
    top = z[0] + b[0]
    for j in range(z.size):
        v = z[j] + b[j]
        z[j] = v
        finite &= abs(v) <= big
        if v > top or v != v:  # NaN wins, as in np.maximum.reduce
            top = v
    total = z.dtype.type(0)
    for j in range(z.size):
        e = np.exp(z[j] - top)
        a[j] = e
        total += e
    for j in range(z.size):
        a[j] /= total
    return finite


@njit(inline="always")
def row_is_finite(z):  # pragma: no cover - compiled
    """Whether every entry of the 1-D view ``z`` is finite (read while the row is in cache)."""
    big = np.finfo(z.dtype).max
    for v in z:
        if not abs(v) <= big:
            return False
    return True


@njit(cache=True, nogil=True, error_model="numpy")
def bias_activation(Z, b, A, code, units_on_rows, slope, check):  # pragma: no cover - compiled
    """Z ← Z + b, A = g(Z) (A may be Z itself); softmax over each sample's units. With
    ``check``, returns whether every Z + b is finite (the first layer's says whether X is);
    else True.

    One pass over memory, a row at a time: the row gets its bias, is checked (when asked)
    before g can hide an infinity (ReLU(−∞) = 0), and gets g while it is still in cache. ReLU,
    the usual hidden activation, has its own loop, which the compiler turns into vector
    instructions; the others share one loop over :func:`activate`."""
    p, q = Z.shape
    zero, one = Z.dtype.type(0), Z.dtype.type(1)
    finite = True
    if code == SOFTMAX:
        if units_on_rows:  # a sample is a column: strided, for small batches
            for k in range(q):
                finite &= softmax_sample(Z[:, k], b, A[:, k])
        else:
            for k in range(p):
                finite &= softmax_sample(Z[k], b, A[k])
        return finite or not check
    for r in range(p):
        z, a = Z[r], A[r]
        if units_on_rows:
            bias = b[r]
            for k in range(q):
                z[k] += bias
        else:
            for k in range(q):
                z[k] += b[k]
        if check and finite:
            finite = row_is_finite(z)
        if code == RELU:
            for k in range(q):
                v = z[k]
                a[k] = v if v >= zero or v != v else zero  # np.maximum(z, 0): NaN stays NaN
        else:
            for k in range(q):
                a[k] = activate(z[k], code, slope, zero, one)
    return finite


@njit(cache=True, nogil=True, error_model="numpy")
def activation_backward(dA, Z, A, dZ, code, slope):  # pragma: no cover - compiled
    """dZ = dA ⊙ g'(Z) in one pass (not softmax); all four arrays of one shape and layout."""
    p, q = dA.shape
    zero, one = dA.dtype.type(0), dA.dtype.type(1)
    for k in range(p):
        for j in range(q):
            dZ[k, j] = derivative_times(dA[k, j], Z[k, j], A[k, j], code, slope, zero, one)


@njit(cache=True, nogil=True, error_model="numpy")
def mean_and_bias_gradient(dZ, dZ_mean, db, units_on_rows, inv_m):  # pragma: no cover - compiled
    """dZ/m = dZ·(1/m) and db = Σ_samples dZ/m in one pass."""
    p, q = dZ.shape
    zero = dZ.dtype.type(0)
    if units_on_rows:
        for j in range(p):
            total = zero
            for k in range(q):
                d_mean = dZ[j, k] * inv_m
                dZ_mean[j, k] = d_mean
                total += d_mean
            db[j] = total
    else:
        db[:] = zero
        for k in range(p):
            for j in range(q):
                d_mean = dZ[k, j] * inv_m
                dZ_mean[k, j] = d_mean
                db[j] += d_mean


@njit(cache=True, nogil=True, error_model="numpy")
def cross_entropy_sum(A, Y, low, high):  # pragma: no cover - compiled
    """Σ −y·log(clip(a, low, high)) over every element (the caller divides by m); NaN stays NaN."""
    p, q = A.shape
    total = 0.0
    for k in range(p):
        for j in range(q):
            a = A[k, j]
            if a < low:  # np.clip: NaN stays NaN
                a = low
            elif a > high:
                a = high
            total += -(Y[k, j] * np.log(a))
    return total


@njit(cache=True, nogil=True, error_model="numpy")
def argmax_matches(A, Y):  # pragma: no cover - compiled
    """How many rows of A ``(m, n)`` have their arg-max (the first, as ``argmax``) where Y's is."""
    p, q = A.shape
    correct = 0
    for k in range(p):
        best_a, best_y = 0, 0
        for j in range(q):
            if A[k, j] > A[k, best_a]:
                best_a = j
            if Y[k, j] > Y[k, best_y]:
                best_y = j
        if best_a == best_y:
            correct += 1
    return correct
