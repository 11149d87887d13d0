"""Bad input at every public entry point: ValueError/TypeError saying what was expected and
what was received; and TrainingDiverged when gradient descent blows up."""

from __future__ import annotations

import re

import numpy as np
import pytest

import deepmat
from deepmat import functional

# -- functional API -----------------------------------------------------------------------


def test_linear_forward_names_the_layer_in_shape_errors():
    A1, W2, b2 = np.ones((19, 4)), np.ones((7, 20)), np.zeros((7, 1))
    with pytest.raises(ValueError, match=re.escape("layer 2: W2 is (7, 20) but A1 has 19 rows")) as e:
        functional.linear_forward(A1, W2, b2, layer=2)
    assert "expected n1 = 20" in str(e.value)


def test_linear_forward_shape_error_without_layer_uses_generic_names():
    with pytest.raises(ValueError, match=re.escape("W[l] is (7, 20) but A[l-1] has 19 rows")):
        functional.linear_forward(np.ones((19, 4)), np.ones((7, 20)), np.zeros((7, 1)))


@pytest.mark.parametrize(
    ("A", "W", "b", "pattern"),
    [
        (np.ones((3, 2)), np.ones((4, 3)), np.zeros((3, 1)), r"layer 1: b1 is \(3, 1\); expected \(4, 1\)"),
        (
            np.ones((3, 2)),
            np.ones((4, 3)),
            np.zeros(4),
            r"layer 1: A0, W1 and b1 must be 2-D; received shapes",
        ),
        (np.ones(3), np.ones((4, 3)), np.zeros((4, 1)), r"must be 2-D; received shapes \(3,\)"),
    ],
)
def test_linear_forward_other_shape_errors(A, W, b, pattern):
    with pytest.raises(ValueError, match=pattern):
        functional.linear_forward(A, W, b, layer=1)


def test_linear_forward_mixed_dtypes_is_a_type_error():
    A = np.ones((3, 2), dtype=np.float32)
    W, b = np.ones((4, 3)), np.zeros((4, 1))
    with pytest.raises(
        TypeError, match=r"layer 3: A2, W3 and b3 must share one dtype; received float32, float64"
    ):
        functional.linear_forward(A, W, b, layer=3)


def test_L_model_forward_names_the_failing_layer():
    params = {"W1": np.ones((4, 3)), "b1": np.zeros((4, 1)), "W2": np.ones((2, 5)), "b2": np.zeros((2, 1))}
    with pytest.raises(ValueError, match=re.escape("layer 2: W2 is (2, 5) but A1 has 4 rows")):
        functional.L_model_forward(np.ones((3, 6)), params)


def test_L_model_forward_bad_params_keys():
    with pytest.raises(ValueError, match=r"params must hold W1, b1, …, WL, bL; received keys \['W1', 'b2'\]"):
        functional.L_model_forward(np.ones((3, 2)), {"W1": np.ones((4, 3)), "b2": np.zeros((4, 1))})


def test_linear_backward_dZ_shape():
    cache = functional.LinearCache(np.ones((3, 5)), np.ones((4, 3)), np.zeros((4, 1)))
    with pytest.raises(ValueError, match=re.escape("dZ is (4, 6) but Z = W·A_prev is (4, 5)")):
        functional.linear_backward(np.ones((4, 6)), cache)


def test_backward_and_cost_Y_shape():
    AL, caches = functional.L_model_forward(np.ones((3, 5)), {"W1": np.ones((1, 3)), "b1": np.zeros((1, 1))})
    with pytest.raises(ValueError, match=re.escape("Y is (5, 1) but A[L] is (1, 5)")):
        functional.L_model_backward(AL, np.ones((5, 1)), caches)
    with pytest.raises(ValueError, match=re.escape("Y is (1, 4) but A[L] is (1, 5)")):
        functional.compute_cost(AL, np.ones((1, 4)))


