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
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
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


# -- reliability round 2 (issue 13): situations, each set up for real -------------------------------
#
# Each scenario builds its situation in a folder of its own and returns what deepmat said: for the
# command line (exit status, the stderr lines), for Python the exception. The table of
# docs/BAD_INPUT.md lists each by its id.

import errno  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402

import safetensors.numpy  # noqa: E402

from deepmat import BatchNorm, Dense, Dropout, TrainingDiverged  # noqa: E402
from deepmat.cli.runs import RunFolder  # noqa: E402

TRAIN = ["train", "--data", "digits", "--epochs", "1", "--verbose", "0", "--schedule", "none"]


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory) -> Path:
    """A finished 1-epoch digits run folder (copied by the scenarios that change it)."""
    run = tmp_path_factory.mktemp("scenarios") / "run"
    assert main([*TRAIN, "--out", str(run)]) == 0
    return run


def cli(args: list[str], capsys) -> tuple[int, list[str]]:
    capsys.readouterr()
    status = main([str(a) for a in args])
    return status, capsys.readouterr().err.strip().splitlines()


def copy_run(run: Path, where: Path) -> Path:
    target = where / "run"
    shutil.copytree(run, target)
    return target


def rewrite_checkpoint(path: Path, change) -> None:
    """Edit a checkpoint's training state and arrays as a hostile or careless hand would."""
    with safetensors.safe_open(path, framework="numpy") as f:
        metadata = dict(f.metadata())
        arrays = {k: f.get_tensor(k) for k in f.keys()}
    training = json.loads(metadata["training"])
    change(training, arrays)
    metadata["training"] = json.dumps(training)
    safetensors.numpy.save_file(arrays, str(path), metadata=metadata)


def fashion_net() -> Network:
    return Network(layers=[Dense(8, "relu"), Dropout(0.1), Dense(3, "softmax")], input_dim=4, seed=0)


def python_checkpoint(tmp: Path, **kwargs) -> Path:
    path = tmp / "ckpt.safetensors"
    fashion_net().fit(
        X,
        y,
        epochs=2,
        batch_size=4,
        optimizer="adam",
        learning_rate=0.01,
        verbose=0,
        checkpoint=path,
        **kwargs,
    )
    return path


def overflowing_net() -> Network:
    """Finite parameters, finite inputs, but W·A overflows float64."""
    net = Network([4, 3, 2], "identity", "softmax")
    net.params["W1"] = np.full((3, 4), 100.0)
    return net


def locked_folder(tmp, run, capsys):
    folder = copy_run(run, tmp)
    with RunFolder(folder).lock():  # another training owns it
        return cli([*TRAIN, "--out", folder, "--overwrite"], capsys)


def resume_edited_config(tmp, run, capsys):
    folder = copy_run(run, tmp)
    elsewhere = tmp / "elsewhere"
    config = json.loads((folder / "config.json").read_text())
    config["output"]["dir"] = str(elsewhere)  # an edited or moved run
    (folder / "config.json").write_text(json.dumps(config))
    status, err = cli(["train", "--resume", folder / "checkpoint.safetensors", "--epochs", "2"], capsys)
    assert not elsewhere.exists()
    assert json.loads((folder / "metrics.json").read_text())["epochs"] == 2
    return status, err


def moved_run(tmp, run, capsys):
    folder = copy_run(run, tmp)
    moved = tmp / "moved"
    folder.rename(moved)
    status, err = cli(["train", "--resume", moved / "checkpoint.safetensors", "--epochs", "2"], capsys)
    assert not folder.exists() and json.loads((moved / "metrics.json").read_text())["epochs"] == 2
    return status, err


def overwrite_keeps_other_files(tmp, run, capsys):
    folder = copy_run(run, tmp)
    (folder / "notes.txt").write_text("mine")
    (folder / "history.csv").write_text("old")
    status, err = cli([*TRAIN, "--out", folder, "--overwrite"], capsys)
    assert (folder / "notes.txt").read_text() == "mine" and (folder / "history.csv").read_text() != "old"
    return status, err


