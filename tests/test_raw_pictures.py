"""Pictures' scaling lives in the model: every picture loader reads the stored levels when asked
(``raw=True``) with the transform that divides them, and that transform gives exactly what the
loader gives scaled; the CLI trains on the raw levels, so a model from ``deepmat train`` reads
pictures as they are stored (the digits' 0..16, bytes 0..255), and a model without preprocessing
still reads the data it was trained on."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import deepmat
from deepmat import data
from deepmat.data.tables import load_split
from test_loaders import FASHION, needs_fashion, write_idx_folder

pytest.importorskip("sklearn")
h5py = pytest.importorskip("h5py")


def split_file(folder: Path, suffix: str) -> Path:
    """An .npz or .h5 split of uint8 8×8 pictures."""
    rng = np.random.default_rng(1)
    arrays = {
        "X_train": rng.integers(0, 256, (12, 8, 8), dtype=np.uint8),
        "y_train": np.arange(12) % 3,
        "X_test": rng.integers(0, 256, (5, 8, 8), dtype=np.uint8),
        "y_test": np.arange(5) % 3,
    }
    path = folder / f"split{suffix}"
    if suffix == ".npz":
        np.savez(path, **arrays)
    else:
        with h5py.File(path, "w") as file:
            for key, value in arrays.items():
                file[key] = value
    return path


LOADERS = {
    "digits": lambda tmp, dtype, raw: data.load_digits(dtype=dtype, raw=raw),
    "cat": lambda tmp, dtype, raw: data.load_dataset("cat", dtype=dtype, raw=raw),
    "fashion-mnist": pytest.param(
        lambda tmp, dtype, raw: data.load_fashion_mnist(FASHION, dtype, raw), marks=needs_fashion
    ),
    "idx folder": lambda tmp, dtype, raw: data.load_idx_folder(write_idx_folder(tmp / "idx"), dtype, raw=raw),
    "npz split": lambda tmp, dtype, raw: load_split(split_file(tmp, ".npz"), dtype, raw=raw),
    "h5 split": lambda tmp, dtype, raw: load_split(split_file(tmp, ".h5"), dtype, raw=raw),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("load", LOADERS.values(), ids=LOADERS.keys())
def test_raw_levels_through_their_transform_are_the_scaled_loader_bit_for_bit(load, dtype, tmp_path):
    scaled = load(tmp_path, dtype, False)
    raw = load(tmp_path, dtype, True)
    assert scaled.preprocessor is None
    pre = raw.preprocessor
    assert pre is not None and pre.scaling == "divide" and pre.divide_by in (16, 255)
    assert raw.X_train.max() > 1  # the stored levels, not [0, 1]
    assert float(raw.X_train.max()) <= pre.divide_by
    pre.fit(raw.X_train)
    for part in ("train", "test"):
        got = pre.transform(getattr(raw, f"X_{part}"), dtype)
        expected = getattr(scaled, f"X_{part}")
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(getattr(raw, f"y_{part}"), getattr(scaled, f"y_{part}"))


def test_a_picture_s_range_is_the_whole_picture_s_not_each_pixel_s():
    """A pixel dark in every training picture may be lit in a new one: no warning for that; a
    picture of levels beyond the training pictures' (0..16 → 0..255) is warned about."""
    pre = data.load_digits(raw=True).preprocessor.fit(data.load_digits(raw=True).X_train)
    lit_corner = np.zeros((1, 64))
    lit_corner[0, 0] = 16  # pixel 0 is 0 in every digit
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pre.transform(lit_corner, "float64")
    with pytest.warns(UserWarning, match="far outside the training range"):
        pre.transform(np.full((1, 64), 255.0), "float64")


def deepmat_cli(*args: object) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "deepmat", *map(str, args)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("raw") / "run"
    deepmat_cli(
        "train",
        "--data",
        "digits",
        "--epochs",
        "10",
        "--layers",
        "48",
        "--learning-rate",
        "0.01",
        "--out",
        run,
    )
    return run


def test_a_trained_model_reads_pictures_at_their_stored_levels(digits_run, tmp_path):
    from sklearn.datasets import load_digits

    net = deepmat.load(digits_run / "model.safetensors")
    assert net.preprocessor is not None and net.preprocessor.divide_by == 16
    levels = load_digits().data[:40]  # 0..16, as scikit-learn gives them
    rows = tmp_path / "levels.csv"
    np.savetxt(rows, levels, delimiter=",", fmt="%g")
    printed = [line.split()[1] for line in deepmat_cli("predict", digits_run, rows).splitlines()]
    # the same parameters fed the rows scaled by hand, as a model without preprocessing takes them
    bare = net.copy()
    bare.preprocessor = None
    expected = bare.predict(levels / 16)
    assert printed == [str(label) for label in expected]
    assert np.mean(expected == load_digits().target[:40]) > 0.9  # and they are the right digits


def test_a_model_without_preprocessing_still_reads_the_data_it_was_trained_on(tmp_path):
    scaled = data.load_digits(dtype="float64")
    net = deepmat.Network([64, 16, 10], seed=0)
    net.fit(scaled.X_train, scaled.y_train, epochs=3, batch_size=64, verbose=0)
    net.save(tmp_path / "old.safetensors")
    report = json.loads(deepmat_cli("evaluate", tmp_path / "old.safetensors", "digits", "--json"))
    assert report["accuracy"] == pytest.approx(float(np.mean(net.predict(scaled.X_test) == scaled.y_test)))
    assert "passed" in deepmat_cli("gradcheck", tmp_path / "old.safetensors", "--data", "digits")
