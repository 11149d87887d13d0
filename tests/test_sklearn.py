"""deepmat.sklearn: scikit-learn's own estimator checks, and the estimators in use
(Pipeline, GridSearchCV, cross_val_score, partial_fit, pickling, saving the network)."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import deepmat
from deepmat.sklearn import DeepmatClassifier, DeepmatRegressor

ESTIMATORS = [
    DeepmatClassifier(random_state=0),
    DeepmatRegressor(random_state=0),
    DeepmatClassifier(
        hidden_layer_sizes=(16, 8),
        activation="tanh",
        solver="sgd",
        learning_rate_init=0.05,
        batch_norm=True,
        dropout=0.1,
        random_state=1,
    ),
    DeepmatRegressor(
        hidden_layer_sizes=(32,), activation="leaky_relu", alpha=1e-4, dtype="float32", random_state=2
    ),
    DeepmatClassifier(hidden_layer_sizes=(8,), solver="lbfgs", activation="logistic", random_state=3),
    DeepmatRegressor(hidden_layer_sizes=(8,), solver="lbfgs", random_state=4),
]

#: the only check not run in this process, and why (it is run by test_array_api_input below)
NOT_RUN_HERE = {
    "check_array_api_input": "needs SCIPY_ARRAY_API=1 set before SciPy is imported; "
    "test_array_api_input runs it in a fresh interpreter with that variable"
}


#: the checks that fitting with integer sample weights gives the model fitted on repeated samples
WEIGHT_EQUIVALENCE = (
    "check_sample_weight_equivalence_on_dense_data",
    "check_sample_weight_equivalence_on_sparse_data",
)


def expected_failed_checks(estimator) -> dict[str, str]:
    """Checks a float32 network, or one with dropout and batch norm, cannot pass, and why."""
    failing = {}
    if estimator.dtype == "float32":
        reason = (
            "float32 by request: predictions of a subset or a reordered set differ by up to a few "
            "float32 ulps (BLAS sums in another order for another m), above the check's rtol = 1e-7"
        )
        failing = {"check_methods_subset_invariance": reason, "check_methods_sample_order_invariance": reason}
        reason = (
            "float32 by request: weighted and repeated sums round differently, above the check's rtol = 1e-7"
        )
        failing.update(dict.fromkeys(WEIGHT_EQUIVALENCE, reason))
    if estimator.dropout or estimator.batch_norm:
        reason = (
            "dropout draws a mask per sample and batch norm takes unweighted batch statistics: a repeated "
            "sample gets its own mask and counts twice in the statistics, a weight of 2 does neither"
        )
        failing.update(dict.fromkeys(WEIGHT_EQUIVALENCE, reason))
    return failing


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_scikit_learn_estimator_checks(estimator, check):
    name = getattr(check, "func", check).__name__
    if name in NOT_RUN_HERE:
        pytest.skip(NOT_RUN_HERE[name])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the checks' tiny data sets
        check(estimator)


def test_array_api_input():
    """scikit-learn's array-API check (NumPy namespace), in an interpreter that has
    SCIPY_ARRAY_API=1 from the start."""
    code = textwrap.dedent(
        """
        import warnings
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.utils.estimator_checks import check_array_api_input
        from deepmat.sklearn import DeepmatClassifier, DeepmatRegressor
        warnings.simplefilter("ignore", ConvergenceWarning)
        for est in (DeepmatClassifier(random_state=0), DeepmatRegressor(random_state=0)):
            check_array_api_input(type(est).__name__, est, array_namespace="numpy",
                                  expect_only_array_outputs=False)
        print("array api ok")
        """
    )
    env = {**os.environ, "SCIPY_ARRAY_API": "1"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "array api ok" in proc.stdout


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


def test_pipeline_learns_digits(digits):
    X_train, X_test, y_train, y_test = digits
    model = make_pipeline(StandardScaler(), DeepmatClassifier(hidden_layer_sizes=(64,), random_state=0))
    model.fit(X_train, y_train)
    assert model.score(X_test, y_test) > 0.95
    clf = model[-1]
    assert clf.n_features_in_ == 64
    assert list(clf.classes_) == list(range(10))
    assert clf.network_.layer_dims == [64, 64, 10]
    assert len(clf.loss_curve_) == clf.n_iter_ <= 200
    assert clf.loss_curve_[-1] < clf.loss_curve_[0] / 10
    proba = model.predict_proba(X_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-12)
    np.testing.assert_array_equal(model.predict(X_test), proba.argmax(axis=1))


def test_grid_search_and_cross_validation(digits):
    X_train, _, y_train, _ = digits
    search = GridSearchCV(
        make_pipeline(StandardScaler(), DeepmatClassifier(max_iter=30, random_state=0)),
        {"deepmatclassifier__hidden_layer_sizes": [(8,), (32,)], "deepmatclassifier__alpha": [0.0, 1e-3]},
        cv=3,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X_train, y_train)
        scores = cross_val_score(DeepmatClassifier(max_iter=30, random_state=0), X_train / 16, y_train, cv=3)
    assert search.best_params_["deepmatclassifier__hidden_layer_sizes"] == (32,)
    assert search.best_score_ > 0.85
    assert scores.shape == (3,) and scores.min() > 0.85


def test_string_labels_and_binary_output():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 4))
    y = np.where(X[:, 0] + X[:, 1] > 0, "cat", "non-cat")
    clf = DeepmatClassifier(hidden_layer_sizes=(8,), learning_rate_init=0.01, random_state=0).fit(X, y)
    assert list(clf.classes_) == ["cat", "non-cat"]
    assert clf.network_.output_activation == "sigmoid" and clf.network_.layer_dims[-1] == 1
    assert set(clf.predict(X)) <= {"cat", "non-cat"}
    assert clf.score(X, y) > 0.95
    assert clf.predict_proba(X).shape == (200, 2)


def test_partial_fit_trains_one_epoch_per_call_and_keeps_adam_state(digits):
    X_train, X_test, y_train, y_test = digits
    X_train, X_test = X_train / 16, X_test / 16
    clf = DeepmatClassifier(hidden_layer_sizes=(32,), learning_rate_init=0.01, random_state=0)
    with pytest.raises(ValueError, match="classes="):
        clf.partial_fit(X_train, y_train)
    for _ in range(10):
        clf.partial_fit(X_train, y_train, classes=np.arange(10))
    # n_iter_ counts the epochs of the last call, as scikit-learn's MLP does; loss_curve_ and t_ all of them
    assert clf.n_iter_ == 1 and len(clf.loss_curve_) == 10 and clf.t_ == 10 * len(X_train)
    assert clf._optimizer.t == 10 * -(-len(X_train) // 200)  # one Adam state across the calls
    assert clf.score(X_test, y_test) > 0.9
    with pytest.raises(ValueError, match="not in classes"):
        clf.partial_fit(X_train[:5], np.array([0, 1, 2, 3, 11]))
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(X_train[:, :10], y_train)


def test_regressor_single_and_multi_output():
    X, y = make_regression(n_samples=300, n_features=5, n_targets=2, noise=0.1, random_state=0)
    y = y / y.std(axis=0)
    reg = DeepmatRegressor(hidden_layer_sizes=(32,), max_iter=300, random_state=0).fit(X, y)
    assert reg.predict(X).shape == (300, 2) and reg.score(X, y) > 0.95
    reg1 = DeepmatRegressor(hidden_layer_sizes=(32,), max_iter=300, random_state=0).fit(X, y[:, 0])
    assert reg1.predict(X).shape == (300,) and reg1.score(X, y[:, 0]) > 0.95
    assert reg1.network_.loss == "mse" and reg1.network_.output_activation == "identity"


def test_same_random_state_same_model_and_pickle_round_trip(digits, tmp_path):
    X_train, X_test, y_train, _ = digits
    a = DeepmatClassifier(hidden_layer_sizes=(16,), max_iter=5, random_state=3)
    b = DeepmatClassifier(hidden_layer_sizes=(16,), max_iter=5, random_state=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a.fit(X_train / 16, y_train)
        b.fit(X_train / 16, y_train)
    np.testing.assert_array_equal(a.predict_proba(X_test / 16), b.predict_proba(X_test / 16))
    c = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(c.predict_proba(X_test / 16), a.predict_proba(X_test / 16))
    a.partial_fit(X_train / 16, y_train)  # both continue with the same Adam state and generators
    c.partial_fit(X_train / 16, y_train)
    np.testing.assert_array_equal(c.predict_proba(X_test / 16), a.predict_proba(X_test / 16))
    a.network_.save(tmp_path / "digits.safetensors")  # the network alone, without pickle
    loaded = deepmat.load(tmp_path / "digits.safetensors")
    np.testing.assert_array_equal(loaded.predict_proba(X_test / 16), a.predict_proba(X_test / 16))


def test_convergence_warning_when_max_iter_stops_training(digits):
    X_train, _, y_train, _ = digits
    with pytest.warns(ConvergenceWarning, match="max_iter = 3"):
        DeepmatClassifier(max_iter=3, random_state=0).fit(X_train / 16, y_train)


@pytest.mark.parametrize(
    ("params", "error", "message"),
    [
        ({"hidden_layer_sizes": (0,)}, ValueError, "hidden_layer_sizes must be a tuple of positive integers"),
        (
            {"hidden_layer_sizes": "wide"},
            ValueError,
            "hidden_layer_sizes must be a tuple of positive integers",
        ),
        ({"batch_size": 0}, ValueError, "batch_size must be 'auto' or a positive integer; received 0"),
        ({"max_iter": 0}, ValueError, "max_iter must be a positive integer; received 0"),
        ({"tol": -1.0}, ValueError, "tol must be a finite number ≥ 0"),
        (
            {"solver": "adamax"},
            ValueError,
            "unknown solver 'adamax'; expected one of: 'adam', 'sgd', 'lbfgs'",
        ),
        ({"activation": "gelu"}, ValueError, "unknown activation 'gelu'; expected one of"),
        ({"dtype": "float16"}, ValueError, "unknown dtype 'float16'"),
    ],
)
def test_bad_parameters_are_reported_at_fit(params, error, message):
    X, y = np.random.default_rng(0).random((20, 3)), np.arange(20) % 2
    with pytest.raises(error, match=message):
        DeepmatClassifier(**params).fit(X, y)