def hostile_checkpoint(change):
    def scenario(tmp, run, capsys):
        folder = copy_run(run, tmp)
        rewrite_checkpoint(folder / "checkpoint.safetensors", change)
        before = (folder / "model.safetensors").read_bytes()
        status, err = cli(["train", "--resume", folder / "checkpoint.safetensors", "--epochs", "2"], capsys)
        assert (folder / "model.safetensors").read_bytes() == before  # nothing the run had is lost
        return status, err

    return scenario


def stretch_an_optimizer_array(training, arrays):
    key = next(k for k in arrays if k.startswith("optimizer.m."))
    arrays[key] = arrays[key].reshape(-1)[:1].copy()  # would broadcast into the whole parameter


def plain_model_as_checkpoint(tmp, run, capsys):
    folder = copy_run(run, tmp)
    shutil.copy(folder / "model.safetensors", folder / "checkpoint.safetensors")
    return cli(["train", "--resume", folder / "checkpoint.safetensors", "--epochs", "2"], capsys)


def failing_environment(error_number: int):
    def scenario(tmp, run, capsys, monkeypatch):
        def fail(*args, **kwargs):
            raise OSError(error_number, os.strerror(error_number))

        monkeypatch.setattr(deepmat.io.os, "fsync", fail)  # the first write of the run folder fails
        return cli([*TRAIN, "--out", tmp / "run"], capsys)

    return scenario


def huge_weights_model(tmp, run, capsys):
    net = deepmat.load(run / "model.safetensors")
    net.params["W1"] = np.full_like(net.params["W1"], 1e38)  # finite, but the products overflow float32
    net.save(tmp / "huge.safetensors")
    np.savetxt(tmp / "rows.csv", np.ones((2, 64)), delimiter=",")
    return cli(["predict", tmp / "huge.safetensors", tmp / "rows.csv"], capsys)


def negative_variance(tmp, run, capsys):
    net = Network(layers=[Dense(3, "identity"), BatchNorm(), Dense(2, "softmax")], input_dim=4)
    net.save(tmp / "bn.safetensors")
    with safetensors.safe_open(tmp / "bn.safetensors", framework="numpy") as f:
        metadata, arrays = f.metadata(), {k: f.get_tensor(k) for k in f.keys()}
    arrays["1.running_var"][1] = -0.5
    safetensors.numpy.save_file(arrays, str(tmp / "bn.safetensors"), metadata=metadata)
    return cli(["summary", tmp / "bn.safetensors"], capsys)