@pytest.mark.parametrize(
    ("call", "kind"),
    [
        (
            lambda: functional.linear_activation_forward(
                np.ones((2, 1)), np.ones((1, 2)), np.zeros((1, 1)), "swish"
            ),
            "activation",
        ),
        (lambda: functional.compute_cost(np.full((1, 2), 0.5), np.ones((1, 2)), "hinge"), "loss"),
        (lambda: deepmat.activations.get_activation(None), "activation"),
    ],
)
def test_functional_unknown_names_list_the_choices(call, kind):
    with pytest.raises(ValueError, match=rf"unknown {kind} .*; expected one of: '"):
        call()


# -- Network construction -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        (
            {"hidden_activation": "swish"},
            r"unknown activation 'swish'; expected one of: 'identity', 'leaky_relu', 'relu', 'sigmoid', 'softmax', 'tanh'",
        ),
        ({"hidden_activation": "softmax"}, r"hidden_activation='softmax' is not supported.*expected one of"),
        (
            {"output_activation": "tanh"},
            r"unknown output activation 'tanh'; expected one of: 'identity', 'sigmoid', 'softmax'",
        ),
        (
            {"loss": "hinge"},
            r"unknown loss 'hinge'; expected one of: 'binary_cross_entropy', 'cross_entropy', 'mse'",
        ),
        (
            {"init": "glorot"},
            r"unknown initialiser 'glorot'; expected one of: 'he', 'scaled', 'small', 'xavier', 'zeros'",
        ),
        ({"dtype": "float16"}, r"unknown dtype 'float16'; expected one of: 'float32', 'float64'"),
        ({"dtype": "int64"}, r"unknown dtype 'int64'; expected one of: 'float32', 'float64'"),
        ({"dtype": "banana"}, r"unknown dtype 'banana'; expected one of: 'float32', 'float64'"),
    ],
)
def test_unknown_names_list_the_valid_choices(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        deepmat.Network([3, 4, 1], **kwargs)


@pytest.mark.parametrize(
    ("layer_dims", "error", "pattern"),
    [
        (
            [5],
            ValueError,
            r"layer_dims needs at least an input and an output size \[n\[0\], n\[1\]\]; received \[5\]",
        ),
        ([], ValueError, r"layer_dims needs at least .*; received \[\]"),
        ([5, 0, 1], ValueError, r"layer_dims\[1\] \(n\[1\]\) must be positive; received 0"),
        ([5, 3, -2], ValueError, r"layer_dims\[2\] \(n\[2\]\) must be positive; received -2"),
        ([5, 3.0, 1], TypeError, r"layer_dims\[1\] \(n\[1\]\) must be an integer; received 3.0"),
        ([5, "3", 1], TypeError, r"layer_dims\[1\] \(n\[1\]\) must be an integer; received '3'"),
        ([5, True, 1], TypeError, r"layer_dims\[1\] \(n\[1\]\) must be an integer; received True"),
        (7, TypeError, r"layer_dims must be a list of integers \[n\[0\], …, n\[L\]\]; received 7"),
    ],
)
def test_bad_layer_dims(layer_dims, error, pattern):
    with pytest.raises(error, match=pattern):
        deepmat.Network(layer_dims)


def test_numpy_integer_layer_dims_are_accepted():
    net = deepmat.Network(np.array([3, 4, 1]))
    assert net.layer_dims == [3, 4, 1]
    assert all(type(n) is int for n in net.layer_dims)


def test_softmax_output_needs_two_units():
    with pytest.raises(ValueError, match=r"a softmax output needs n\[L\] ≥ 2 classes; received n\[L\] = 1"):
        deepmat.Network([3, 4, 1], output_activation="softmax")


@pytest.mark.parametrize("loss", ["cross_entropy", "binary_cross_entropy"])
def test_probability_loss_with_identity_output(loss):
    with pytest.raises(
        ValueError, match=rf"loss '{loss}' needs probabilities in \(0, 1\); output_activation 'identity'"
    ):
        deepmat.Network([3, 4, 1], output_activation="identity", loss=loss)


# -- bad X and y at every entry point -----------------------------------------------------

NET_KW = {"layer_dims": [3, 4, 1], "hidden_activation": "tanh", "output_activation": "sigmoid"}
GOOD_X = np.random.RandomState(0).randn(5, 3)
GOOD_Y = np.array([0, 1, 1, 0, 1])


def call_entry_point(name, X, y=GOOD_Y):
    net = deepmat.Network(**NET_KW)
    if name == "forward":
        return net.forward(X)
    if name == "predict":
        return net.predict(X)
    if name == "predict_proba":
        return net.predict_proba(X)
    if name == "cost":
        return net.cost(X, y)
    if name == "gradients":
        return net.gradients(X, y)
    if name == "score":
        return net.score(X, y)
    if name == "fit":
        return net.fit(X, y, learning_rate=0.1, iterations=2, print_every=None)
    if name == "gradcheck":
        return deepmat.gradcheck(net, X, y)
    raise AssertionError(name)


X_ENTRY_POINTS = ["forward", "predict", "predict_proba", "cost", "gradients", "score", "fit", "gradcheck"]
Y_ENTRY_POINTS = ["cost", "gradients", "score", "fit", "gradcheck"]


def _with(value, index, array=GOOD_X):
    bad = array.astype(float).copy()
    bad[index] = value
    return bad


BAD_X = [
    pytest.param(
        np.ones((5, 4)),
        ValueError,
        r"X has 4 features per sample but the network expects n\[0\] = 3: received shape \(5, 4\)",
        id="wrong-columns",
    ),
    pytest.param(
        np.ones(3),
        ValueError,
        r"X must be 2-D \(n_samples, n_features\); received 1-D array of shape \(3,\)",
        id="1-D",
    ),
    pytest.param(
        np.ones((2, 5, 3)), ValueError, r"X must be 2-D .*received 3-D array of shape \(2, 5, 3\)", id="3-D"
    ),
    pytest.param(
        np.ones((0, 3)),
        ValueError,
        r"X is empty: received shape \(0, 3\), expected at least 1 sample",
        id="empty",
    ),
    pytest.param(
        _with(np.nan, (1, 2)), ValueError, r"X must be finite; received nan at index \(1, 2\)", id="nan"
    ),
    pytest.param(
        _with(np.inf, (4, 0)), ValueError, r"X must be finite; received inf at index \(4, 0\)", id="inf"
    ),
    pytest.param(
        GOOD_X.astype(object),
        TypeError,
        r"X must hold real numbers \(float, int or bool\); received dtype object",
        id="object",
    ),
    pytest.param(
        np.full((5, 3), "1.0"), TypeError, r"X must hold real numbers .*received dtype <U3", id="string"
    ),
    pytest.param(
        GOOD_X + 1j, TypeError, r"X must hold real numbers .*received dtype complex128", id="complex"
    ),
]


@pytest.mark.parametrize("entry_point", X_ENTRY_POINTS)
@pytest.mark.parametrize(("X", "error", "pattern"), BAD_X)
def test_bad_X(entry_point, X, error, pattern):
    with pytest.raises(error, match=pattern):
        call_entry_point(entry_point, X)


@pytest.mark.parametrize("entry_point", ["forward", "cost", "fit"])
def test_X_too_large_for_float32_names_the_value_not_inf(entry_point):
    # 1e300 is finite in float64 but overflows float32: the message reports what the user
    # passed (not the inf the cast would make), and no RuntimeWarning escapes on the way
    net = deepmat.Network([3, 4, 1], dtype="float32")
    X = _with(1e300, (0, 1))
    with pytest.raises(ValueError, match=r"X does not fit in float32: received 1e\+300 at index \(0, 1\)"):
        if entry_point == "fit":
            net.fit(X, GOOD_Y, learning_rate=0.1, iterations=1, print_every=None)
        else:
            getattr(net, entry_point)(X, *([GOOD_Y] if entry_point == "cost" else []))


def test_int_and_bool_X_are_accepted():
    net = deepmat.Network(**NET_KW)
    ints = np.arange(15).reshape(5, 3)
    np.testing.assert_array_equal(net.forward(ints), net.forward(ints.astype(float)))
    assert net.forward(ints % 2 == 0).shape == (5, 1)


BAD_Y = [
    pytest.param(
        np.array([0, 1, 1, 0]),
        ValueError,
        r"y must be \(n_samples,\) or \(n_samples, 1\) with n_samples = 5, the number of rows of X; received shape \(4,\)",
        id="length",
    ),
    pytest.param(
        np.zeros((5, 2)),
        ValueError,
        r"y is \(5, 2\) but the output layer has n\[L\] = 1 units; expected \(5, 1\)",
        id="2-D-wrong-columns",
    ),
    pytest.param(
        np.zeros((5, 1, 1)), ValueError, r"y must be \(n_samples,\) or .*received shape \(5, 1, 1\)", id="3-D"
    ),
    pytest.param(
        _with(np.nan, 2, GOOD_Y), ValueError, r"y must be finite; received nan at index \(2,\)", id="nan"
    ),
    pytest.param(
        _with(-np.inf, 0, GOOD_Y), ValueError, r"y must be finite; received -inf at index \(0,\)", id="inf"
    ),
    pytest.param(
        np.array([0, 1, 2, 0, 1]),
        ValueError,
        r"a sigmoid output is trained on targets in \[0, 1\]; received values from 0.0 to 2.0",
        id="sigmoid-target-above-1",
    ),
    pytest.param(
        np.array([0, 1, -0.5, 0, 1]),
        ValueError,
        r"targets in \[0, 1\]; received values from -0.5 to 1.0",
        id="sigmoid-target-below-0",
    ),
    pytest.param(
        GOOD_Y.astype(str),
        TypeError,
        r"y must hold real numbers \(labels or targets\); received dtype <U",
        id="string",
    ),
    pytest.param(
        GOOD_Y.astype(object), TypeError, r"y must hold real numbers .*received dtype object", id="object"
    ),
    pytest.param(
        GOOD_Y + 0j, TypeError, r"y must hold real numbers .*received dtype complex128", id="complex"
    ),
]


@pytest.mark.parametrize("entry_point", Y_ENTRY_POINTS)
@pytest.mark.parametrize(("y", "error", "pattern"), BAD_Y)
def test_bad_y(entry_point, y, error, pattern):
    with pytest.raises(error, match=pattern):
        call_entry_point(entry_point, GOOD_X, y)


@pytest.mark.parametrize(
    ("labels", "pattern"),
    [
        (
            np.array([0, 1, 3, 2, 1]),
            r"class labels must be integers from 0 to 2 \(n\[L\] = 3\); received values from 0 to 3",
        ),
        (
            np.array([0, -1, 2, 2, 1]),
            r"class labels must be integers from 0 to 2 .*received values from -1 to 2",
        ),
        (
            np.array([0, 1.5, 2, 2, 1]),
            r"class labels must be integers from 0 to 2 .*received values from 0.0 to 2.0",
        ),
    ],
    ids=["too-large", "negative", "non-integer"],
)
@pytest.mark.parametrize("entry_point", ["cost", "gradients", "fit", "score"])
def test_softmax_labels(labels, pattern, entry_point):
    net = deepmat.Network([3, 4, 3], output_activation="softmax")
    with pytest.raises(ValueError, match=pattern):
        if entry_point == "fit":
            net.fit(GOOD_X, labels, learning_rate=0.1, iterations=1, print_every=None)
        else:
            getattr(net, entry_point)(GOOD_X, labels)


def test_softmax_integer_valued_float_labels_are_accepted():
    net = deepmat.Network([3, 4, 3], output_activation="softmax")
    labels = np.array([0, 1, 2, 2, 1])
    assert net.cost(GOOD_X, labels.astype(float)) == net.cost(GOOD_X, labels)


def test_1d_y_for_several_non_softmax_outputs():
    net = deepmat.Network([3, 4, 2], output_activation="identity")
    with pytest.raises(
        ValueError, match=r"y is 1-D \(5,\) but the output layer has n\[L\] = 2 units and is not a softmax"
    ):
        net.cost(GOOD_X, np.zeros(5))


# -- fit arguments ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        (
            {"learning_rate": -0.1},
            ValueError,
            r"learning_rate must be a positive finite number; received -0.1",
        ),
        ({"learning_rate": 0}, ValueError, r"learning_rate must be a positive finite number; received 0"),
        (
            {"learning_rate": np.inf},
            ValueError,
            r"learning_rate must be a positive finite number; received inf",
        ),
        (
            {"learning_rate": np.nan},
            ValueError,
            r"learning_rate must be a positive finite number; received nan",
        ),
        (
            {"learning_rate": "0.1"},
            TypeError,
            r"learning_rate must be a positive number; received '0.1' \(str\)",
        ),
        ({"iterations": 0}, ValueError, r"iterations must be a positive integer; received 0"),
        ({"iterations": -5}, ValueError, r"iterations must be a positive integer; received -5"),
        ({"iterations": 2.5}, TypeError, r"iterations must be a positive integer; received 2.5 \(float\)"),
        ({"iterations": True}, TypeError, r"iterations must be a positive integer; received True \(bool\)"),
        ({"print_every": -1}, ValueError, r"print_every must be an integer ≥ 0; received -1"),
        (
            {"print_every": 1.5},
            ValueError,
            r"print_every must be an integer ≥ 0; received 1.5",
        ),
    ],
)
def test_bad_fit_arguments(kwargs, error, pattern):
    net = deepmat.Network(**NET_KW)
    before = {k: v.copy() for k, v in net.params.items()}
    with pytest.raises(error, match=pattern):
        net.fit(GOOD_X, GOOD_Y, **{"learning_rate": 0.1, "iterations": 3, "print_every": None, **kwargs})
    for k, v in net.params.items():  # nothing was trained
        np.testing.assert_array_equal(v, before[k])


