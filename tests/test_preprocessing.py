"""deepmat.preprocessing: scale, Standardizer, one_hot, train_val_split."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from deepmat.preprocessing import Standardizer, one_hot, scale, train_val_split

# -- scale ----------------------------------------------------------------------------------------


def test_scale_uint8_to_float32() -> None:
    pixels = np.arange(256, dtype=np.uint8).reshape(16, 16)
    X = scale(pixels)
    assert X.dtype == np.float32 and X.shape == (16, 16)
    assert X[0, 0] == 0.0 and X[-1, -1] == 1.0 and X.min() >= 0.0 and X.max() <= 1.0
    np.testing.assert_array_equal(X, (pixels / 255.0).astype(np.float32))
    assert not np.shares_memory(X, pixels)


def test_scale_float64_is_exactly_x_over_factor() -> None:
    pixels = np.arange(256, dtype=np.uint8)
    np.testing.assert_array_equal(scale(pixels, 255, "float64"), pixels / 255.0)
    np.testing.assert_array_equal(scale(np.arange(17), 16, np.float64), np.arange(17) / 16)
    assert scale([[2, 4]], 2.0, "float64").tolist() == [[1.0, 2.0]]  # lists too


def test_scale_uint8_to_float32_writes_only_the_result() -> None:
    pixels = np.random.default_rng(0).integers(0, 256, (2000, 784), dtype=np.uint8)
    tracemalloc.start()
    try:
        X = scale(pixels, 255, "float32")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # no float64 or float32 temporary of the whole array: the result plus NumPy's small buffers
    assert X.nbytes <= peak < X.nbytes * 1.05 + 200_000


@pytest.mark.parametrize("factor", [0, -1, float("inf"), float("nan")])
def test_scale_bad_factor(factor: float) -> None:
    with pytest.raises(ValueError, match="factor must be a positive"):
        scale(np.ones(3), factor)


def test_scale_bad_types() -> None:
    with pytest.raises(TypeError, match="factor must be a positive number"):
        scale(np.ones(3), "255")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown dtype 'int32'"):
        scale(np.ones(3), 255, "int32")
    with pytest.raises(TypeError, match=r"scale expects real numbers.*<U1"):
        scale(np.array(["a"]))


# -- Standardizer ---------------------------------------------------------------------------------


def test_standardizer_zero_mean_unit_std_on_train() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal([5.0, -3.0, 100.0], [2.0, 0.1, 30.0], (500, 3))
    st = Standardizer()
    Z = st.fit_transform(X, dtype="float64")
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), 1, rtol=1e-12)
    np.testing.assert_allclose(st.mean_, X.mean(axis=0))
    np.testing.assert_allclose(st.scale_, X.std(axis=0))
    # new data use the training statistics
    X_new = rng.normal(0, 1, (4, 3))
    np.testing.assert_allclose(st.transform(X_new, "float64"), (X_new - X.mean(0)) / X.std(0))


def test_standardizer_dtypes() -> None:
    X = np.arange(12, dtype=np.float64).reshape(4, 3)
    st = Standardizer().fit(X)
    assert st.transform(X).dtype == np.float32  # the default
    for X_in in (X.astype(np.float32), X.astype(np.int64), X.astype(np.uint8)):
        for dtype in ("float32", "float64"):
            Z = st.transform(X_in, dtype)
            assert Z.dtype == dtype and not np.shares_memory(Z, X_in)
            np.testing.assert_allclose(Z, (X - X.mean(0)) / X.std(0), rtol=1e-6)


@pytest.mark.parametrize("value", [0.0, 0.1, 0.3, 1 / 3, 123.456, 1e10 / 3])
def test_standardizer_constant_feature(value: float) -> None:
    X = np.column_stack([np.full(100, value), np.arange(100.0)])
    st = Standardizer().fit(X)
    assert st.scale_[0] == 1.0  # not a rounding-error σ of 1e-17, which would make ±1s
    Z = st.transform(X, "float64")
    np.testing.assert_allclose(Z[:, 0], 0.0, atol=1e-6)
    assert np.isfinite(Z).all()
    np.testing.assert_allclose(Z[:, 1].std(), 1.0)


def test_standardizer_transform_before_fit() -> None:
    with pytest.raises(ValueError, match=r"transform before fit: call fit\(X_train\) first"):
        Standardizer().transform(np.ones((2, 2)))


def test_standardizer_wrong_columns() -> None:
    st = Standardizer().fit(np.random.default_rng(0).random((5, 3)))
    with pytest.raises(ValueError, match=r"4 features per sample but the Standardizer was fitted on 3"):
        st.transform(np.ones((2, 4)))
    with pytest.raises(ValueError, match="must be 2-D"):
        st.transform(np.ones(3))


def test_standardizer_bad_input() -> None:
    with pytest.raises(ValueError, match="must be finite"):
        Standardizer().fit(np.array([[1.0, np.nan]]))
    with pytest.raises(TypeError, match="real numbers"):
        Standardizer().fit(np.array([["a"]]))
    with pytest.raises(ValueError, match="unknown dtype"):
        Standardizer().fit(np.ones((2, 2))).transform(np.ones((2, 2)), "int8")


# -- one_hot --------------------------------------------------------------------------------------


def test_one_hot_values_and_dtype() -> None:
    Y = one_hot(np.array([2, 0, 1, 2]))
    assert Y.dtype == np.float64 and Y.shape == (4, 3)
    np.testing.assert_array_equal(Y, [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    Y = one_hot(np.array([1], dtype=np.uint8), n_classes=4, dtype="float32")
    assert Y.dtype == np.float32 and Y.tolist() == [[0, 1, 0, 0]]
    assert one_hot(np.array([], dtype=np.int64), n_classes=3).shape == (0, 3)


def test_one_hot_errors() -> None:
    with pytest.raises(ValueError, match=r"labels must be < n_classes = 2; received a label 2"):
        one_hot(np.array([0, 2]), n_classes=2)
    with pytest.raises(ValueError, match="non-negative integer labels"):
        one_hot(np.array([0, -1]))
    with pytest.raises(ValueError, match="non-negative integer labels; received float64"):
        one_hot(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"1-D array .* \(2, 1\)"):
        one_hot(np.array([[0], [1]]))
    with pytest.raises(ValueError, match="n_classes must be a positive integer; received 0"):
        one_hot(np.array([0]), n_classes=0)
    with pytest.raises(TypeError, match=r"n_classes must be a positive integer; received 2\.0"):
        one_hot(np.array([0]), n_classes=2.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="empty label array needs n_classes"):
        one_hot(np.array([], dtype=np.int64))


# -- train_val_split ------------------------------------------------------------------------------


def test_split_sizes_disjoint_and_complete() -> None:
    X = np.arange(200).reshape(100, 2)
    y = np.arange(100)
    X_train, X_val, y_train, y_val = train_val_split(X, y, val_fraction=0.25, seed=0)
    assert X_train.shape == (75, 2) and X_val.shape == (25, 2)
    assert y_train.shape == (75,) and y_val.shape == (25,)
    assert set(y_train.tolist()).isdisjoint(y_val.tolist())
    assert sorted([*y_train.tolist(), *y_val.tolist()]) == list(range(100))
    np.testing.assert_array_equal(X_train[:, 0], 2 * y_train)  # rows stay with their labels
    np.testing.assert_array_equal(X_val[:, 1], 2 * y_val + 1)
    assert not np.array_equal(y_val, np.arange(75, 100))  # shuffled


def test_split_is_reproducible() -> None:
    X, y = np.random.default_rng(1).random((50, 3)), np.arange(50)
    a, b, c = (train_val_split(X, y, 0.2, seed=s) for s in (7, 7, 8))
    for left, right in zip(a, b, strict=True):
        np.testing.assert_array_equal(left, right)
    assert not np.array_equal(a[3], c[3])


def test_split_without_shuffle_gives_views() -> None:
    X, y = np.arange(30.0).reshape(10, 3), np.arange(10)
    X_train, X_val, y_train, y_val = train_val_split(X, y, 0.3, shuffle=False)
    assert y_train.tolist() == list(range(7)) and y_val.tolist() == [7, 8, 9]
    for part, whole in ((X_train, X), (X_val, X), (y_train, y), (y_val, y)):
        assert np.shares_memory(part, whole)
    # one-hot targets split along with them
    Y = one_hot(y)
    _, _, Y_train, Y_val = train_val_split(X, Y, 0.3, shuffle=False)
    assert Y_train.shape == (7, 10) and Y_val.shape == (3, 10) and np.shares_memory(Y_val, Y)


def test_split_errors() -> None:
    X, y = np.zeros((10, 2)), np.zeros(10)
    with pytest.raises(ValueError, match="X has 10 samples but y has 9"):
        train_val_split(X, y[:9])
    for fraction in (0, 1, 1.5, -0.2, True, float("nan"), "0.5"):
        with pytest.raises(ValueError, match=r"val_fraction must be a number in \(0, 1\)"):
            train_val_split(X, y, fraction)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"val_fraction=0.01 of 10 samples leaves 0 for validation"):
        train_val_split(X, y, 0.01)
    with pytest.raises(ValueError, match="leaves 1 for validation"):
        train_val_split(X[:1], y[:1], 0.9)
    with pytest.raises(ValueError, match="one sample per row"):
        train_val_split(np.float64(1.0), np.float64(0.0))