SCENARIOS_CLI = {
    "cli-run-folder-in-use": (locked_folder, r"the run folder '.*run' is in use by another training \(process \d+\)"),
    "cli-train-into-an-old-run": (lambda tmp, run, capsys: cli([*TRAIN, "--out", copy_run(run, tmp)], capsys), r"holds a run already \(model.safetensors, config.json.*\); give --overwrite"),
    "cli-out-is-a-file": (lambda tmp, run, capsys: (tmp / "f").write_text("x") and cli([*TRAIN, "--out", tmp / "f"], capsys), r"--out '.*f' is a file; expected a run folder"),
    "cli-resume-into-another-out": (lambda tmp, run, capsys: cli(["train", "--resume", copy_run(run, tmp) / "checkpoint.safetensors", "--out", tmp / "x"], capsys), r"differs from the checkpoint's folder .*: a resumed run writes beside its checkpoint"),
    "cli-resume-changes-a-setting": (lambda tmp, run, capsys: cli(["train", "--resume", copy_run(run, tmp) / "checkpoint.safetensors", "--learning-rate", "0.5"], capsys), r"--learning-rate 0.5 differs from the run's 0.001 .*only --epochs, --iterations and --verbose may change"),
    "cli-resume-with-a-config-file": (lambda tmp, run, capsys: cli(["train", "x.toml", "--resume", copy_run(run, tmp) / "checkpoint.safetensors"], capsys), r"--resume continues a run with its own config.json; give no CONFIG.toml"),
    "cli-resume-a-plain-model-file": (plain_model_as_checkpoint, r"checkpoint.safetensors' is a model file, not a checkpoint"),
    "cli-checkpoint-optimizer-array-of-another-shape": (hostile_checkpoint(stretch_an_optimizer_array), r"array 'optimizer.m.W\d' is \(1,\) float32; the parameter W\d is \(\d+, \d+\)"),
    "cli-checkpoint-bad-generator-state": (hostile_checkpoint(lambda t, a: t.update(shuffle_rng_state={"bit_generator": "PCG64", "state": "x"})), r"'shuffle_rng_state' is not the state of a NumPy PCG64 generator"),
    "cli-checkpoint-negative-epoch": (hostile_checkpoint(lambda t, a: t.update(epoch=-3)), r"'epoch' must be an integer ≥ 0; found -3"),
    "cli-checkpoint-unknown-optimizer": (hostile_checkpoint(lambda t, a: t["optimizer"].update(name="adamax")), r"'optimizer' must name one of \[.*\]; found 'adamax'"),
    "cli-huge-layers-train": (lambda tmp, run, capsys: cli(["train", "--data", "digits", "--layers", "64,10000000000,10", "--out", tmp / "big"], capsys), r"the network needs 5.46 TiB for its 750,000,000,010 parameters and their gradients alone \(float32\); this machine has .* available"),
    "cli-huge-layers-summary": (lambda tmp, run, capsys: (tmp / "big.toml").write_text("[model]\nlayers = [64, 10000000000, 10]\n") and cli(["summary", tmp / "big.toml"], capsys), r"the network needs .* TiB for its"),
    "cli-huge-layers-gradcheck": (lambda tmp, run, capsys: (tmp / "big.toml").write_text("[model]\nlayers = [64, 10000000000, 10]\n") and cli(["gradcheck", tmp / "big.toml"], capsys), r"the network needs .* TiB for its"),
    "cli-predict-outputs-overflow": (huge_weights_model, r"the network's outputs are not finite for 2 of 2 samples .*no answer is given"),
    "cli-negative-variance-in-a-model-file": (negative_variance, r"running_var1 must be ≥ 0 \(a variance\); received -0.5 at index \(1, 0\)"),
    "cli-onnx-opset-too-new": (lambda tmp, run, capsys: cli(["export", run / "model.safetensors", "-o", tmp / "m.onnx", "--opset", "99"], capsys), r"opset must be from 13 to \d+ \(the newest onnx .* knows\); received 99"),
    "cli-explain-values-sample-out-of-range": (lambda tmp, run, capsys: cli(["explain", run, "--values", "--sample", "5000"], capsys), r"--sample 5000: the test split of digits has 359 samples, 0 to 358"),
    "cli-explain-values-of-an-untrained-config": (lambda tmp, run, capsys: cli(["explain", EXAMPLES / "cat.toml", "--values"], capsys), r"--values needs a trained MODEL \(a model file or a run folder\); received '.*cat.toml'"),
    "cli-explain-values-label-for-a-data-sample": (lambda tmp, run, capsys: cli(["explain", run, "--values", "--label", "3"], capsys), r"--label goes with --input; a sample of a data set has its own label"),
}  # fmt: skip

SCENARIOS_CLI_OK = {
    "resume-ignores-an-edited-config-json": resume_edited_config,
    "resume-a-moved-run-in-place": moved_run,
    "overwrite-replaces-only-the-run-files": overwrite_keeps_other_files,
}

SCENARIOS_ENVIRONMENT = {
    "cli-disk-full": (
        failing_environment(errno.ENOSPC),
        r"'.*config.json': No space left on device \(ENOSPC\)",
    ),
    "cli-read-only-file-system": (
        failing_environment(errno.EROFS),
        r"'.*config.json': Read-only file system \(EROFS\)",
    ),
}

