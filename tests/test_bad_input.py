"""Bad input, case by case: the table of docs/BAD_INPUT.md as a test.

Every case gets a ValueError or TypeError (the CLI: one line on stderr, exit status 2) whose
message says what was expected and what was received; nothing is half-written. The last
test checks that the documentation lists every case of this file, by its id.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import deepmat
from deepmat import Network
from deepmat.cli import main
from deepmat.sklearn import DeepmatClassifier

DOC = Path(__file__).resolve().parents[1] / "docs" / "BAD_INPUT.md"
rng = np.random.default_rng(0)
X, y = rng.random((10, 4)), np.arange(10) % 3


def net(**kwargs) -> Network:
    return Network([4, 5, 3], "relu", "softmax", seed=0, **kwargs)


API: dict[str, tuple[Callable[[], object], type, str]] = {
    "nan-in-X": (lambda: net().fit(np.where(X > 0.5, np.nan, X), y, epochs=1), ValueError, r"X must be finite; received nan at index"),
    "inf-in-y": (lambda: Network([4, 5, 1], "relu", "identity").fit(X, np.full(10, np.inf), epochs=1), ValueError, r"y must be finite; received inf"),
    "nan-at-predict": (lambda: net().predict(np.full((2, 4), np.nan)), ValueError, r"X must be finite; received nan at index \(0, 0\)"),
    "too-big-for-float32": (lambda: net(dtype="float32").predict(np.full((2, 4), 1e300)), ValueError, r"X does not fit in float32: received 1e\+300"),
    "X-1-D": (lambda: net().fit(X[:, 0], y, epochs=1), ValueError, r"X must be 2-D \(n_samples, n_features\); received 1-D array of shape \(10,\)"),
    "X-3-D": (lambda: net().predict(X[None]), ValueError, r"received 3-D array of shape \(1, 10, 4\)"),
    "lengths-differ": (lambda: net().fit(X, y[:7], epochs=1), ValueError, r"n_samples = 10, the number of rows of X; received shape \(7,\)"),
    "empty-X": (lambda: net().fit(X[:0], y[:0], epochs=1), ValueError, r"X is empty: received shape \(0, 4\), expected at least 1 sample"),
    "object-dtype": (lambda: net().predict(X.astype(object)), TypeError, r"X must hold real numbers \(float, int or bool\); received dtype object"),
    "string-dtype": (lambda: net().predict(np.array([["a"] * 4])), TypeError, r"received dtype <U1"),
    "complex-dtype": (lambda: net().predict(X.astype(complex)), TypeError, r"received dtype complex128"),
    "string-labels-for-Network": (lambda: net().fit(X, np.array(list("abcabcabca")), epochs=1), TypeError, r"y must hold real numbers .*received dtype <U1"),
    "label-out-of-range": (lambda: net().fit(X, y + 5, epochs=1), ValueError, r"class labels must be integers from 0 to 2 \(n\[L\] = 3\); received values from 5 to 7"),
    "negative-label": (lambda: net().fit(X, y - 1, epochs=1), ValueError, r"received values from -1 to 1"),
    "fractional-label": (lambda: net().fit(X, y + 0.5, epochs=1), ValueError, r"class labels must be integers"),
    "unseen-label-at-score": (lambda: net().score(X, y + 1), ValueError, r"class labels must be integers from 0 to 2 .*received values from 1 to 3"),
    "sigmoid-target-outside-0-1": (lambda: Network([4, 5, 1]).fit(X, y, epochs=1), ValueError, r"a sigmoid output is trained on targets in \[0, 1\]; received values from 0.0 to 2.0"),
    "single-class": (lambda: DeepmatClassifier().fit(X, np.zeros(10)), ValueError, r"needs at least 2 classes to train; y holds 1 class"),
    "unseen-label-at-partial-fit": (lambda: DeepmatClassifier().partial_fit(X, y, classes=[0, 1]), ValueError, r"y holds labels \[np.int64\(2\)\] not in classes"),
    "zero-epochs": (lambda: net().fit(X, y, epochs=0), ValueError, r"epochs must be a positive integer; received 0"),
    "negative-iterations": (lambda: net().fit(X, y, iterations=-3), ValueError, r"iterations must be a positive integer; received -3"),
    "negative-learning-rate": (lambda: net().fit(X, y, epochs=1, learning_rate=-1.0), ValueError, r"learning_rate must be a positive finite number; received -1.0"),
    "zero-batch-size": (lambda: net().fit(X, y, epochs=1, batch_size=0), ValueError, r"batch_size must be a positive integer; received 0"),
    "zero-layer-size": (lambda: Network([4, 0, 3]), ValueError, r"layer_dims\[1\] \(n\[1\]\) must be positive; received 0"),
    "dropout-rate-1": (lambda: Network([4, 5, 3], dropout=1.0), ValueError, r"dropout rate must be a number in \[0, 1\); received 1.0"),
    "validation-split-1.5": (lambda: net().fit(X, y, epochs=1, validation_split=1.5), ValueError, r"validation_split must be a number in \(0, 1\); received 1.5"),
    "unknown-activation": (lambda: Network([4, 5, 3], "gelu"), ValueError, r"unknown activation 'gelu'; expected one of: 'identity', 'leaky_relu', 'relu', 'sigmoid', 'softmax', 'tanh'"),
    "unknown-loss": (lambda: Network([4, 5, 3], loss="hinge"), ValueError, r"unknown loss 'hinge'; expected one of: 'binary_cross_entropy', 'cross_entropy', 'mse'"),
    "unknown-optimizer": (lambda: net().fit(X, y, epochs=1, optimizer="adamax"), ValueError, r"unknown optimizer 'adamax'; expected one of: 'adam', 'adamw', 'momentum', 'nesterov', 'rmsprop', 'sgd'"),
    "unknown-initialiser": (lambda: Network([4, 5, 3], init="orthogonal"), ValueError, r"unknown initialiser 'orthogonal'; expected one of: 'he', 'scaled', 'small', 'xavier', 'zeros'"),
    "unknown-dtype": (lambda: Network([4, 5, 3], dtype="float16"), ValueError, r"unknown dtype 'float16'; expected one of: 'float32', 'float64'"),
    "layer-dims-do-not-match-X": (lambda: net().fit(rng.random((5, 7)), y[:5], epochs=1), ValueError, r"X has 7 features per sample but the network expects n\[0\] = 4"),
    "y-does-not-fit-output-layer": (lambda: Network([4, 5, 2], "relu", "sigmoid").fit(X, np.zeros((10, 3)), epochs=1), ValueError, r"y is \(10, 3\) but the output layer has n\[L\] = 2 units; expected \(10, 2\)"),
}  # fmt: skip


@pytest.mark.parametrize("case", API)
def test_python_api(case):
    call, error, message = API[case]
    with pytest.raises(error, match=message):
        call()


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("bad-input")
    Network([12, 5, 3], "relu", "softmax", seed=0).save(folder / "m.safetensors")
    np.savetxt(folder / "wide.csv", rng.random((3, 7)), delimiter=",")
    np.savez(folder / "nokeys.npz", A=np.ones(3))
    (folder / "badcell.csv").write_text("1,2,3,4,5,6,7,8,9,10,11,12\n1,2,x,4,5,6,7,8,9,10,11,12\n")
    (folder / "empty.safetensors").write_bytes(b"")
    (folder / "junk.safetensors").write_bytes(b"not a model at all")
    (folder / "bad.toml").write_text("[train]\nepochz = 3\n")
    from PIL import Image

    Image.fromarray((rng.random((20, 30, 3)) * 255).astype("uint8")).save(folder / "pic.png")
    return folder


CLI: dict[str, tuple[str, str]] = {
    "cli-zero-epochs": ("train --data digits --epochs 0", r"argument --epochs: expected a positive integer; received 0"),
    "cli-negative-learning-rate": ("train --data digits --learning-rate -1", r"argument --learning-rate: expected a positive number; received '-1'"),
    "cli-zero-batch-size": ("train --data digits --batch-size 0", r"argument --batch-size: expected a positive integer; received 0"),
    "cli-zero-layer-size": ("train --data digits --layers 64,0,10", r"argument --layers: .*received \[64, 0, 10\]"),
    "cli-unknown-optimizer": ("train --data digits --optimizer adamax", r"unknown optimizer 'adamax'; valid choices: sgd, momentum, nesterov, rmsprop, adam, adamw"),
    "cli-unknown-dataset": ("train --data nosuch", r"unknown dataset 'nosuch'; expected one of: 'cat', 'digits', 'fashion-mnist', 'mnist'"),
    "cli-unknown-config-key": ("train {d}/bad.toml", r"unknown key 'epochz' in \[train\]; valid keys: epochs"),
    "cli-wrong-feature-count": ("predict {d}/m.safetensors {d}/wide.csv", r"holds samples of 7 features but the model takes 12"),
    "cli-npz-without-X": ("predict {d}/m.safetensors {d}/nokeys.npz", r"has no array 'X'; .*the archive holds \['A'\]"),
    "cli-csv-cell-not-a-number": ("predict {d}/m.safetensors {d}/badcell.csv", r"badcell\.csv', line 2, column 3: 'x' is not a number; expected numeric cells"),
    "cli-picture-for-a-non-picture-model": ("predict {d}/m.safetensors {d}/pic.png", r"the model takes 12 features, which is no picture size deepmat knows"),
    "cli-empty-model-file": ("predict {d}/empty.safetensors {d}/wide.csv", r"is not a readable deepmat model file"),
    "cli-corrupt-model-file": ("predict {d}/junk.safetensors {d}/wide.csv", r"is not a readable deepmat model file"),
    "cli-missing-model": ("evaluate {d}/missing.safetensors digits", r"does not exist; expected a .safetensors model file or a run folder"),
    "cli-zero-top-k": ("predict {d}/m.safetensors {d}/wide.csv --top-k 0", r"argument --top-k: expected a positive integer; received 0"),
}  # fmt: skip


@pytest.mark.parametrize("case", CLI)
def test_command_line(case, files, capsys):
    args, message = CLI[case]
    before = sorted(p.name for p in files.iterdir())
    status = main(args.format(d=files).split())
    err = capsys.readouterr().err
    assert status == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("deepmat: error: "), err
    assert re.search(message, lines[0]), lines[0]
    assert sorted(p.name for p in files.iterdir()) == before  # nothing written, nothing half-written


def test_at_least_thirty_cases_all_in_the_documentation():
    assert len(API) + len(CLI) >= 30
    text = DOC.read_text(encoding="utf-8")
    missing = [case for case in (*API, *CLI) if f"`{case}`" not in text]
    assert not missing, f"docs/BAD_INPUT.md does not list {missing}"


def test_a_failed_save_keeps_the_old_model(tmp_path):
    """The write half of 'nothing is lost': refusing NaN weights leaves the previous file."""
    model = net()
    model.save(tmp_path / "m.safetensors")
    before = (tmp_path / "m.safetensors").read_bytes()
    model.layers[0].params["W1"][0, 0] = np.nan  # bypasses the checked assignment on purpose
    with pytest.raises(ValueError, match="finite"):
        model.save(tmp_path / "m.safetensors")
    assert (tmp_path / "m.safetensors").read_bytes() == before
    assert deepmat.load(tmp_path / "m.safetensors").layer_dims == [4, 5, 3]
