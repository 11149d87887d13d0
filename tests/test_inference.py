"""The lean inference path (:mod:`deepmat.inference`) answers as the general one does: the same
probabilities and labels to float rounding on both kernel sets, the same errors for inputs
that are not finite or outputs that overflow, fresh arrays on every call, the parameters as
they are now, and the general path for what it does not take."""

from __future__ import annotations

import copy
import pickle
import threading

import numpy as np
import pytest

import deepmat
from deepmat.activations import hidden_activations
from deepmat.inference import KEPT_BYTES, ONE_CALL_MAX_SAMPLES
from deepmat.kernels import kernels, numba_available
from deepmat.preprocessor import Preprocessor

KERNEL_SETS = [
    "numpy",
    pytest.param("numba", marks=pytest.mark.skipif(not numba_available(), reason="no Numba")),
]
RTOL = {"float32": 1e-5, "float64": 1e-12}  # a dot product of 30 terms summed in another order


@pytest.fixture(params=KERNEL_SETS)
def kernel_set(request):
    with kernels(request.param):
        yield request.param


def make_net(hidden="relu", output="softmax", n_out=4, dtype="float32", seed=0):
    return deepmat.Network([30, 16, 8, n_out], hidden, output, init="he", seed=seed, dtype=dtype)


def general(net, X):
    """The general path's answer: forward on a copy that the lean path does not accept."""
    return net.forward(np.asfortranarray(X))


@pytest.mark.parametrize("m", [1, 2, ONE_CALL_MAX_SAMPLES, ONE_CALL_MAX_SAMPLES + 1, 37, 300])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("output", "n_out"), [("softmax", 4), ("sigmoid", 1), ("sigmoid", 3), ("identity", 2)], ids=str
)
@pytest.mark.parametrize("hidden", sorted(hidden_activations()))
def test_the_lean_path_answers_as_the_general_one(kernel_set, hidden, output, n_out, dtype, m):
    net = make_net(hidden, output, n_out, dtype)
    X = np.random.default_rng(m).standard_normal((m, 30)).astype(dtype)
    assert net.lean_inference().accepts(X)
    expected = general(net, X)
    got = net.outputs(X)
    assert got.shape == (m, n_out) and got.dtype == dtype and got.flags.c_contiguous
    np.testing.assert_allclose(got, expected, rtol=RTOL[dtype], atol=RTOL[dtype])
    if net.is_classifier:
        np.testing.assert_allclose(
            net.predict_proba(X), net.predict_proba(np.asfortranarray(X)), rtol=RTOL[dtype]
        )
        if output == "softmax":  # the same labels (no near-ties in random data)
            np.testing.assert_array_equal(net.predict(X), expected.argmax(axis=1))


def test_every_answer_is_a_new_array(kernel_set):
    net = make_net()
    rng = np.random.default_rng(1)
    x1, x2 = rng.standard_normal((1, 30)).astype("float32"), rng.standard_normal((1, 30)).astype("float32")
    first = net.predict_proba(x1)
    kept = first.copy()
    second = net.predict_proba(x2)
    np.testing.assert_array_equal(first, kept)  # the second call did not write into the first answer
    assert not np.array_equal(first, second)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("m", [1, 9, 1000])
def test_an_input_that_is_not_finite_gets_the_general_error(kernel_set, bad, m):
    net = make_net()
    X = np.ones((m, 30), dtype="float32")
    X[m - 1, 7] = bad
    with pytest.raises(ValueError, match=rf"X must be finite; received {bad} at index \({m - 1}, 7\)"):
        net.predict_proba(X)


def test_minus_infinity_is_caught_even_where_relu_would_hide_it(kernel_set):
    # every weight from input 0 is positive: Z[1] = −inf in every unit, and ReLU makes it 0, so
    # only a check before the activation (or of X itself) sees it
    net = make_net()
    W1 = net.params["W1"].copy()
    W1[:, 0] = np.abs(W1[:, 0]) + 0.1
    net.params["W1"] = W1
    X = np.zeros((1, 30), dtype="float32")
    X[0, 0] = -np.inf
    with pytest.raises(ValueError, match="X must be finite"):
        net.predict(X)


