"""The ``deepmat`` command line, end to end: every subcommand run as ``python -m deepmat ...``
in a subprocess on small data (scikit-learn's digits for two epochs, or NPZ files written here),
its output files and text checked; user errors are one line and exit status 2."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from deepmat import cli
from deepmat.cli.sources import load_data
from deepmat.data import CAT_DIR_ENV, DATASETS, FASHION_MNIST_CLASSES

pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")
Image = pytest.importorskip("PIL.Image")

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
CAT_DIR = Path(os.environ.get(CAT_DIR_ENV) or REPO.parent / "shared" / "data" / "catvnoncat")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
COMMANDS = ("train", "evaluate", "predict", "summary", "explain", "export", "gradcheck", "playground")
HISTORY_COLUMNS = ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr"]


def deepmat(*args: object, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m deepmat ARGS`` in a subprocess, text output captured."""
    return subprocess.run(
        [sys.executable, "-m", "deepmat", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
    )


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, (
        f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    assert "Traceback" not in result.stderr
    return result.stdout


def user_error(result: subprocess.CompletedProcess) -> str:
    """The one-line error of a usage mistake: exit status 2, no traceback."""
    assert result.returncode == 2, (
        f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("deepmat: error: "), lines[0]
    return lines[0]


def assert_png(path: Path) -> None:
    assert path.read_bytes()[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.size[0] > 0 and image.size[1] > 0


def history_rows(run: Path) -> list[dict[str, str]]:
    with open(run / "history.csv", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == HISTORY_COLUMNS
        return list(reader)


def write_npz_dataset(path: Path, n_features: int, n_classes: int, classes: list[str] | None = None) -> Path:
    """A small learnable data set: class c lights up its own block of features."""
    rng = np.random.default_rng(0)
    parts = {}
    for split, m in (("train", 120), ("test", 40)):
        y = np.arange(m) % n_classes
        X = rng.random((m, n_features)) * 0.3
        block = n_features // n_classes
        for c in range(n_classes):
            X[y == c, c * block : (c + 1) * block] += 0.6
        parts[f"X_{split}"], parts[f"y_{split}"] = X.astype(np.float32), y.astype(np.int64)
    if classes is not None:
        parts["classes"] = np.array(classes)
    np.savez(path, **parts)
    return path


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    """One training run on scikit-learn's digits, 2 epochs (the run folder and the process)."""
    run = tmp_path_factory.mktemp("digits") / "run"
    result = deepmat("train", "--data", "digits", "--epochs", "2", "--out", run)
    ok(result)
    return run, result


# -- train ------------------------------------------------------------------------------------


def test_train_writes_a_complete_run_folder(digits_run):
    run, result = digits_run
    assert "data: scikit-learn digits (1438 train / 359 test)" in result.stdout
    assert "model: 64-256-128-10, relu → softmax" in result.stdout
    for name in cli.RUN_FILES:
        assert (run / name).is_file(), f"{name} missing from the run folder"
    assert (run / "checkpoint.safetensors").is_file()
    for name in ("loss.png", "accuracy.png", "confusion_matrix.png", "misclassified.png"):
        assert_png(run / name)

    rows = history_rows(run)
    assert [int(row["epoch"]) for row in rows] == [1, 2]
    for row in rows:
        for column in HISTORY_COLUMNS[1:]:
            assert np.isfinite(float(row[column]))

    metrics = json.loads((run / "metrics.json").read_text())
    for key in (
        "test_accuracy",
        "test_loss",
        "per_class",
        "train_seconds",
        "epochs",
        "data",
        "deepmat_version",
    ):
        assert key in metrics, key
    assert metrics["data"] == "digits" and metrics["epochs"] == 2
    assert 0.3 < metrics["test_accuracy"] <= 1 and metrics["test_loss"] > 0
    assert [c["class"] for c in metrics["per_class"]] == [str(d) for d in range(10)]
    assert sum(c["count"] for c in metrics["per_class"]) == 359
    for c in metrics["per_class"]:
        assert 0 <= c["precision"] <= 1 and 0 <= c["recall"] <= 1
    assert f"test accuracy:  {metrics['test_accuracy']:.4f}" in result.stdout

    config = json.loads((run / "config.json").read_text())
    assert config["data"]["name"] == "digits"
    assert config["model"]["layers"] == [64, 256, 128, 10]
    assert config["model"]["output_activation"] == "softmax"
    assert config["train"]["epochs"] == 2 and config["train"]["optimizer"] == "adam"
    assert config["classes"] == [str(d) for d in range(10)]


def test_train_npz_784_features_class_names_and_flags_over_file(tmp_path):
    names = ["alpha", "beta", "gamma"]
    data = write_npz_dataset(tmp_path / "three.npz", 784, 3, names)
    config = tmp_path / "small.toml"
    config.write_text(
        f'[data]\nname = "{data}"\n\n[model]\nlayers = [784, 16, 3]\ndropout = 0.0\n\n'
        '[train]\nepochs = 5\nbatch_size = 32\nvalidation_split = 0.0\nschedule = "none"\n'
    )
    run = tmp_path / "run"
    out = ok(deepmat("train", config, "--epochs", "2", "--learning-rate", "0.01", "--out", run))
    assert f"data: {data} (120 train / 40 test)" in out
    assert len(history_rows(run)) == 2  # --epochs 2 wins over the file's 5
    resolved = json.loads((run / "config.json").read_text())
    assert resolved["classes"] == names
    assert resolved["train"]["learning_rate"] == 0.01 and resolved["train"]["batch_size"] == 32
    assert_png(run / "misclassified.png")  # 784 features: 28×28 pictures (an empty grid if none)
    assert_png(run / "accuracy.png")  # the training curve alone, without validation

    # predict a 28×28 picture written with Pillow: the class names come from the run's config.json
    picture = tmp_path / "picture.png"
    pixels = np.load(data)["X_test"][1].reshape(28, 28)  # a "beta"
    Image.fromarray((pixels * 255).clip(0, 255).astype(np.uint8), mode="L").save(picture)
    line = ok(deepmat("predict", run / "model.safetensors", picture)).strip()
    assert re.fullmatch(rf"{re.escape(str(picture))}: (alpha|beta|gamma) \d\.\d{{4}}", line), line
    assert line.split(": ")[1].startswith("beta")
    top = ok(deepmat("predict", run, picture, "--top-k", "5")).strip()
    found = re.findall(r"(alpha|beta|gamma) (\d\.\d{4})", top)
    assert sorted(name for name, _ in found) == sorted(names)  # top-k capped at the 3 classes
    probabilities = [float(p) for _, p in found]
    assert probabilities == sorted(probabilities, reverse=True)
    assert abs(sum(probabilities) - 1) < 2e-3


def test_train_two_classes_defaults_to_one_sigmoid_unit_and_skips_unknown_pictures(tmp_path):
    data = write_npz_dataset(tmp_path / "two.npz", 20, 2)
    run = tmp_path / "run"
    out = ok(deepmat("train", "--data", data, "--epochs", "2", "--out", run))
    config = json.loads((run / "config.json").read_text())
    assert config["model"]["layers"] == [20, 256, 128, 1]
    assert config["model"]["output_activation"] == "sigmoid"
    assert "misclassified.png skipped" in out and not (run / "misclassified.png").exists()
    assert_png(run / "confusion_matrix.png")
    evaluation = json.loads(ok(deepmat("evaluate", run, data, "--json")))
    assert [c["class"] for c in evaluation["per_class"]] == ["0", "1"]


def test_resume_continues_from_the_checkpoint(tmp_path):
    run = tmp_path / "run"
    ok(deepmat("train", "--data", "digits", "--epochs", "2", "--schedule", "none", "--out", run))
    first = history_rows(run)
    out = ok(deepmat("train", "--resume", run / "checkpoint.safetensors", "--epochs", "3"))
    assert "resuming from" in out
    rows = history_rows(run)  # the run folder comes from the checkpoint's config.json
    assert len(rows) == 3 and rows[:2] == first
    assert json.loads((run / "metrics.json").read_text())["epochs"] == 3


def test_ctrl_c_saves_a_checkpoint_and_resume_finishes_the_run(tmp_path):
    run = tmp_path / "run"
    checkpoint = run / "checkpoint.safetensors"
    command = [sys.executable, "-m", "deepmat", "train", "--data", "digits", "--epochs", "500"]
    process = subprocess.Popen(
        [*command, "--schedule", "none", "--verbose", "2", "--out", str(run)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not checkpoint.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    match = re.search(
        r"deepmat: interrupted after epoch (\d+); continue with: deepmat train --resume (\S+)", stderr
    )
    assert match, stderr
    assert Path(match.group(2)) == checkpoint and checkpoint.is_file()
    done = int(match.group(1))
    assert not (run / "model.safetensors").exists()
    out = ok(deepmat("train", "--resume", checkpoint, "--epochs", done + 2))
    assert "resuming from" in out
    assert len(history_rows(run)) == done + 2
    assert (run / "model.safetensors").is_file()


def test_main_job_is_examples_fashion_toml():
    """`deepmat train` with no arguments resolves to examples/fashion.toml's configuration."""
    parser = cli.build_parser()
    default = cli.settle(cli.gather_config(parser.parse_args(["train"])))
    cli.fit_to_data(default, 784, FASHION_MNIST_CLASSES, main_job=True)
    from_file = cli.settle(cli.gather_config(parser.parse_args(["train", str(EXAMPLES / "fashion.toml")])))
    assert default.values["model"] == from_file.values["model"]
    assert default.values["model"]["layers"] == [784, 512, 256, 10]
    assert default.values["train"] == from_file.values["train"]
    assert from_file.values["data"] == {"name": "fashion-mnist", "dir": "/usr/share/datasets/fashion-mnist"}


def test_train_help_lists_every_registered_data_set(capsys):
    try:
        status = cli.main(["train", "--help"])
    except SystemExit as exit_:  # argparse exits after --help; main turns that into a status
        status = exit_.code
    assert status == 0
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps the help lines
    for name in DATASETS:
        assert name in out, name
    folders = [name for name, info in DATASETS.items() if info.takes_dir]
    assert f"the folder of {', '.join(folders[:-1])} or {folders[-1]}" in out


def test_a_data_folder_for_a_data_set_without_one_is_refused(tmp_path):
    with pytest.raises(
        ValueError, match="only used with the data sets fashion-mnist, mnist and cat; 'digits'"
    ):
        load_data("digits", str(tmp_path), "float32")


def test_main_job_falls_back_to_digits_without_fashion_mnist(tmp_path, monkeypatch, capsys):
    from deepmat import data

    monkeypatch.setattr(data, "FASHION_MNIST_DIR", str(tmp_path / "not-installed"))
    monkeypatch.chdir(tmp_path)
    assert cli.main(["train", "--epochs", "1", "--verbose", "2"]) == 0  # --verbose 0 would print nothing
    out = capsys.readouterr().out
    assert out.splitlines()[0] == (
        "data: scikit-learn digits (Fashion-MNIST not installed: apt-get install -y dataset-fashion-mnist)"
    )
    assert "model: 64-512-256-10" in out
    (run,) = (tmp_path / "runs").iterdir()
    assert re.fullmatch(r"digits-\d{8}-\d{6}", run.name)
    assert (run / "model.safetensors").is_file()


@pytest.mark.skipif(not CAT_DIR.is_dir(), reason=f"cat/non-cat data folder {CAT_DIR} not found")
def test_cat_toml_reproduces_the_published_figures(tmp_path):
    """SPEC §7 through the command line: cost 0.0928782 at iteration 2400, accuracies 0.9856 / 0.80."""
    out = ok(
        deepmat("train", EXAMPLES / "cat.toml", "--data-dir", CAT_DIR, "--out", tmp_path / "cat", timeout=600)
    )
    assert "Cost after iteration 0: 0.7717493" in out
    assert "Cost after iteration 2400: 0.0928782" in out
    assert "train accuracy: 0.9856 (206/209)" in out
    assert "test accuracy:  0.8000 (40/50)" in out
    metrics = json.loads((tmp_path / "cat" / "metrics.json").read_text())
    assert metrics["epochs"] == 2500 and metrics["unit"] == "iteration"
    assert metrics["test_accuracy"] == pytest.approx(0.80)
    assert len(history_rows(tmp_path / "cat")) == 2500


# -- evaluate, predict ------------------------------------------------------------------------


def test_evaluate_prints_accuracy_loss_and_per_class_table(digits_run):
    run, _ = digits_run
    metrics = json.loads((run / "metrics.json").read_text())
    text = ok(deepmat("evaluate", run / "model.safetensors", "digits"))
    assert f"accuracy: {metrics['test_accuracy']:.4f}" in text
    assert f"loss:     {metrics['test_loss']:.4f}" in text
    assert re.search(r"^class\s+precision\s+recall\s+count$", text, re.M)
    assert len(re.findall(r"^\d\s+\d\.\d{4}\s+\d\.\d{4}\s+\d+$", text, re.M)) == 10

    report = json.loads(ok(deepmat("evaluate", run, "digits", "--json")))
    assert report["accuracy"] == pytest.approx(metrics["test_accuracy"])
    assert report["loss"] == pytest.approx(metrics["test_loss"])
    assert report["n_samples"] == 359 and len(report["per_class"]) == 10
    assert np.array(report["confusion_matrix"]).sum() == 359


def test_predict_npz_csv_and_8x8_picture(digits_run, tmp_path):
    from sklearn.datasets import load_digits

    run, _ = digits_run
    bunch = load_digits()
    samples = tmp_path / "samples.npz"
    np.savez(samples, X=bunch.data[:4] / 16)
    lines = ok(deepmat("predict", run, samples, "--top-k", "3")).strip().splitlines()
    assert len(lines) == 4
    for i, line in enumerate(lines):
        match = re.fullmatch(rf"samples\.npz\[{i}\]: (\d) (\S+), (\d) (\S+), (\d) (\S+)", line)
        assert match, line
        p = [float(match.group(k)) for k in (2, 4, 6)]
        assert p == sorted(p, reverse=True) and sum(p) <= 1 + 1e-6

    rows = tmp_path / "samples.csv"
    np.savetxt(rows, bunch.data[:2] / 16, delimiter=",")
    assert len(ok(deepmat("predict", run, rows)).strip().splitlines()) == 2

    picture = tmp_path / "digit.png"
    Image.fromarray((bunch.images[0] * 255 / 16).astype(np.uint8), mode="L").save(picture)
    folder = tmp_path / "pictures"
    folder.mkdir()
    shutil.copy(picture, folder / "a.png")
    shutil.copy(picture, folder / "b.png")
    line = ok(deepmat("predict", run, picture, "--classes", "a,b,c,d,e,f,g,h,i,j")).strip()
    assert re.fullmatch(rf"{re.escape(str(picture))}: [a-j] \d\.\d{{4}}", line), line
    assert len(ok(deepmat("predict", run, folder)).strip().splitlines()) == 2


# -- summary, explain, gradcheck --------------------------------------------------------------


def test_summary_of_a_model_and_of_a_config(digits_run):
    run, _ = digits_run
    text = ok(deepmat("summary", run / "model.safetensors"))
    assert "Trainable parameters: 50,826" in text
    cat = ok(deepmat("summary", EXAMPLES / "cat.toml"))
    assert "Network [12288, 20, 7, 5, 1]" in cat and "245,973" in cat


def test_export_onnx_gives_deepmats_outputs_in_onnxruntime(digits_run, tmp_path):
    import onnxruntime

    import deepmat as dm

    run, _ = digits_run
    out = tmp_path / "digits.onnx"
    text = ok(deepmat("export", run, "--format", "onnx", "--output", out))
    assert f"wrote {out}" in text and "(batch, 64)" in text
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    X = np.random.default_rng(0).random((9, 64)).astype(np.float32)
    (Y,) = session.run(None, {session.get_inputs()[0].name: X})
    net = dm.load(run / "model.safetensors")
    np.testing.assert_allclose(Y, net.forward(X), rtol=1e-5, atol=1e-6)
    default = ok(deepmat("export", run / "model.safetensors"))  # default: beside the model
    assert (run / "model.onnx").is_file() and "model.onnx" in default
    assert "choose from 'onnx'" in user_error(deepmat("export", run, "--format", "tflite"))
    assert "is the model itself" in user_error(deepmat("export", run, "--output", run / "model.safetensors"))
    assert "does not exist" in user_error(deepmat("export", tmp_path / "missing.safetensors"))


def test_explain_the_cat_architecture():
    text = ok(deepmat("explain", "--layers", "12288,20,7,5,1", "--batch", "209"))
    assert "Z[1] (20×209) = W[1] (20×12288) · A[0] (12288×209) + b[1] (20×1, broadcast)" in text
    rows = ok(deepmat("explain", EXAMPLES / "cat.toml", "--layout", "rows", "--batch", "209"))
    assert "Z[1] (209×20) = A[0] (209×12288) · W[1] (12288×20)" in rows


def test_explain_a_saved_model(digits_run):
    run, _ = digits_run
    text = ok(deepmat("explain", run))
    assert "Z[1] (256×m) = W[1] (256×64) · A[0] (64×m)" in text
    assert "softmax" in text


def test_gradcheck_passes_on_a_good_config_and_model(digits_run):
    out = ok(deepmat("gradcheck", EXAMPLES / "fashion.toml"))
    assert "passed" in out
    assert len(re.findall(r"^layer \d: [Wb]\d .* ok$", out, re.M)) == 6
    run, _ = digits_run
    assert "8 samples of the data" in ok(deepmat("gradcheck", run, "--data", "digits"))


def test_gradcheck_failure_exits_1(tmp_path, monkeypatch, capsys):
    gradcheck_module = sys.modules["deepmat.gradcheck"]  # `deepmat.gradcheck` is the function
    failing = gradcheck_module.GradcheckResult(
        errors={"W1": 0.5, "b1": 1e-10}, worst={"W1": ((0, 0), 1.0, 0.5), "b1": ((0, 0), 0.0, 0.0)}
    )
    monkeypatch.setattr(gradcheck_module, "gradcheck", lambda *args, **kwargs: failing)
    config = tmp_path / "tiny.toml"
    config.write_text("[model]\nlayers = [3, 2]\n")
    assert cli.main(["gradcheck", str(config)]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "FAILED: W1" in out


# -- errors, help, entry points ---------------------------------------------------------------


def test_unknown_optimizer_lists_the_choices():
    line = user_error(deepmat("train", "--optimizer", "adamax"))
    assert "unknown optimizer 'adamax'" in line
    for name in ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"):
        assert name in line


def test_layers_that_do_not_fit_the_data_say_what_it_needs():
    line = user_error(deepmat("train", "--data", "digits", "--layers", "100,32,10"))
    assert "--layers starts with 100 but the data has 64 features" in line
    line = user_error(deepmat("train", "--data", "digits", "--layers", "64,32,3"))
    assert "ends with 3 but the data has 10 classes" in line and "end it with 10" in line
    assert "expected layer sizes" in user_error(deepmat("train", "--layers", "784,x,10"))


@pytest.mark.parametrize(
    ("layers", "expected"),
    [
        ("64", [64, 64, 10]),  # one size is always a hidden layer, even n[0]'s
        ("10", [64, 10, 10]),  # … even n[L]'s
        ("32,16", [64, 32, 16, 10]),  # neither end is the data's: hidden sizes
        ("64,10", [64, 10]),  # n[0] … n[L]: every size
        ("64,32,10", [64, 32, 10]),
        # one end is the data's, the other not: a full list with a wrong size, refused
        ("64,32", "--layers ends with 32 but the data has 10 classes"),
        ("32,10", "--layers starts with 32 but the data has 64 features"),
    ],
)
def test_layers_are_hidden_sizes_unless_they_run_from_n0_to_nL(layers, expected):
    parser = cli.build_parser()
    config = cli.settle(cli.gather_config(parser.parse_args(["train", "--layers", layers])))
    if isinstance(expected, str):
        with pytest.raises(ValueError, match=re.escape(expected)):
            cli.fit_to_data(config, 64, [str(i) for i in range(10)], main_job=False)
        return
    cli.fit_to_data(config, 64, [str(i) for i in range(10)], main_job=False)
    assert config.values["model"]["layers"] == expected


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[train]\nlr = 0.1\n", "unknown key 'lr' in [train]; valid keys: epochs, batch_size, optimizer"),
        ("[training]\nepochs = 1\n", "unknown section [training]; valid sections: [data], [model]"),
        ("[train\nepochs = 1\n", "is not valid TOML"),
        ('[model]\nactivation = "swish"\n', "unknown activation 'swish'; valid choices: relu"),
        ("[train]\nepochs = -3\n", "[train] epochs in"),
    ],
)
def test_bad_config_files(tmp_path, content, expected):
    config = tmp_path / "bad.toml"
    config.write_text(content)
    assert expected in user_error(deepmat("train", config))


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["train", "missing.toml"], "config file 'missing.toml' does not exist"),
        (["evaluate", "missing.safetensors", "digits"], "model 'missing.safetensors' does not exist"),
        (["summary", "missing.safetensors"], "does not exist"),
        (["train", "--data", "imagenet"], "unknown dataset 'imagenet'"),
        (["train", "--epochs", "0"], "argument --epochs: expected a positive integer"),
        (["train", "--data", "digits", "--iterations", "5", "--epochs", "2"], "exclude each other"),
        (["explain", "--layout", "diagonal", "--layers", "2,1"], "unknown layout 'diagonal'; valid choices"),
        (["explain"], "give a MODEL or CONFIG, or --layers"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        ([], "choose a command: train, evaluate, predict, summary, explain, export, gradcheck"),
    ],
)
def test_user_errors_are_one_line_with_status_2(tmp_path, args, expected):
    assert expected in user_error(deepmat(*args, cwd=tmp_path))


def test_wrong_inputs_for_a_model(digits_run, tmp_path):
    run, _ = digits_run
    assert "takes 64 features" in user_error(
        deepmat("evaluate", run, write_npz_dataset(tmp_path / "d.npz", 10, 2))
    )
    samples = tmp_path / "wide.npz"
    np.savez(samples, X=np.zeros((2, 10)))
    assert "holds samples of 10 features but the model takes 64" in user_error(
        deepmat("predict", run, samples)
    )
    np.savez(samples, X=np.zeros((2, 64)))
    assert "names 2 classes but the model tells 10 apart" in user_error(
        deepmat("predict", run, samples, "--classes", "a,b")
    )
    not_a_picture = tmp_path / "notes.png"
    not_a_picture.write_text("hello")
    assert "cannot be read as a picture" in user_error(deepmat("predict", run, not_a_picture))


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help(command):
    out = ok(deepmat(*([command] if command else []), "--help"))
    assert out.startswith(f"usage: deepmat{' ' + command if command else ''}")
    if command is None:
        for name in COMMANDS:
            assert name in out
    if command == "train":
        for flag in ("--data", "--layers", "--optimizer", "--schedule", "--resume", "--iterations", "--out"):
            assert flag in out


def test_python_m_deepmat_equals_the_console_script():
    script = shutil.which("deepmat")
    if script is None:
        pytest.skip("the deepmat console script is not on PATH (pip install -e .)")
    for args in (["--help"], ["explain", "--layers", "4,3,1", "--batch", "5"], ["train", "--optimizer", "x"]):
        module = deepmat(*args)
        console = subprocess.run([script, *args], capture_output=True, text=True, timeout=60)
        assert (console.returncode, console.stdout, console.stderr) == (
            module.returncode,
            module.stdout,
            module.stderr,
        )