SCENARIOS_API: dict[str, tuple[Callable[[Path], object], type, str]] = {
    "huge-network": (lambda tmp: Network([64, 10**10, 10]), ValueError, r"the network needs 10.9 TiB for its 750,000,000,010 parameters and their gradients alone \(float64\)"),
    "resume-with-another-learning-rate": (lambda tmp: fashion_net().fit(X, y, epochs=3, batch_size=4, optimizer="adam", learning_rate=0.5, verbose=0, resume_from=python_checkpoint(tmp)), ValueError, r"its optimiser began with learning_rate=0.01 and this fit asks for learning_rate=0.5"),
    "resume-with-another-batch-size": (lambda tmp: fashion_net().fit(X, y, epochs=3, batch_size=5, optimizer="adam", verbose=0, resume_from=python_checkpoint(tmp)), ValueError, r"it was trained with batch_size=4 and this fit has batch_size=5"),
    "resume-with-other-data": (lambda tmp: fashion_net().fit(X[:8], y[:8], epochs=3, batch_size=4, optimizer="adam", verbose=0, resume_from=python_checkpoint(tmp)), ValueError, r"it was trained with samples=10 and this fit has samples=8"),
    "last-step-diverges": (lambda tmp: net(dtype="float32").fit(X, y, epochs=1, optimizer="adam", learning_rate=1e39, verbose=0), TrainingDiverged, r"the parameters became NaN/inf at epoch 0 .*restored to those at the start of epoch 0"),
    "predict-outputs-overflow": (lambda tmp: overflowing_net().predict(np.full((1, 4), 1e307)), ValueError, r"the network's outputs are not finite for 1 of 1 samples"),
    "batch-norm-batches-of-one": (lambda tmp: Network([4, 5, 3], "relu", "softmax", batch_norm=True).fit(X, y, epochs=1, batch_size=1, verbose=0), ValueError, r"batch normalisation needs batches of at least 2 samples; received batch_size=1"),
}  # fmt: skip


@pytest.mark.parametrize("case", SCENARIOS_CLI)
def test_scenario_is_one_line_exit_2(case, digits_run, tmp_path, capsys):
    scenario, message = SCENARIOS_CLI[case]
    status, err = scenario(tmp_path, digits_run, capsys)
    assert status == 2 and len(err) == 1 and err[0].startswith("deepmat: error: "), err
    assert re.search(message, err[0]), err[0]
    assert "Traceback" not in err[0] and "nan" not in err[0].lower().split("error: ", 1)[1][:3]


@pytest.mark.parametrize("case", SCENARIOS_CLI_OK)
def test_scenario_succeeds_where_it_should(case, digits_run, tmp_path, capsys):
    status, err = SCENARIOS_CLI_OK[case](tmp_path, digits_run, capsys)
    assert status == 0, err


@pytest.mark.parametrize("case", SCENARIOS_ENVIRONMENT)
def test_environment_failure_is_one_line_exit_1(case, digits_run, tmp_path, capsys, monkeypatch):
    scenario, message = SCENARIOS_ENVIRONMENT[case]
    status, err = scenario(tmp_path, digits_run, capsys, monkeypatch)
    assert status == 1 and len(err) == 1 and re.search(message, err[0]), err


@pytest.mark.parametrize("case", SCENARIOS_API)
def test_scenario_python(case, tmp_path):
    call, error, message = SCENARIOS_API[case]
    with pytest.raises(error, match=message):
        call(tmp_path)


def test_every_scenario_is_in_the_documentation():
    text = DOC.read_text(encoding="utf-8")
    cases = (*SCENARIOS_CLI, *SCENARIOS_CLI_OK, *SCENARIOS_ENVIRONMENT, *SCENARIOS_API)
    missing = [case for case in cases if f"`{case}`" not in text]
    assert not missing, f"docs/BAD_INPUT.md does not list {missing}"


# -- your own data (issue 14): tables, preprocessing, weights ------------------------------------

import pandas as pd  # noqa: E402


def table_file(tmp: Path, change) -> Path:
    """A small table of 3 features (one text) and a target, changed as the case needs."""
    local = np.random.default_rng(0)
    frame_ = pd.DataFrame(
        {
            "a": local.random(40),
            "colour": local.choice(["red", "blue"], 40),
            "b": local.random(40),
            "kind": ["x", "y"] * 20,
        }
    )
    path = tmp / "t.csv"
    written = change(frame_, path)
    return written if written is not None else path


