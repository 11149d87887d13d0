"""The equations of SPEC §2–§3 and §6, and the Network's documented semantics.

- single-sample forms equal the vectorised ones, column by column;
- the seeds' errata (SPEC §3) are absent, on hand-computed examples;
- a 2-2-1 network worked by hand, forward and backward, compared exactly;
- initialisation, default losses, update_parameters, fit, predict/predict_proba/score.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import deepmat
from deepmat import activations, functional, initializers, losses
from deepmat.functional import LinearCache

# -- single-sample formulas = vectorised formulas -----------------------------------------


def vectorised_dZ(AL, Y, caches, hidden, output, loss, grads):
    """dZ[l] for every layer, rebuilt from the backward pass's dA's (SPEC §3 eq. 1–2)."""
    L = len(caches)
    dZ = {L: losses.output_delta(AL, Y, caches[-1].Z, loss, output)}
    for l in range(1, L):
        c = caches[l - 1]
        dZ[l] = activations.get_activation(hidden).backward(grads[f"dA{l}"], c.Z, c.A)
    return dZ


@pytest.mark.parametrize(
    ("hidden", "output", "loss"),
    [
        ("relu", "sigmoid", "binary_cross_entropy"),
        ("tanh", "softmax", "cross_entropy"),
        ("leaky_relu", "identity", "mse"),
        ("sigmoid", "softmax", "mse"),
    ],
)
def test_single_sample_equals_vectorised_column_by_column(hidden, output, loss):
    rng = np.random.RandomState(0)
    dims, m = [4, 5, 3, 3], 6
    params = initializers.initialize_parameters(dims, "scaled", seed=0)
    for l in range(1, len(dims)):
        params[f"b{l}"] = 0.3 * rng.randn(dims[l], 1)
    X = rng.randn(dims[0], m)
    if output == "identity":
        Y = rng.randn(dims[-1], m)
    else:
        Y = np.eye(dims[-1])[:, rng.randint(0, dims[-1], size=m)]
    L = len(dims) - 1

    AL, caches = functional.L_model_forward(X, params, hidden, output)
    grads = functional.L_model_backward(AL, Y, caches, hidden, output, loss)
    dZ = vectorised_dZ(AL, Y, caches, hidden, output, loss, grads)

    single_dW = {l: [] for l in range(1, L + 1)}
    single_db = {l: [] for l in range(1, L + 1)}
    for i in range(m):
        x, y = X[:, i : i + 1], Y[:, i : i + 1]
        a_L, c_i = functional.L_model_forward(x, params, hidden, output)
        g_i = functional.L_model_backward(a_L, y, c_i, hidden, output, loss)
        np.testing.assert_allclose(a_L, AL[:, i : i + 1], rtol=1e-13, atol=1e-15)
        dz_i = vectorised_dZ(a_L, y, c_i, hidden, output, loss, g_i)
        for l in range(1, L + 1):
            np.testing.assert_allclose(c_i[l - 1].Z, caches[l - 1].Z[:, i : i + 1], rtol=1e-13, atol=1e-15)
            np.testing.assert_allclose(c_i[l - 1].A, caches[l - 1].A[:, i : i + 1], rtol=1e-13, atol=1e-15)
            np.testing.assert_allclose(dz_i[l], dZ[l][:, i : i + 1], rtol=1e-12, atol=1e-15)
            # with m = 1: dW = dz·aᵀ (an outer product) and db = dz (SPEC §3)
            a_prev = c_i[l - 1].A_prev
            np.testing.assert_allclose(g_i[f"dW{l}"], np.outer(dz_i[l], a_prev), rtol=1e-13, atol=1e-15)
            np.testing.assert_allclose(g_i[f"db{l}"], dz_i[l], rtol=1e-13, atol=1e-15)
            if l > 1:
                np.testing.assert_allclose(g_i[f"dA{l - 1}"], grads[f"dA{l - 1}"][:, i : i + 1], rtol=1e-12)
            single_dW[l].append(g_i[f"dW{l}"])
            single_db[l].append(g_i[f"db{l}"])
    for l in range(1, L + 1):
        # the vectorised gradients are the means of the single-sample ones
        np.testing.assert_allclose(grads[f"dW{l}"], np.mean(single_dW[l], axis=0), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(grads[f"db{l}"], np.mean(single_db[l], axis=0), rtol=1e-12, atol=1e-15)


# -- the seeds' errata are absent (SPEC §3) -----------------------------------------------


def test_db_is_row_sum_over_m_not_row_mean_over_m():
    dZ = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])  # n[l] = 2, m = 3
    cache = LinearCache(A_prev=np.ones((1, 3)), W=np.ones((2, 1)), b=np.zeros((2, 1)))
    _, _, db = functional.linear_backward(dZ, cache)
    # (1/m)·row-sum: (1 + 2 + 3)/3 = 2, (4 + 5 + 6)/3 = 5
    np.testing.assert_array_equal(db, np.array([[2.0], [5.0]]))
    # seed 002's table, (1/m)·row-mean, would give 2/3 and 5/3: divided by m twice
    erratum = dZ.mean(axis=1, keepdims=True) / 3
    assert not np.allclose(db, erratum)
    assert db.shape == (2, 1)


def test_dA_prev_is_a_matrix_product_checked_by_loops():
    rng = np.random.RandomState(1)
    W, dZ = rng.randn(3, 4), rng.randn(3, 5)  # n[l] = 3, n[l-1] = 4, m = 5
    cache = LinearCache(A_prev=rng.randn(4, 5), W=W, b=np.zeros((3, 1)))
    dA_prev, _, _ = functional.linear_backward(dZ, cache)
    expected = np.zeros((4, 5))
    for j in range(4):
        for k in range(5):
            expected[j, k] = sum(W[i, j] * dZ[i, k] for i in range(3))
    assert dA_prev.shape == (4, 5)
    np.testing.assert_allclose(dA_prev, expected, rtol=1e-14, atol=1e-15)


def test_dA_prev_is_not_elementwise():
    # a square case, where seed 002's formula 9 (Wᵀ ⊙ dZ) is defined and differs
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    dZ = np.array([[1.0, 0.0], [0.0, 1.0]])
    cache = LinearCache(A_prev=np.ones((2, 2)), W=W, b=np.zeros((2, 1)))
    dA_prev, _, _ = functional.linear_backward(dZ, cache)
    np.testing.assert_array_equal(dA_prev, W.T)  # Wᵀ·I = Wᵀ
    assert not np.array_equal(dA_prev, W.T * dZ)  # Wᵀ ⊙ I = diag(1, 4)


def test_dW_checked_by_loops():
    rng = np.random.RandomState(2)
    A_prev, dZ, m = rng.randn(4, 6), rng.randn(3, 6), 6
    cache = LinearCache(A_prev=A_prev, W=rng.randn(3, 4), b=np.zeros((3, 1)))
    _, dW, db = functional.linear_backward(dZ, cache)
    expected = np.zeros((3, 4))
    for i in range(3):
        for j in range(4):
            expected[i, j] = sum(dZ[i, k] * A_prev[j, k] for k in range(m)) / m
    np.testing.assert_allclose(dW, expected, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(db[:, 0], [sum(dZ[i, k] for k in range(m)) / m for i in range(3)], rtol=1e-14)


def test_linear_forward_and_backward_by_hand_2x3():
    # n[l] = 2, n[l-1] = 3, m = 2
    A_prev = np.array([[1.0, 2.0], [0.0, -1.0], [3.0, 1.0]])
    W = np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]])
    b = np.array([[0.5], [-1.0]])
    # Z = W·A_prev + b
    #   row 1: 1·1 + 0·0 + (−1)·3 + 0.5 = −1.5 ;  1·2 + 0·(−1) + (−1)·1 + 0.5 = 1.5
    #   row 2: 2·1 + 1·0 + 0·3 − 1 = 1        ;  2·2 + 1·(−1) + 0·1 − 1 = 2
    Z, cache = functional.linear_forward(A_prev, W, b)
    np.testing.assert_array_equal(Z, [[-1.5, 1.5], [1.0, 2.0]])
    dZ = np.array([[1.0, -2.0], [0.5, 3.0]])
    dA_prev, dW, db = functional.linear_backward(dZ, cache)
    # dW = (1/2)·dZ·A_prevᵀ
    #   row 1: (1·1 + (−2)·2, 1·0 + (−2)(−1), 1·3 + (−2)·1)/2 = (−3, 2, 1)/2
    #   row 2: (0.5·1 + 3·2, 0.5·0 + 3·(−1), 0.5·3 + 3·1)/2 = (6.5, −3, 4.5)/2
    np.testing.assert_array_equal(dW, [[-1.5, 1.0, 0.5], [3.25, -1.5, 2.25]])
    # db = (1/2)·row sums: (1 − 2)/2, (0.5 + 3)/2
    np.testing.assert_array_equal(db, [[-0.5], [1.75]])
    # dA_prev = Wᵀ·dZ, Wᵀ = [[1, 2], [0, 1], [−1, 0]]
    #   (1·1 + 2·0.5, 1·(−2) + 2·3) = (2, 4); (0.5, 3); (−1·1, −1·(−2)) = (−1, 2)
    np.testing.assert_array_equal(dA_prev, [[2.0, 4.0], [0.5, 3.0], [-1.0, 2.0]])
    # nothing mutated, shapes of the parameters
    assert dW.shape == W.shape and db.shape == b.shape and dA_prev.shape == A_prev.shape


# -- a 2-2-1 network worked by hand -------------------------------------------------------

# X: two samples x⁽¹⁾ = (1, 2), x⁽²⁾ = (3, −1), one per column; targets y = (1, 2).
HAND_X = np.array([[1.0, 3.0], [2.0, -1.0]])
HAND_Y = np.array([[1.0, 2.0]])
HAND_PARAMS = {
    "W1": np.array([[1.0, -1.0], [0.5, 2.0]]),
    "b1": np.array([[0.0], [-1.0]]),
    "W2": np.array([[2.0, -1.0]]),
    "b2": np.array([[0.5]]),
}
# forward (ReLU hidden layer, identity output, MSE):
#   Z1 = W1·X + b1: unit 1: 1·1 − 1·2 + 0 = −1 ; 1·3 − 1·(−1) + 0 = 4
#                   unit 2: 0.5·1 + 2·2 − 1 = 3.5 ; 0.5·3 + 2·(−1) − 1 = −1.5
HAND_Z1 = np.array([[-1.0, 4.0], [3.5, -1.5]])
HAND_A1 = np.array([[0.0, 4.0], [3.5, 0.0]])  # ReLU
#   Z2 = W2·A1 + b2: 2·0 − 1·3.5 + 0.5 = −3 ; 2·4 − 1·0 + 0.5 = 8.5 ; A2 = Z2
HAND_A2 = np.array([[-3.0, 8.5]])
#   J = (1/2)·[½(−3 − 1)² + ½(8.5 − 2)²] = (1/2)·(8 + 21.125) = 14.5625
HAND_J = 14.5625
# backward:
#   dZ2 = A2 − Y = (−4, 6.5)
#   dW2 = (1/2)·dZ2·A1ᵀ = ((−4·0 + 6.5·4)/2, (−4·3.5 + 6.5·0)/2) = (13, −7)
#   db2 = (−4 + 6.5)/2 = 1.25
#   dA1 = W2ᵀ·dZ2 = [[2·(−4), 2·6.5], [−1·(−4), −1·6.5]] = [[−8, 13], [4, −6.5]]
#   dZ1 = dA1 ⊙ 1[Z1 > 0] = [[0, 13], [4, 0]]
#   dW1 = (1/2)·dZ1·Xᵀ: row 1: ((0·1 + 13·3)/2, (0·2 + 13·(−1))/2) = (19.5, −6.5)
#                       row 2: ((4·1 + 0·3)/2, (4·2 + 0·(−1))/2) = (2, 4)
#   db1 = ((0 + 13)/2, (4 + 0)/2) = (6.5, 2)
#   dA0 = W1ᵀ·dZ1, W1ᵀ = [[1, 0.5], [−1, 2]]:
#         column 1: (1·0 + 0.5·4, −1·0 + 2·4) = (2, 8); column 2: (1·13, −1·13) = (13, −13)
HAND_GRADS = {
    "dW2": np.array([[13.0, -7.0]]),
    "db2": np.array([[1.25]]),
    "dA1": np.array([[-8.0, 13.0], [4.0, -6.5]]),
    "dW1": np.array([[19.5, -6.5], [2.0, 4.0]]),
    "db1": np.array([[6.5], [2.0]]),
    "dA0": np.array([[2.0, 13.0], [8.0, -13.0]]),
}


def test_hand_worked_network_functional():
    AL, caches = functional.L_model_forward(HAND_X, HAND_PARAMS, "relu", "identity")
    np.testing.assert_array_equal(caches[0].Z, HAND_Z1)
    np.testing.assert_array_equal(caches[0].A, HAND_A1)
    np.testing.assert_array_equal(AL, HAND_A2)
    assert functional.compute_cost(AL, HAND_Y, "mse") == HAND_J
    grads = functional.L_model_backward(AL, HAND_Y, caches, "relu", "identity", "mse")
    assert set(grads) == set(HAND_GRADS)
    for k, v in HAND_GRADS.items():
        np.testing.assert_array_equal(grads[k], v, err_msg=k)


def test_hand_worked_network_object_api():
    net = deepmat.Network([2, 2, 1], "relu", "identity")
    net.params = HAND_PARAMS
    X_rows, y = HAND_X.T, HAND_Y[0]
    np.testing.assert_array_equal(net.forward(X_rows), HAND_A2.T)
    assert net.cost(X_rows, y) == HAND_J
    grads = net.gradients(X_rows, y)
    assert set(grads) == {"dW1", "db1", "dW2", "db2"}
    for k, v in grads.items():
        np.testing.assert_array_equal(v, HAND_GRADS[k], err_msg=k)
    # one full-batch step: W ← W − α·dW
    history = net.fit(X_rows, y, learning_rate=0.25, iterations=1, print_every=None)
    assert list(history) == [HAND_J]
    for k, v in HAND_PARAMS.items():
        np.testing.assert_array_equal(net.params[k], v - 0.25 * HAND_GRADS[f"d{k}"], err_msg=k)


def test_hand_worked_sigmoid_output_with_cross_entropy():
    # same hidden layer; sigmoid output, binary targets y = (1, 0); dZ2 = A2 − Y
    Y = np.array([[1.0, 0.0]])
    AL, caches = functional.L_model_forward(HAND_X, HAND_PARAMS, "relu", "sigmoid")
    z = [-3.0, 8.5]  # Z2, as above
    a = [1 / (1 + np.exp(3.0)), 1 / (1 + np.exp(-8.5))]
    np.testing.assert_allclose(caches[1].Z, [z], rtol=0, atol=0)
    np.testing.assert_allclose(AL, [a], rtol=1e-15)
    J = -(np.log(a[0]) + np.log(1 - a[1])) / 2
    np.testing.assert_allclose(functional.compute_cost(AL, Y, "binary_cross_entropy"), J, rtol=1e-14)
    grads = functional.L_model_backward(AL, Y, caches, "relu", "sigmoid")
    d = [a[0] - 1, a[1] - 0]  # dZ2
    np.testing.assert_allclose(grads["dW2"], [[(d[1] * 4) / 2, (d[0] * 3.5) / 2]], rtol=1e-14)
    np.testing.assert_allclose(grads["db2"], [[(d[0] + d[1]) / 2]], rtol=1e-14)
    # dZ1 = (W2ᵀ·dZ2) ⊙ 1[Z1 > 0] = [[0, 2·d2], [−1·d1, 0]]
    np.testing.assert_allclose(grads["db1"], [[2 * d[1] / 2], [-d[0] / 2]], rtol=1e-14)
    np.testing.assert_allclose(
        grads["dW1"], [[2 * d[1] * 3 / 2, 2 * d[1] * -1 / 2], [-d[0] * 1 / 2, -d[0] * 2 / 2]], rtol=1e-14
    )


# -- initialisation (SPEC §6) -------------------------------------------------------------

DIMS = [7, 5, 4, 3]


@pytest.mark.parametrize("seed", [1, 3])
def test_scaled_init_is_randn_over_sqrt_n_prev_layer_by_layer(seed):
    net = deepmat.Network(DIMS, init="scaled", seed=seed)
    rng = np.random.RandomState(seed)
    for l in range(1, len(DIMS)):
        expected = rng.randn(DIMS[l], DIMS[l - 1]) / np.sqrt(DIMS[l - 1])
        np.testing.assert_array_equal(net.params[f"W{l}"], expected)
        np.testing.assert_array_equal(net.params[f"b{l}"], np.zeros((DIMS[l], 1)))


def test_default_init_is_seed_002_iniPara():
    net = deepmat.Network(DIMS)  # init="scaled", seed=1
    rng = np.random.RandomState(1)
    for l in range(1, len(DIMS)):
        np.testing.assert_array_equal(
            net.params[f"W{l}"], rng.randn(DIMS[l], DIMS[l - 1]) / np.sqrt(DIMS[l - 1])
        )


def test_small_init_is_randn_times_0_01():
    net = deepmat.Network(DIMS, init="small", seed=1)
    rng = np.random.RandomState(1)
    for l in range(1, len(DIMS)):
        np.testing.assert_array_equal(net.params[f"W{l}"], rng.randn(DIMS[l], DIMS[l - 1]) * 0.01)


def test_functional_initialize_parameters_equals_network():
    for init in ["scaled", "small", "he", "xavier"]:
        params = initializers.initialize_parameters(DIMS, init, seed=4)
        net = deepmat.Network(DIMS, init=init, seed=4)
        assert set(params) == set(net.params)
        for k, v in params.items():
            np.testing.assert_array_equal(v, net.params[k])


def test_zeros_init_warns_with_a_hidden_layer():
    with pytest.warns(UserWarning, match="zeros"):
        net = deepmat.Network([3, 4, 1], init="zeros")
    assert all((v == 0).all() for v in net.params.values())
    with pytest.warns(UserWarning, match="symmetr|identical"):
        initializers.initialize_parameters([3, 4, 1], "zeros")


def test_zeros_init_without_hidden_layer_is_silent():
    # logistic regression has no hidden units whose symmetry could matter
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net = deepmat.Network([3, 1], init="zeros")
    assert (net.params["W1"] == 0).all()


@pytest.mark.parametrize(("init", "std"), [("he", np.sqrt(2 / 800)), ("xavier", np.sqrt(2 / (800 + 600)))])
def test_he_and_xavier_have_the_right_std(init, std):
    W = deepmat.Network([800, 600], init=init, seed=0).params["W1"]
    assert W.shape == (600, 800)
    # 480 000 draws: the sample std is within 1% of σ by a wide margin (its sd is σ/√(2N) ≈ 0.1%)
    assert abs(W.std() / std - 1) < 0.01
    assert abs(W.mean()) < 5 * std / np.sqrt(W.size)


@pytest.mark.parametrize("init", ["scaled", "small", "he", "xavier"])
def test_biases_start_at_zero(init):
    net = deepmat.Network(DIMS, init=init)
    for l in range(1, len(DIMS)):
        b = net.params[f"b{l}"]
        assert b.shape == (DIMS[l], 1)
        assert (b == 0).all()


@pytest.mark.parametrize("init", ["scaled", "small", "he", "xavier"])
def test_float32_init_is_float64_init_rounded(init):
    p64 = deepmat.Network(DIMS, init=init, seed=2).params
    p32 = deepmat.Network(DIMS, init=init, seed=2, dtype="float32").params
    for k, v in p64.items():
        assert p32[k].dtype == np.float32
        np.testing.assert_array_equal(p32[k], v.astype(np.float32))


# -- the default loss ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "loss", "n_out"),
    [("sigmoid", "binary_cross_entropy", 1), ("softmax", "cross_entropy", 3), ("identity", "mse", 1)],
)
def test_loss_none_picks_the_canonical_loss(output, loss, n_out):
    net = deepmat.Network([2, 3, n_out], output_activation=output)
    assert net.loss == loss
    # and the cost it computes is that loss
    rng = np.random.RandomState(0)
    X = rng.randn(5, 2)
    y = rng.randint(0, 2, size=5) if output != "identity" else rng.randn(5)
    AL = net.forward(X).T
    Y = np.eye(n_out)[y].T if output == "softmax" else y[None, :].astype(float)
    assert net.cost(X, y) == losses.get_loss(loss).cost(AL, Y)


def test_explicit_loss_is_used():
    net = deepmat.Network([2, 3, 1], output_activation="sigmoid", loss="mse")
    assert net.loss == "mse"
    rng = np.random.RandomState(1)
    X, y = rng.randn(6, 2), rng.rand(6)
    a = net.forward(X)[:, 0]
    np.testing.assert_allclose(net.cost(X, y), 0.5 * ((a - y) ** 2).sum() / 6, rtol=1e-14)
    assert not np.isclose(net.cost(X, y), losses.binary_cross_entropy(a[None, :], y[None, :]))


# -- update_parameters (SPEC §3 eq. 4) ----------------------------------------------------


def test_update_parameters_is_gradient_descent_and_pure():
    rng = np.random.RandomState(3)
    params = {"W1": rng.randn(3, 2), "b1": rng.randn(3, 1), "W2": rng.randn(1, 3), "b2": rng.randn(1, 1)}
    grads = {f"d{k}": rng.randn(*v.shape) for k, v in params.items()}
    before = {k: v.copy() for k, v in params.items()}
    grads_before = {k: v.copy() for k, v in grads.items()}
    updated = functional.update_parameters(params, grads, 0.1)
    assert set(updated) == set(params)
    for k in params:
        np.testing.assert_array_equal(updated[k], before[k] - 0.1 * grads[f"d{k}"])
        np.testing.assert_array_equal(params[k], before[k])  # the input is untouched
        np.testing.assert_array_equal(grads[f"d{k}"], grads_before[f"d{k}"])
        assert updated[k] is not params[k]


def test_update_parameters_ignores_extra_gradients_and_checks_shapes():
    params = {"W1": np.ones((2, 2)), "b1": np.zeros((2, 1))}
    grads = {"dW1": np.ones((2, 2)), "db1": np.ones((2, 1)), "dA0": np.ones((2, 5))}
    updated = functional.update_parameters(params, grads, 0.5)
    np.testing.assert_array_equal(updated["W1"], 0.5 * np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"dW1 is \(2, 3\) but W1 is \(2, 2\)"):
        functional.update_parameters(params, {"dW1": np.ones((2, 3)), "db1": np.ones((2, 1))}, 0.5)


# -- fit ----------------------------------------------------------------------------------


def blobs(m=40, seed=0):
    """Two well separated Gaussian blobs, labels 0/1."""
    rng = np.random.RandomState(seed)
    y = np.arange(m) % 2
    X = rng.randn(m, 2) * 0.5 + np.where(y[:, None] == 1, 2.0, -2.0)
    return X, y


def test_fit_history_has_one_cost_per_iteration_and_decreases():
    X, y = blobs()
    net = deepmat.Network([2, 4, 1], "tanh", "sigmoid", seed=0)
    history = net.fit(X, y, learning_rate=0.1, iterations=50, print_every=None)
    assert len(history) == 50
    assert all(isinstance(c, float) and np.isfinite(c) for c in history)
    assert history[-1] < 0.5 * history[0]
    assert net.score(X, y) == 1.0


def test_fit_costs_decrease_monotonically_on_linear_regression():
    rng = np.random.RandomState(1)
    X = rng.randn(30, 3)
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.3
    net = deepmat.Network([3, 1], output_activation="identity", seed=1)
    history = net.fit(X, y, learning_rate=0.05, iterations=100, print_every=None)
    assert (np.diff(history) < 0).all()
    assert history[-1] < 1e-2 * history[0]


def test_fit_records_the_cost_before_each_update():
    X, y = blobs(m=12, seed=2)
    net = deepmat.Network([2, 3, 1], "relu", "sigmoid", seed=2)
    probe = net.copy()
    J0 = net.cost(X, y)
    history = net.fit(X, y, learning_rate=0.5, iterations=3, print_every=None)
    assert history[0] == pytest.approx(J0, rel=1e-15, abs=0)  # the initial parameters' cost
    # history[1] is the cost after exactly one update
    probe.fit(X, y, learning_rate=0.5, iterations=1, print_every=None)
    assert history[1] == pytest.approx(probe.cost(X, y), rel=1e-15, abs=0)
    assert history[1] != history[0]
    # and the final parameters are those after the last (third) update
    probe.fit(X, y, learning_rate=0.5, iterations=2, print_every=None)
    for k, v in net.params.items():
        np.testing.assert_array_equal(v, probe.params[k])


def test_fit_print_every_prints_the_seeds_lines(capsys):
    X, y = blobs(m=10)
    net = deepmat.Network([2, 3, 1], seed=0)
    history = net.fit(X, y, learning_rate=0.1, iterations=5, print_every=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"Cost after iteration {i}: {history[i]:.7f}" for i in (0, 2, 4)]


@pytest.mark.parametrize("print_every", [None, 0])
def test_fit_print_every_none_is_silent(capsys, print_every):
    X, y = blobs(m=10)
    deepmat.Network([2, 3, 1], seed=0).fit(X, y, learning_rate=0.1, iterations=5, print_every=print_every)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


# -- predict, predict_proba, score --------------------------------------------------------


def test_binary_sigmoid_predict_proba_and_predict():
    X, _ = blobs(m=8, seed=3)
    net = deepmat.Network([2, 3, 1], "tanh", "sigmoid", seed=3)
    a = net.forward(X)[:, 0]
    proba = net.predict_proba(X)
    assert proba.shape == (8, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(proba[:, 1], a)  # column 1 is P(y = 1) = a
    pred = net.predict(X)
    assert pred.shape == (8,)
    np.testing.assert_array_equal(pred, (a > 0.5).astype(int))
    np.testing.assert_array_equal(pred, proba.argmax(axis=1))


def test_softmax_predict_proba_rows_sum_to_one_and_predict_is_argmax():
    rng = np.random.RandomState(4)
    X = rng.randn(9, 3)
    net = deepmat.Network([3, 5, 4], "relu", "softmax", seed=4)
    proba = net.predict_proba(X)
    assert proba.shape == (9, 4)
    assert ((proba > 0) & (proba < 1)).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-14)
    np.testing.assert_array_equal(net.predict(X), proba.argmax(axis=1))


def test_regressor_predict_is_the_output():
    rng = np.random.RandomState(5)
    X = rng.randn(7, 3)
    net = deepmat.Network([3, 4, 1], "tanh", "identity", seed=5)
    pred = net.predict(X)
    assert pred.shape == (7,)
    np.testing.assert_array_equal(pred, net.forward(X)[:, 0])
    multi = deepmat.Network([3, 4, 2], "tanh", "identity", seed=5)
    assert multi.predict(X).shape == (7, 2)
    np.testing.assert_array_equal(multi.predict(X), multi.forward(X))


def test_score_is_accuracy_for_classifiers():
    X, y = blobs(m=10, seed=6)
    net = deepmat.Network([2, 3, 1], "tanh", "sigmoid", seed=6)
    pred = net.predict(X)
    assert net.score(X, y) == np.mean(pred == y)
    flipped = y.copy()
    flipped[:3] = 1 - flipped[:3]
    assert net.score(X, flipped) == np.mean(pred == flipped)
    soft = deepmat.Network([2, 3, 3], "tanh", "softmax", seed=6)
    labels = np.arange(10) % 3
    assert soft.score(X, labels) == np.mean(soft.predict(X) == labels)


def test_score_is_r2_for_regression():
    rng = np.random.RandomState(7)
    X = rng.randn(12, 2)
    y = X[:, 0] - X[:, 1] + 0.1 * rng.randn(12)
    net = deepmat.Network([2, 3, 1], "tanh", "identity", seed=7)
    net.fit(X, y, learning_rate=0.05, iterations=30, print_every=None)
    pred = net.predict(X)
    ss_res = sum((yi - pi) ** 2 for yi, pi in zip(y, pred, strict=True))
    mean = sum(y) / len(y)
    ss_tot = sum((yi - mean) ** 2 for yi in y)
    np.testing.assert_allclose(net.score(X, y), 1 - ss_res / ss_tot, rtol=1e-12)
    # a perfect fit scores 1; predicting worse than the mean scores below 0
    assert net.score(X, pred) == 1.0
    assert net.score(X, -pred) < 0
