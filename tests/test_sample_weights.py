"""Sample and class weights: exact (a weight of 2 is the sample repeated), gradients proven by
central differences and by PyTorch autograd, class_weight="balanced" as scikit-learn
computes it, the stratified validation split, and bad weights refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deepmat import Network
from deepmat.preprocessing import stratified_split
from deepmat.sample_weights import class_weights, training_weights

rng = np.random.default_rng(11)
X = rng.random((30, 5))
y = rng.integers(0, 3, 30)


def fresh(**kwargs) -> Network:
    return Network([5, 7, 3], "tanh", "softmax", seed=4, **kwargs)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_weight_of_two_is_the_sample_repeated(optimizer):
    w = np.ones(30)
    w[[2, 9, 17]] = 2.0
    w[5] = 3.0
    repeated = np.concatenate([np.arange(30), [2, 9, 17, 5, 5]])
    weighted, copies = fresh(), fresh()
    h_w = weighted.fit(
        X, y, epochs=20, batch_size=None, shuffle=False, optimizer=optimizer, verbose=0, sample_weight=w
    )
    h_r = copies.fit(
        X[repeated], y[repeated], epochs=20, batch_size=None, shuffle=False, optimizer=optimizer, verbose=0
    )
    np.testing.assert_allclose(h_w, h_r, rtol=1e-12)
    for name, array in weighted.params.items():
        np.testing.assert_allclose(array, copies.params[name], rtol=1e-10, atol=1e-13, err_msg=name)


def test_the_seeds_form_with_weights_is_the_repeated_set_too():
    Xb, yb = rng.random((20, 30)), rng.integers(0, 2, 20)
    w = np.ones(20)
    w[0] = 2.0
    a, b = Network([30, 4, 1], seed=2), Network([30, 4, 1], seed=2)
    a.fit(Xb, yb, iterations=50, print_every=None, sample_weight=w)
    b.fit(np.vstack([Xb, Xb[:1]]), np.concatenate([yb, yb[:1]]), iterations=50, print_every=None)
    np.testing.assert_allclose(a.params["W1"], b.params["W1"], rtol=1e-10)


def weighted_gradients(net: Network, w: np.ndarray) -> dict[str, np.ndarray]:
    A0 = net.input_columns(X)
    Y = net.target_rows(y, 30).T
    wt = w * (30 / w.sum())
    return {k: v.copy() for k, v in net.backward_pass(net.forward_pass(A0, True), Y, wt).items()}


def weighted_cost(net: Network, w: np.ndarray) -> float:
    A0 = net.input_columns(X)
    return net.compute_cost(net.infer(A0), net.target_rows(y, 30).T, w * (30 / w.sum()))


def test_weighted_gradients_match_central_differences():
    net = fresh(l2=0.01)
    w = rng.uniform(0, 3, 30)
    analytic = weighted_gradients(net, w)
    for name, theta in net.params.items():
        flat = theta.reshape(-1)
        for i in range(0, flat.size, max(1, flat.size // 7)):
            keep = flat[i]
            flat[i] = keep + 1e-6
            up = weighted_cost(net, w)
            flat[i] = keep - 1e-6
            down = weighted_cost(net, w)
            flat[i] = keep
            numeric = (up - down) / 2e-6
            assert abs(numeric - analytic[f"d{name}"].reshape(-1)[i]) < 1e-7 * max(1, abs(numeric)), (name, i)


def test_weighted_gradients_match_pytorch_autograd():
    net = fresh()
    w = rng.uniform(0, 3, 30)
    analytic = weighted_gradients(net, w)
    params = {k: torch.tensor(v, requires_grad=True) for k, v in net.params.items()}
    Xt, wt = torch.tensor(X), torch.tensor(w)
    A1 = torch.tanh(Xt @ params["W1"].T + params["b1"][:, 0])
    Z2 = A1 @ params["W2"].T + params["b2"][:, 0]
    per_sample = torch.nn.functional.cross_entropy(Z2, torch.tensor(y), reduction="none")
    ((per_sample * wt).sum() / wt.sum()).backward()
    for name, tensor in params.items():
        np.testing.assert_allclose(
            analytic[f"d{name}"], tensor.grad.numpy(), rtol=1e-10, atol=1e-14, err_msg=name
        )


def test_balanced_class_weights_are_scikit_learns():
    from sklearn.utils.class_weight import compute_class_weight

    labels = np.array([0] * 12 + [1] * 3 + [2] * 6)
    expected = compute_class_weight("balanced", classes=np.arange(3), y=labels)
    np.testing.assert_allclose(class_weights("balanced", labels, 3), expected[labels])
    np.testing.assert_allclose(class_weights({1: 4.0}, labels, 3), np.where(labels == 1, 4.0, 1.0))


def test_weights_are_scaled_to_mean_one_and_multiply():
    Y = np.eye(3)[y]
    w = training_weights(np.full(30, 5.0), {0: 2.0}, Y, "softmax")
    assert w.mean() == pytest.approx(1.0)
    np.testing.assert_allclose(w / w[y == 1][0], np.where(y == 0, 2.0, 1.0))


def test_class_weight_balanced_raises_the_minority_recall():
    data = np.random.default_rng(3)
    m_major, m_minor = 950, 50
    Xi = np.vstack([data.normal(0, 1, (m_major, 2)), data.normal(1.2, 1, (m_minor, 2))])
    yi = np.array([0] * m_major + [1] * m_minor)

    def minority_recall(**kwargs) -> float:
        net = Network([2, 8, 1], "relu", "sigmoid", init="he", seed=0)
        net.fit(Xi, yi, epochs=30, batch_size=64, optimizer="adam", learning_rate=0.01, verbose=0, **kwargs)
        return float((net.predict(Xi[yi == 1]) == 1).mean())

    plain, balanced = minority_recall(), minority_recall(class_weight="balanced")
    assert balanced > plain + 0.3, (plain, balanced)


def test_stratified_split_keeps_each_class_share():
    labels = np.array([0] * 80 + [1] * 15 + [2] * 5)
    train, val = stratified_split(labels, 20, np.random.default_rng(0))
    assert [int((labels[val] == c).sum()) for c in range(3)] == [16, 3, 1]
    assert np.array_equal(np.sort(np.concatenate([train, val])), np.arange(100))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"sample_weight": -np.ones(30)}, ValueError, r"sample_weight must be ≥ 0; received -1.0 for sample 0"),
        ({"sample_weight": np.full(30, np.nan)}, ValueError, r"sample_weight must be finite; received nan"),
        ({"sample_weight": np.ones(29)}, ValueError, r"sample_weight must be \(30,\), one weight per sample of X; received shape \(29,\)"),
        ({"sample_weight": np.zeros(30)}, ValueError, r"sample_weight must not be all 0"),
        ({"sample_weight": np.array(["a"] * 30)}, TypeError, r"sample_weight must hold real numbers; received dtype <U1"),
        ({"class_weight": "even"}, ValueError, r"class_weight must be 'balanced' or a dict"),
        ({"class_weight": {5: 1.0}}, ValueError, r"class_weight names class 5; the classes are 0..2"),
        ({"class_weight": {0: -1.0}}, ValueError, r"class_weight\[0\] must be a finite number ≥ 0; received -1.0"),
    ],
)  # fmt: skip
def test_bad_weights_are_refused(kwargs, error, message):
    with pytest.raises(error, match=message):
        fresh().fit(X, y, epochs=1, verbose=0, **kwargs)


def test_class_weight_needs_a_classifier():
    with pytest.raises(ValueError, match=r"class weights and a stratified split need one class per sample"):
        Network([5, 4, 2], "relu", "identity").fit(
            X, rng.random((30, 2)), epochs=1, verbose=0, class_weight="balanced"
        )


def test_output_activation_follows_the_output_units():
    assert Network([4, 3, 1]).output_activation == "sigmoid"
    assert Network([64, 32, 10]).output_activation == "softmax"
    digits_like = Network([5, 8, 3], seed=0)
    digits_like.fit(X, y, epochs=2, verbose=0)  # labels 0..2 train a softmax without saying so
    assert digits_like.loss == "cross_entropy"