OWN_DATA_CLI = {
    "cli-table-unknown-target": (lambda f, p: f.to_csv(p, index=False), ["--target", "species"], r"t.csv' has no column 'species' to predict; its columns are \['a', 'colour', 'b', 'kind'\]"),
    "cli-table-without-target": (lambda f, p: f.to_csv(p, index=False), [], r"is a table: name the column to predict with --target NAME"),
    "cli-table-missing-value": (lambda f, p: f.assign(a=[np.nan, *list(f.a[1:])]).to_csv(p, index=False), ["--target", "kind"], r"t.csv', line 2, column 'a': missing value; give --impute mean\|median\|most-frequent"),
    "cli-table-all-missing-column": (lambda f, p: f.assign(b=np.nan).to_csv(p, index=False), ["--target", "kind", "--impute", "mean"], r"column 'b' has no value at all; drop it or fill it"),
    "cli-table-million-categories": (lambda f, p: pd.DataFrame({"id": [f"u{i}" for i in range(1_000_000)], "kind": ["x", "y"] * 500_000}).to_csv(p, index=False), ["--target", "kind"], r"column 'id' has 800,000 different values; one-hot encoding takes at most 10,000"),
    "cli-parquet-nested-column": (lambda f, p: pd.DataFrame({"a": [[1, 2], [3]] * 10, "kind": ["x", "y"] * 10}).to_parquet(p.with_suffix(".parquet")) or p.with_suffix(".parquet"), ["--target", "kind"], r"column 'a' holds nested values \(lists, structs or maps\); expected one number or text per cell"),
    "cli-table-target-is-a-number-per-row": (lambda f, p: f.assign(kind=np.arange(40)).to_csv(p, index=False), ["--target", "kind"], r"the target 'kind' has 40 different values in 40 rows"),
    "cli-unknown-imputation": (lambda f, p: f.to_csv(p, index=False), ["--target", "kind", "--impute", "zero"], r"argument --impute: unknown imputation 'zero'; valid choices: mean, median, most-frequent"),
}  # fmt: skip

OWN_DATA_API = {
    "sample-weight-negative": (lambda: net().fit(X, y, epochs=1, verbose=0, sample_weight=-np.ones(10)), ValueError, r"sample_weight must be ≥ 0; received -1.0 for sample 0"),
    "sample-weight-nan": (lambda: net().fit(X, y, epochs=1, verbose=0, sample_weight=np.full(10, np.nan)), ValueError, r"sample_weight must be finite; received nan at index \(0,\)"),
    "sample-weight-wrong-length": (lambda: net().fit(X, y, epochs=1, verbose=0, sample_weight=np.ones(7)), ValueError, r"sample_weight must be \(10,\), one weight per sample of X; received shape \(7,\)"),
    "class-weight-unknown-class": (lambda: net().fit(X, y, epochs=1, verbose=0, class_weight={7: 2.0}), ValueError, r"class_weight names class 7; the classes are 0..2"),
    "preprocessing-missing-value": (lambda: Network([2, 3, 2], preprocessor=deepmat.preprocessor.Preprocessor()).fit(np.array([[1.0, np.nan], [2.0, 3.0]]), [0, 1], epochs=1, verbose=0), ValueError, r"column 'x1' has a missing value in row 0; give impute= \(--impute\)"),
    "preprocessing-too-many-columns": (lambda: Network([2, 3, 2], preprocessor=deepmat.preprocessor.Preprocessor()).fit(rng.random((4, 3)), [0, 1, 0, 1], epochs=1, verbose=0), ValueError, r"the preprocessor gives 3 features but the network takes n\[0\] = 2"),
}  # fmt: skip


@pytest.mark.parametrize("case", OWN_DATA_CLI)
def test_own_data_command_line(case, tmp_path, capsys):
    change, flags, message = OWN_DATA_CLI[case]
    path = table_file(tmp_path, change)
    status, err = cli(["train", "--data", path, *flags, "--out", tmp_path / "run"], capsys)
    assert status == 2 and len(err) == 1 and re.search(message, err[0]), err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("case", OWN_DATA_API)
def test_own_data_python(case):
    call, error, message = OWN_DATA_API[case]
    with pytest.raises(error, match=message):
        call()


def test_every_own_data_case_is_in_the_documentation():
    text = DOC.read_text(encoding="utf-8")
    missing = [case for case in (*OWN_DATA_CLI, *OWN_DATA_API) if f"`{case}`" not in text]
    assert not missing, f"docs/BAD_INPUT.md does not list {missing}"