def test_predict_proba_on_a_regressor_is_a_type_error():
    net = deepmat.Network([3, 4, 1], output_activation="identity")
    with pytest.raises(
        TypeError,
        match=r"predict_proba needs a sigmoid or softmax output.*'identity' \(a regressor\): use predict",
    ):
        net.predict_proba(GOOD_X)


def test_params_assignment_is_checked():
    net = deepmat.Network([3, 4, 1])
    good = {k: v.copy() for k, v in net.params.items()}
    with pytest.raises(ValueError, match=r"W1 must be \(4, 3\); received \(3, 4\)"):
        net.params = {**good, "W1": np.ones((3, 4))}
    with pytest.raises(ValueError, match=r"params must have exactly the keys \['W1', 'W2', 'b1', 'b2'\]"):
        net.params = {"W1": good["W1"]}
    with pytest.raises(ValueError, match=r"b2 must be finite; received nan"):
        net.params = {**good, "b2": np.array([[np.nan]])}


# -- divergence ---------------------------------------------------------------------------


# The overflow on the way to an infinite cost also emits NumPy RuntimeWarnings (matmul,
# multiply), which this project's pytest configuration turns into errors; they are not
# what this test is about.
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_absurd_learning_rate_raises_training_diverged():
    rng = np.random.RandomState(0)
    X = rng.randn(20, 3)
    y = X @ np.array([1.0, 2.0, -1.0])
    net = deepmat.Network([3, 4, 1], "relu", "identity")
    before = {k: v.copy() for k, v in net.params.items()}
    with pytest.raises(deepmat.TrainingDiverged, match=r"at iteration \d+ .*smaller learning rate") as e:
        net.fit(X, y, learning_rate=1e6, iterations=100, print_every=None)
    assert isinstance(e.value, FloatingPointError)
    assert "learning_rate=1000000.0" in str(e.value)
    iteration = int(re.search(r"at iteration (\d+)", str(e.value)).group(1))
    assert 0 < iteration < 100
    # the parameters are finite again (restored), not the diverged ones
    assert all(np.isfinite(v).all() for v in net.params.values())
    for k, v in net.params.items():
        np.testing.assert_array_equal(v, before[k])
