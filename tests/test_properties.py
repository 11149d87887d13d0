"""Numerical properties over wide input ranges, float32 and float64 (hypothesis).

softmax columns sum to 1; sigmoid stays in [0, 1]; costs are finite and non-negative; the
output error and every gradient are finite; shapes and dtypes are preserved — for logits
and activations anywhere in ±1e4 (and targets anywhere valid), at every batch size.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from deepmat import functional as F
from deepmat.activations import ACTIVATIONS
from deepmat.losses import LOSSES, output_delta
from deepmat.network import Network

PROPERTY = settings(max_examples=60, deadline=None)
DTYPES = [np.float32, np.float64]
BOUND = 1e4


ROWS, COLS = st.integers(1, 6), st.integers(1, 9)


def matrices(dtype, rows=ROWS, cols=COLS, bound=BOUND):
    return st.tuples(rows, cols).flatmap(
        lambda shape: arrays(
            dtype, shape, elements=st.floats(-bound, bound, width=np.dtype(dtype).itemsize * 8)
        )
    )


@pytest.mark.parametrize("dtype", DTYPES)
@PROPERTY
@given(data=st.data())
def test_softmax_columns_sum_to_one_and_sigmoid_in_0_1(dtype, data):
    Z = data.draw(matrices(dtype))
    A = F.softmax(Z)
    assert A.shape == Z.shape and A.dtype == dtype
    assert np.isfinite(A).all() and (A >= 0).all() and (A <= 1).all()
    np.testing.assert_allclose(A.sum(axis=0), 1, rtol=10 * np.finfo(dtype).eps * Z.shape[0])
    S = F.sigmoid(Z)
    assert S.dtype == dtype and ((S >= 0) & (S <= 1)).all()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@PROPERTY
@given(data=st.data())
def test_activation_forward_and_backward_finite_shape_and_dtype(dtype, name, data):
    Z = data.draw(matrices(dtype))
    dA = data.draw(arrays(dtype, Z.shape, elements=st.floats(-10, 10, width=np.dtype(dtype).itemsize * 8)))
    g = ACTIVATIONS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow or invalid-value warnings either
        A = g.forward(Z)
        dZ = g.backward(dA, Z, A)
        out = np.empty_like(Z)
        assert g.forward(Z, out=out) is out  # the out= form gives the same numbers
        np.testing.assert_array_equal(out, A)
    for array in (A, dZ):
        assert array.shape == Z.shape and array.dtype == dtype and np.isfinite(array).all()


def targets(dtype, loss: str, shape: tuple[int, int]):
    if loss == "cross_entropy":  # one-hot columns
        return st.lists(st.integers(0, shape[0] - 1), min_size=shape[1], max_size=shape[1]).map(
            lambda labels: np.eye(shape[0], dtype=dtype)[:, labels]
        )
    if loss == "binary_cross_entropy":
        return arrays(dtype, shape, elements=st.sampled_from([0.0, 1.0]))
    return arrays(dtype, shape, elements=st.floats(-BOUND, BOUND, width=np.dtype(dtype).itemsize * 8))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss", sorted(LOSSES))
@PROPERTY
@given(data=st.data())
def test_costs_finite_non_negative_and_output_error_finite(dtype, loss, data):
    spec = LOSSES[loss]
    rows = st.integers(2, 6) if loss == "cross_entropy" else st.integers(1, 6)
    ZL = data.draw(matrices(dtype, rows=rows))
    AL = ACTIVATIONS[spec.canonical_activation].forward(ZL)
    Y = data.draw(targets(dtype, loss, ZL.shape))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        J = F.compute_cost(AL, Y, loss)
        dZ = output_delta(AL, Y, ZL, loss, spec.canonical_activation)
        dA = spec.gradient(AL, Y)
    assert np.isfinite(J) and J >= 0
    for array in (dZ, dA):
        assert array.shape == AL.shape and array.dtype == dtype and np.isfinite(array).all()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@PROPERTY
@given(
    data=st.data(),
    hidden=st.sampled_from(["relu", "leaky_relu", "tanh", "sigmoid"]),
    output=st.sampled_from(["sigmoid", "softmax", "identity"]),
    m=st.integers(1, 12),
    scale=st.sampled_from([1e-3, 1.0, 1e2, 1e4]),
)
def test_network_gradients_finite_and_shaped_like_the_parameters(dtype, data, hidden, output, m, scale):
    n_out = 3 if output == "softmax" else 2
    net = Network([5, 7, 4, n_out], hidden, output, seed=0, dtype=dtype)
    np_dtype = np.dtype(dtype)
    X = data.draw(arrays(np_dtype, (m, 5), elements=st.floats(-1, 1, width=np_dtype.itemsize * 8))) * scale
    if output == "softmax":
        y = data.draw(arrays(np.int64, (m,), elements=st.integers(0, n_out - 1)))
    elif output == "sigmoid":
        y = data.draw(arrays(np.float64, (m, n_out), elements=st.sampled_from([0.0, 1.0])))
    else:
        y = data.draw(arrays(np.float64, (m, n_out), elements=st.floats(-100, 100)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        J = net.cost(X, y)
        grads = net.gradients(X, y)
    assert np.isfinite(J) and J >= 0
    assert set(grads) == {f"d{name}" for name in net.params}
    for name, value in net.params.items():
        g = grads[f"d{name}"]
        assert g.shape == value.shape and g.dtype == np_dtype and np.isfinite(g).all(), name
