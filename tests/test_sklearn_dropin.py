"""deepmat.sklearn as a drop-in for MLPClassifier/MLPRegressor: the same steps as scikit-learn's
from the same weights (α's scaling, the last smaller batch, momentum, Nesterov, invscaling,
Adam), scikit-learn's fitted attributes and layouts, sample and class weights, dtypes, sparse
input, and the machinery that runs scikit-learn's own MLP test file with deepmat's estimators."""

from __future__ import annotations

import importlib.util
import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.class_weight import compute_sample_weight

import deepmat
from deepmat.sklearn import DeepmatClassifier, DeepmatRegressor

rng = np.random.default_rng(0)
X = rng.standard_normal((53, 4))  # batches of 20, 20 and 13
y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)


def start_weights(n_out: int = 3, activation: str = "tanh"):
    net = deepmat.Network(
        [4, 6, n_out], activation, "softmax" if n_out > 1 else "identity", init="xavier", seed=1
    )
    coefs = [net.params["W1"].T.copy(), net.params["W2"].T.copy()]
    return coefs, [net.params["b1"][:, 0] + 0.1, net.params["b2"][:, 0] - 0.1]


def from_weights(est, coefs, intercepts, sklearn_out: str | None = None):
    """Start ``est`` from given weights: deepmat reads coefs_/intercepts_ at its first
    partial_fit; scikit-learn also needs the attributes its _initialize would set."""
    est.coefs_, est.intercepts_ = [c.copy() for c in coefs], [b.copy() for b in intercepts]
    if sklearn_out is not None:
        est.n_layers_, est.n_outputs_, est.out_activation_ = 3, coefs[-1].shape[1], sklearn_out
        est.t_, est.n_iter_, est.best_loss_, est.loss_curve_ = 0, 0, np.inf, []
        est._no_improvement_count = 0  # scikit-learn's own, as its test_fit sets it
    return est


@pytest.mark.parametrize(
    "solver",
    [
        {"solver": "sgd", "momentum": 0.0},
        {"solver": "sgd", "momentum": 0.9, "learning_rate": "invscaling", "power_t": 0.3},
        {"solver": "sgd", "momentum": 0.8, "nesterovs_momentum": False, "learning_rate": "invscaling"},
        {"solver": "adam", "beta_1": 0.8},
    ],
    ids=["sgd", "nesterov-invscaling", "momentum-invscaling", "adam"],
)
def test_the_same_steps_as_scikit_learn_from_the_same_weights(solver):
    params = dict(
        hidden_layer_sizes=(6,), activation="tanh", alpha=0.3, batch_size=20, shuffle=False,
        learning_rate_init=0.05, **solver,
    )  # fmt: skip
    coefs, intercepts = start_weights()
    ours = from_weights(DeepmatClassifier(**params), coefs, intercepts)
    theirs = from_weights(MLPClassifier(**params), coefs, intercepts, "softmax")
    for _ in range(5):
        ours.partial_fit(X, y, classes=[0, 1, 2])
        theirs.partial_fit(X, y, classes=[0, 1, 2])
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-14)  # measured ≤ 3.3e-16
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-13)
    assert (ours.t_, ours.n_iter_) == (theirs.t_, theirs.n_iter_)
    assert ours.best_loss_ == pytest.approx(theirs.best_loss_, rel=1e-14)
    if solver["solver"] == "sgd":
        assert ours._optimizer.learning_rate == theirs._optimizer.learning_rate


def test_coefs_and_intercepts_are_scikit_learns_layout_and_live():
    clf = DeepmatClassifier(hidden_layer_sizes=(5, 4), max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    net = clf.network_
    assert [c.shape for c in clf.coefs_] == [(4, 5), (5, 4), (4, 3)]
    for l, (W, b) in enumerate(zip(clf.coefs_, clf.intercepts_, strict=True), start=1):
        np.testing.assert_array_equal(W, net.params[f"W{l}"].T)
        np.testing.assert_array_equal(b, net.params[f"b{l}"][:, 0])
    before = clf.coefs_[0].copy()
    clf.partial_fit(X, y)
    assert not np.array_equal(clf.coefs_[0], before)  # the views follow the training
    np.testing.assert_array_equal(clf.coefs_[0], net.params["W1"].T)
    clf.intercepts_[2] = np.array([0.0, 0.0, 50.0])  # assigned: copied in before predicting
    assert (clf.predict(X) == 2).all()
    assert (clf.n_layers_, clf.n_outputs_, clf.out_activation_) == (4, 3, "softmax")
    copy = pickle.loads(pickle.dumps(clf))
    copy.coefs_[2][...] = 0.0  # in place, on the unpickled network's own θ
    np.testing.assert_array_equal(copy.network_.params["W3"], 0.0)


def test_a_weight_of_two_is_the_sample_repeated():
    w = rng.integers(0, 3, X.shape[0])
    params = dict(hidden_layer_sizes=(6,), solver="lbfgs", alpha=1e-2, max_iter=40, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weighted = DeepmatClassifier(**params).fit(X, y, sample_weight=w)
        repeated = DeepmatClassifier(**params).fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-9)
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-7, atol=1e-9)


