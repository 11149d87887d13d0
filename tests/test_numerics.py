"""Numerical stability (SPEC §4: no overflow for |z| up to 1e4) and dtype preservation.

Every check runs with NumPy's floating-point errors raised as exceptions and every Python
warning turned into an error, so an overflow, a division by zero or an invalid operation
(NaN) anywhere in an activation, a loss or a gradient fails the test.

Underflow is the one exception (``np.errstate(all="raise", under="ignore")``): e^(−1e4)
rounding to 0, or σ(−700)·dA landing among the subnormals, is the correct IEEE result and
the reason the stable forms work; NumPy ignores it by default, so a user never sees a
warning for it. Raising on it would fail ``np.exp(-1e4)`` itself.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager

import numpy as np
import pytest

from deepmat import activations as A
from deepmat import losses

DTYPES = [np.float32, np.float64]

#: Logits from the extremes the SPEC names (±1e4) through the ranges where exp() leaves
#: the normal numbers of float32 (|z| ≈ 87–104) and of float64 (|z| ≈ 708–745), to 0.
EXTREME = [
    -1e4,
    -1e3,
    -745.0,
    -700.0,
    -104.0,
    -90.0,
    -30.0,
    -1.0,
    0.0,
    1.0,
    30.0,
    90.0,
    104.0,
    700.0,
    1e3,
    1e4,
]

ALL_ACTIVATIONS = sorted(A.ACTIVATIONS)
LOSS_NAMES = sorted(losses.LOSSES)


@contextmanager
def strict():
    """NumPy floating-point errors (except underflow, see above) raise; Python warnings raise."""
    with np.errstate(all="raise", under="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def extreme_logits(dtype, n_rows: int = 3) -> np.ndarray:
    """(n_rows, m) logits whose columns mix huge positive and negative values."""
    z = np.array(EXTREME)
    rng = np.random.RandomState(0)
    cols = [z] + [rng.permutation(z) for _ in range(n_rows - 1)]
    return np.vstack(cols).astype(dtype)


def targets_for(loss: str, shape, dtype) -> np.ndarray:
    rng = np.random.RandomState(1)
    if loss == "cross_entropy":
        Y = np.zeros(shape)
        Y[rng.randint(0, shape[0], size=shape[1]), np.arange(shape[1])] = 1.0
    elif loss == "binary_cross_entropy":
        Y = rng.randint(0, 2, size=shape).astype(float)
    else:
        Y = rng.randn(*shape)
    return Y.astype(dtype)


# -- sigmoid ------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_extremes_are_exact_and_raise_nothing(dtype):
    Z = np.array([[-1e4, -1e3, 0.0, 1e3, 1e4]], dtype=dtype)
    with strict():
        S = A.sigmoid(Z)
    assert S.dtype == dtype
    assert np.isfinite(S).all()
    assert S[0, 0] >= 0 and S[0, 1] >= 0
    assert S[0, 0] == 0.0  # e^(-1e4) is below the smallest subnormal
    assert S[0, 2] == 0.5
    assert S[0, 3] == 1.0 and S[0, 4] == 1.0


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_is_monotone_in_0_1_and_symmetric(dtype):
    Z = np.sort(extreme_logits(dtype).ravel())[None, :]
    with strict():
        S = A.sigmoid(Z)
        S_neg = A.sigmoid(-Z)
    assert ((S >= 0) & (S <= 1)).all()
    assert (np.diff(S[0]) >= 0).all()
    # σ(−z) = 1 − σ(z), to the dtype's resolution
    np.testing.assert_allclose(S + S_neg, 1.0, atol=2 * np.finfo(dtype).eps)


def test_sigmoid_matches_textbook_form_where_that_form_is_safe():
    Z = np.linspace(-30, 30, 121)[None, :]
    np.testing.assert_allclose(A.sigmoid(Z), 1 / (1 + np.exp(-Z)), rtol=1e-15, atol=0)


# -- softmax ------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_extremes_columns_sum_to_one(dtype):
    Z = extreme_logits(dtype, n_rows=4)
    with strict():
        S = A.softmax(Z)
    assert S.dtype == dtype
    assert np.isfinite(S).all()
    assert ((S >= 0) & (S <= 1)).all()
    np.testing.assert_allclose(S.sum(axis=0), 1.0, rtol=0, atol=4 * np.finfo(dtype).eps)
    # a column whose maximum is 1e4 above everything else is one-hot
    one_hot = A.softmax(np.array([[1e4], [-1e4], [0.0]], dtype=dtype))
    np.testing.assert_array_equal(one_hot, np.array([[1.0], [0.0], [0.0]], dtype=dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_is_shift_invariant(dtype):
    Z = np.random.RandomState(3).randn(5, 7).astype(dtype)
    with strict():
        np.testing.assert_allclose(
            A.softmax(Z + 1e3), A.softmax(Z), rtol=1e-4 if dtype == np.float32 else 1e-12
        )


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_backward_extremes_finite_and_matches_jacobian(dtype):
    Z = extreme_logits(dtype, n_rows=4)
    S = A.softmax(Z)
    dA = np.random.RandomState(2).randn(*Z.shape).astype(dtype)
    with strict():
        dZ = A.softmax_backward(dA, Z, S)
    assert dZ.dtype == dtype
    assert np.isfinite(dZ).all()
    # the explicit Jacobian J_ij = a_i(δ_ij − a_j), column by column, in float64
    S64, dA64 = S.astype(np.float64), dA.astype(np.float64)
    for k in range(Z.shape[1]):
        a = S64[:, k]
        J = np.diag(a) - np.outer(a, a)
        np.testing.assert_allclose(dZ[:, k], J.T @ dA64[:, k], rtol=1e-5, atol=1e-6)
    # a softmax gradient sums to zero over each column (softmax is shift invariant)
    np.testing.assert_allclose(dZ.sum(axis=0), 0.0, atol=1e-5 if dtype == np.float32 else 1e-12)


# -- ReLU's kink (SPEC §4: derivative 1 for z > 0, 0 for z ≤ 0) ---------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_and_leaky_relu_derivative_at_zero(dtype):
    Z = np.array([[-2.0, -0.0, 0.0, 1e-30, 3.0]], dtype=dtype)
    dA = np.full_like(Z, 2.0)
    np.testing.assert_array_equal(A.relu(Z), [[0.0, 0.0, 0.0, dtype(1e-30), 3.0]])
    np.testing.assert_array_equal(A.relu_backward(dA, Z, A.relu(Z)), [[0.0, 0.0, 0.0, 2.0, 2.0]])
    expected = np.array([[0.02, 0.02, 0.02, 2.0, 2.0]], dtype=dtype)
    np.testing.assert_array_equal(A.leaky_relu_backward(dA, Z, A.leaky_relu(Z)), expected)


# -- every activation ---------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ALL_ACTIVATIONS)
def test_activation_forward_backward_finite_at_extremes(name, dtype):
    g = A.get_activation(name)
    Z = extreme_logits(dtype)
    with strict():
        out = g.forward(Z)
        dZ = g.backward(np.ones_like(Z), Z, out)
    assert np.isfinite(out).all() and np.isfinite(dZ).all()
    assert out.shape == Z.shape and dZ.shape == Z.shape


@pytest.mark.parametrize("name", ALL_ACTIVATIONS)
def test_activation_keeps_float32(name):
    g = A.get_activation(name)
    rng = np.random.RandomState(4)
    Z = rng.randn(4, 6).astype(np.float32)
    dA = rng.randn(4, 6).astype(np.float32)
    out = g.forward(Z)
    dZ = g.backward(dA, Z, out)
    assert out.dtype == np.float32, f"{name} forward upcast to {out.dtype}"
    assert dZ.dtype == np.float32, f"{name} backward upcast to {dZ.dtype}"
    # and float32 agrees with float64 to float32 resolution
    out64 = g.forward(Z.astype(np.float64))
    np.testing.assert_allclose(out, out64, rtol=1e-6, atol=1e-7)


# -- every loss ---------------------------------------------------------------------------


def saturated_outputs(loss: str, dtype) -> np.ndarray:
    """Output activations A[L] produced by extreme logits: exactly 0 and 1 included."""
    Z = extreme_logits(dtype, n_rows=3)
    if loss == "cross_entropy":
        return A.softmax(Z)
    if loss == "binary_cross_entropy":
        return A.sigmoid(Z)
    return Z  # identity output: the logits themselves


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_cost_and_gradient_finite_at_saturation(loss, dtype):
    AL = saturated_outputs(loss, dtype)
    Y = targets_for(loss, AL.shape, dtype)
    spec = losses.get_loss(loss)
    with strict():
        J = spec.cost(AL, Y)
        dA = spec.gradient(AL, Y)
        dZ = losses.output_delta(AL, Y, AL, loss, spec.canonical_activation)
    assert isinstance(J, float) and np.isfinite(J) and J >= 0
    assert np.isfinite(dA).all() and np.isfinite(dZ).all()
    assert dA.dtype == dtype and dZ.dtype == dtype
    np.testing.assert_array_equal(dZ, AL - Y)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("output", "loss"),
    [
        ("sigmoid", "mse"),
        ("softmax", "mse"),
        ("softmax", "binary_cross_entropy"),
        ("sigmoid", "cross_entropy"),
    ],
)
def test_chained_output_delta_finite_at_saturation(output, loss, dtype):
    Z = extreme_logits(dtype, n_rows=3)
    AL = A.get_activation(output).forward(Z)
    Y = targets_for("binary_cross_entropy" if loss != "cross_entropy" else loss, AL.shape, dtype)
    with strict():
        dZ = losses.output_delta(AL, Y, Z, loss, output)
        J = losses.get_loss(loss).cost(AL, Y)
    assert np.isfinite(dZ).all() and np.isfinite(J)
    assert dZ.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_cost_bounded_by_clipping_when_confidently_wrong(dtype):
    AL = A.sigmoid(np.array([[1e4, -1e4]], dtype=dtype))  # exactly 1 and 0
    Y = np.array([[0.0, 1.0]], dtype=dtype)  # both wrong
    with strict():
        J = losses.binary_cross_entropy(AL, Y)
    # each term is at most −log(eps) of the dtype; the cost is their mean over m = 2
    bound = -np.log(np.finfo(dtype).eps)
    assert np.isfinite(J)
    assert bound * 0.99 <= J <= bound * 1.01


@pytest.mark.parametrize("dtype", DTYPES)
def test_costs_exact_when_right_and_confident(dtype):
    # correct saturated predictions cost (almost) nothing
    AL = A.sigmoid(np.array([[1e4, -1e4]], dtype=dtype))
    Y = np.array([[1.0, 0.0]], dtype=dtype)
    assert 0 <= losses.binary_cross_entropy(AL, Y) <= 2 * np.finfo(dtype).eps
    S = A.softmax(np.array([[1e4, -1e4], [-1e4, 1e4]], dtype=dtype))
    Y = np.eye(2, dtype=dtype)
    assert 0 <= losses.softmax_cross_entropy(S, Y) <= 2 * np.finfo(dtype).eps


@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_loss_gradient_keeps_float32(loss):
    rng = np.random.RandomState(5)
    AL = rng.uniform(0.05, 0.95, size=(3, 4)).astype(np.float32)
    Y = targets_for(loss, AL.shape, np.float32)
    spec = losses.get_loss(loss)
    assert spec.gradient(AL, Y).dtype == np.float32
    assert losses.output_delta(AL, Y, AL, loss, spec.canonical_activation).dtype == np.float32
    other = "sigmoid" if spec.canonical_activation != "sigmoid" else "softmax"
    assert losses.output_delta(AL, Y, AL, loss, other).dtype == np.float32