def test_an_output_that_overflows_gets_the_general_error(kernel_set):
    net = make_net(output="identity", n_out=2)
    net.params["W3"] = np.full_like(net.params["W3"], 3e38)
    X = np.ones((1, 30), dtype="float32")
    with pytest.raises(ValueError, match="the network's outputs are not finite"):
        net.outputs(X)


def test_the_lean_path_reads_the_parameters_as_they_are_now(kernel_set):
    net = make_net()
    X = np.random.default_rng(2).standard_normal((3, 30)).astype("float32")
    before = net.outputs(X)
    y = np.arange(3) % 4
    net.fit(X, y, epochs=3, batch_size=3, optimizer="adam", learning_rate=0.1, verbose=0)
    after = net.outputs(X)
    assert not np.allclose(after, before)
    np.testing.assert_allclose(after, general(net, X), rtol=1e-5, atol=1e-6)


def test_copies_and_pickles_take_the_lean_path_on_their_own_parameters(kernel_set):
    net = make_net()
    X = np.random.default_rng(3).standard_normal((2, 30)).astype("float32")
    net.outputs(X)  # builds the lean path of the original
    for other in (copy.deepcopy(net), pickle.loads(pickle.dumps(net)), net.copy()):
        other.params["b3"] = other.params["b3"] + 1.0
        np.testing.assert_allclose(other.outputs(X), general(other, X), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(net.outputs(X), general(net, X), rtol=1e-5, atol=1e-6)


def test_what_the_lean_path_does_not_take_goes_the_general_way(kernel_set):
    net = make_net()
    lean = net.lean_inference()
    X = np.random.default_rng(4).standard_normal((2, 30))
    for rejected in (
        X,  # float64 for a float32 network
        np.asfortranarray(X.astype("float32")),  # not C-contiguous
        X.astype("float32").tolist(),  # not an array
        np.ones((2, 31), "float32"),  # the wrong width: the general path's error
    ):
        assert not lean.accepts(rejected)
    with pytest.raises(ValueError, match="X has 31 features per sample but the network expects n"):
        net.predict(np.ones((2, 31), "float32"))
    np.testing.assert_allclose(net.predict_proba(X), net.predict_proba(X.astype("float32")), rtol=1e-6)
    batch_norm = deepmat.Network([30, 8, 3], batch_norm=True, dtype="float32")
    assert batch_norm.lean_inference() is None
    with_preprocessor = deepmat.Network([30, 8, 3], dtype="float32", preprocessor=Preprocessor())
    assert with_preprocessor.lean_inference() is None


def test_large_batches_get_new_buffers_small_ones_keep_theirs(kernel_set, monkeypatch):
    net = make_net()
    lean = net.lean_inference()
    rng = np.random.default_rng(6)
    small, large = (
        rng.standard_normal((40, 30)).astype("float32"),
        rng.standard_normal((600, 30)).astype("float32"),
    )
    monkeypatch.setattr("deepmat.inference.KEPT_BYTES", (16 + 8 + 4) * 4 * 100)  # 100 samples' worth
    np.testing.assert_allclose(net.outputs(small), general(net, small), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(net.outputs(large), general(net, large), rtol=1e-5, atol=1e-6)
    assert 40 in lean.buffers and 600 not in lean.buffers
    assert KEPT_BYTES >= 10_000 * (256 + 128 + 10) * 4  # case 3's 10,000 samples keep theirs


def test_threads_predicting_at_once_get_their_own_answers(kernel_set):
    net = make_net()
    rng = np.random.default_rng(5)
    inputs = [rng.standard_normal((1 + i % 3, 30)).astype("float32") for i in range(8)]
    expected = [general(net, X) for X in inputs]
    failures = []

    def work(i):
        for _ in range(200):
            got = net.outputs(inputs[i])
            if not np.allclose(got, expected[i], rtol=1e-5, atol=1e-6):
                failures.append(i)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