def test_class_weight_is_scikit_learns_per_sample_weight():
    labels = np.array(["a", "b", "c"])[y]
    params = dict(hidden_layer_sizes=(6,), solver="lbfgs", max_iter=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for class_weight in ("balanced", {"a": 2.0, "c": 0.5}):
            ours = DeepmatClassifier(class_weight=class_weight, **params).fit(X, labels)
            same = DeepmatClassifier(**params).fit(X, labels, compute_sample_weight(class_weight, labels))
            np.testing.assert_array_equal(ours.predict_proba(X), same.predict_proba(X))


def test_regressor_attributes_dtypes_and_sparse_input():
    target = X @ np.array([1.0, -2.0, 0.5, 0.0]) + np.sin(X[:, 0])
    reg = DeepmatRegressor(hidden_layer_sizes=(16,), solver="lbfgs", tol=1e-3, random_state=0).fit(X, target)
    assert reg.out_activation_ == "identity" and reg.n_outputs_ == 1 and reg.score(X, target) > 0.99
    assert reg.best_loss_ is None and reg.validation_scores_ is None and len(reg.loss_curve_) == reg.n_iter_
    as32 = DeepmatRegressor(hidden_layer_sizes=(16,), solver="lbfgs", tol=1e-3, random_state=0).fit(
        X.astype(np.float32), target
    )
    assert as32.coefs_[0].dtype == np.float32 and as32.predict(X.astype(np.float32)).dtype == np.float32
    assert reg.predict(X).dtype == np.float64
    dense = DeepmatClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        proba = dense.fit(X, y).predict_proba(X)
        np.testing.assert_array_equal(
            dense.fit(sparse.csr_matrix(X), y).predict_proba(sparse.csr_matrix(X)), proba
        )


def test_scikit_learns_names_and_deepmats_extras():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = DeepmatClassifier(
            hidden_layer_sizes=3, activation="logistic", solver="rmsprop", max_iter=5
        ).fit(X, y)
        binary = DeepmatClassifier(max_iter=2, n_iter_no_change=np.inf, random_state=0).fit(X, y > 0)
        labels = np.stack([y == 0, y == 1, y == 2], axis=1).astype(int)
        multilabel = DeepmatClassifier(solver="lbfgs", max_iter=50, random_state=0).fit(X, labels)
    assert clf.network_.layers[0].activation == "sigmoid" and type(clf._optimizer).__name__ == "RMSprop"
    assert binary.out_activation_ == "logistic" and binary.n_outputs_ == 1 and binary.n_iter_ == 2
    assert multilabel.out_activation_ == "logistic" and multilabel.predict(X).shape == (53, 3)
    assert not hasattr(DeepmatClassifier(solver="lbfgs"), "partial_fit")
    assert hasattr(DeepmatClassifier(solver="sgd"), "partial_fit")


def test_verbose_prints_scikit_learns_lines(capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        DeepmatClassifier(solver="sgd", max_iter=2, verbose=True, early_stopping=True, random_state=0).fit(
            X, y
        )
    out = capsys.readouterr().out
    assert "Iteration 1, loss = " in out and "Iteration 2, loss = " in out and "Validation score: " in out


def test_early_stopping_keeps_the_best_validated_parameters():
    clf = DeepmatClassifier(
        hidden_layer_sizes=(16,), solver="sgd", learning_rate_init=0.5, early_stopping=True,
        validation_fraction=0.3, n_iter_no_change=3, max_iter=200, random_state=0,
    )  # fmt: skip
    clf.fit(X, y)
    scores = clf.validation_scores_
    assert clf.best_loss_ is None and clf.best_validation_score_ == max(scores)
    assert len(scores) == clf.n_iter_ < 200 and clf._no_improvement_count == 4  # > n_iter_no_change: stop
    assert scores.index(max(scores)) == len(scores) - 5
    # the held-out samples: scikit-learn's split, drawn after the weights from the same random state
    random_state = np.random.RandomState(0)
    random_state.randint(np.iinfo(np.int32).max)
    stratify = LabelBinarizer().fit(y).transform(y).astype(bool)
    _, X_val, _, y_val = train_test_split(X, y, random_state=random_state, test_size=0.3, stratify=stratify)
    assert clf.score(X_val, y_val) == max(scores)  # the parameters kept are the best epoch's


def run_mlp_tests_script():
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "sklearn_mlp_tests.py"
    spec = importlib.util.spec_from_file_location("sklearn_mlp_tests", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_scikit_learns_mlp_test_file_runs_with_deepmats_estimators():
    """The machinery of benchmarks/sklearn_mlp_tests.py on three of the file's tests (the whole
    file takes a minute or two: python benchmarks/sklearn_mlp_tests.py)."""
    script = run_mlp_tests_script()
    results = script.run("test_fit or test_gradient or test_partial_fit_errors", timeout=300)
    assert sorted(results["passed"]) == ["test_fit", "test_partial_fit_errors"]
    assert list(results["failed"]) == ["test_gradient"]
    assert "_loss_grad_lbfgs" in results["failed"]["test_gradient"]
    assert script.reason("test_gradient").startswith("private internals")
    assert script.reason("test_preserve_feature_names[DeepmatClassifier]").startswith("unsupported option")


def test_the_regressor_starts_from_scikit_learns_weights():
    """A fitted MLPRegressor's coefs_ and intercepts_ give a deepmat network with its predictions."""
    target = np.sin(X[:, 0]) + X[:, 1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = MLPRegressor(hidden_layer_sizes=(6,), max_iter=50, random_state=0).fit(X, target)
    ours = DeepmatRegressor(solver="sgd", learning_rate_init=1e-300, momentum=0.0, alpha=0.0, warm_start=True)
    ours.coefs_, ours.intercepts_ = theirs.coefs_, theirs.intercepts_
    ours.partial_fit(X, target)  # one step of size 1e-300: the weights as given
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-12)
