"""What training prints: the progress table (in a terminal with a tqdm bar, elsewhere plain
rows), numbers and durations written for people (deepmat.formatting), and silence with
verbose=0 — in both forms of fit, in the scikit-learn estimators and in ``deepmat train``."""

from __future__ import annotations

import io
import re
import sys
import warnings

import numpy as np
import pytest

from deepmat import Network
from deepmat.callbacks import ProgressBar
from deepmat.formatting import duration, learning_rate, number

USUAL = ("loss", "accuracy", "val_loss", "val_accuracy", "lr")


class FakeTerminal(io.StringIO):
    """A stream that says it is a terminal (and has no file descriptor, so no known width)."""

    def isatty(self) -> bool:
        return True


def screen_lines(text: str) -> list[str]:
    """Every stretch of text a terminal would draw on one line: tqdm redraws after ``\\r``."""
    return [part for line in text.split("\n") for part in line.split("\r")]


def final_screen(text: str) -> list[str]:
    """The lines a terminal shows once it is all written: what follows each line's last ``\\r``
    (assuming each redraw covers the one before, as tqdm's do)."""
    return [line.split("\r")[-1] for line in text.split("\n")]


def epoch_logs(epoch: int) -> dict[str, float]:
    """The usual metrics with awkward values: long decimals, a tiny learning rate."""
    return {
        "loss": 1.23456789 / (epoch + 1),
        "accuracy": 0.912345678,
        "val_loss": 0.000123456,
        "val_accuracy": 1.0,
        "lr": 2.7391e-6 * (epoch + 1),
    }


def drive(bar: ProgressBar, epochs: int, n_batches: int) -> None:
    """Run ``bar`` through the hooks of a training of ``epochs`` × ``n_batches``."""
    bar.on_train_begin(net=None, optimizer=None)
    for epoch in range(epochs):
        bar.on_epoch_begin(epoch)
        for batch in range(n_batches):
            bar.on_batch_end(batch, {"loss": 2.0 / (batch + 1)})
        bar.on_epoch_end(epoch, epoch_logs(epoch))
    bar.on_train_end()


# -- numbers and durations -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0, "0.0 ms"),
        (0.0042, "4.2 ms"),
        (0.038, "38 ms"),
        (0.42, "0.42 s"),
        (4.2149, "4.21 s"),
        (9.9951, "10.0 s"),
        (12.34, "12.3 s"),
        (59.96, "1 min 00 s"),
        (72.4, "1 min 12 s"),
        (125, "2 min 05 s"),
        (3599.4, "59 min 59 s"),
        (4000, "1 h 07 min"),
        (np.float32(0.5), "0.50 s"),
    ],
)
def test_durations_have_sensible_precision(seconds, text):
    assert duration(seconds) == text


@pytest.mark.parametrize("seconds", [-1.0, float("nan"), float("inf"), "3 s", None])
def test_a_duration_is_a_finite_number_of_seconds(seconds):
    with pytest.raises((ValueError, TypeError), match=r"seconds must be .*; received"):
        duration(seconds)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.58912, "0.5891"),
        (0.9, "0.9000"),
        (1.0, "1.000"),
        (12.3456, "12.35"),
        (1234.5, "1234"),
        (12345.0, "1.234e+04"),
        (0.001, "0.001000"),
        (0.000123456, "1.235e-04"),
        (-0.5, "-0.5000"),
        (0, "0"),
        (float("nan"), "nan"),
        (np.float32(0.25), "0.2500"),
    ],
)
def test_numbers_have_four_significant_digits(value, text):
    assert number(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(1e-3, "1e-03"), (0.0075, "7.5e-03"), (2.739e-6, "2.74e-06"), (0.1, "1e-01"), (0.0, "0")],
)
def test_learning_rates_look_like_1e_03(value, text):
    assert learning_rate(value) == text


# -- the progress table ----------------------------------------------------------------------


def test_on_a_terminal_the_bar_gives_way_to_one_row_that_fits_80_columns():
    pytest.importorskip("tqdm")
    stream = FakeTerminal()
    bar = ProgressBar(epochs=30, n_batches=422, verbose=1, stream=stream)
    assert bar.use_bar
    drive(bar, epochs=30, n_batches=422)
    out = stream.getvalue()
    assert "\r" in out and "422/422" in out  # tqdm drew the bar over the batches
    assert re.search(r"loss \d\.\d{3}", out)  # the running loss beside it
    for line in screen_lines(out):
        assert len(line) <= 80, line
    header, *rows, last = final_screen(out)
    assert last.strip() == ""  # the last bar is gone too
    assert header.split() == [*USUAL, "time"]
    assert len(rows) == 30  # one row per epoch, each on its own line where its bar was
    for epoch, row in enumerate(rows):
        expected = epoch_logs(epoch)
        cells = row.split()
        assert cells[:2] == ["epoch", f"{epoch + 1}/30"]
        shown = [learning_rate(v) if k == "lr" else number(v) for k, v in expected.items()]
        assert cells[2:7] == shown  # every metric of the epoch, none cut off
        # its time, in one of formatting.duration's forms below a minute: 4.2 ms, 38 ms, 0.42 s,
        # 12.3 s (a loaded machine's epoch can take any of them)
        assert re.fullmatch(r"\d+(\.\d+)? m?s", " ".join(cells[7:])), row


def test_without_a_terminal_one_row_per_epoch_holds_every_metric():
    stream = io.StringIO()
    drive(ProgressBar(epochs=3, n_batches=5, verbose=1, stream=stream), epochs=3, n_batches=5)
    header, *rows = stream.getvalue().splitlines()
    assert header.split() == [*USUAL, "time"] and len(rows) == 3
    assert "\r" not in stream.getvalue()
    for row in rows:
        assert len(row) <= 80 and len(row.split()) == 2 + len(USUAL) + 2


def test_rows_fit_80_columns_for_long_runs_and_long_epochs():
    bar = ProgressBar(epochs=1000, n_batches=1, verbose=2)
    logs = dict(zip(USUAL, (0.1234, 0.9876, 0.2345, 0.8765, 2.74e-6), strict=True))
    assert len(bar.header_line(logs)) <= 80
    row = bar.row(999, logs, seconds=725)
    assert len(row) <= 80 and row.endswith("12 min 05 s")


def test_the_header_is_printed_again_when_the_metrics_change():
    stream = io.StringIO()
    bar = ProgressBar(epochs=2, n_batches=1, verbose=2, stream=stream)
    bar.on_train_begin(net=None, optimizer=None)
    for epoch, logs in enumerate(({"loss": 0.5, "lr": 0.1}, {"loss": 0.4, "mine": 3.0, "lr": 0.1})):
        bar.on_epoch_begin(epoch)
        bar.on_epoch_end(epoch, logs)
    lines = stream.getvalue().splitlines()
    assert [line.split() for line in lines[::2]] == [["loss", "lr", "time"], ["loss", "mine", "lr", "time"]]


def test_without_tqdm_a_terminal_gets_plain_rows(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    stream = FakeTerminal()
    bar = ProgressBar(epochs=2, n_batches=3, verbose=1, stream=stream)
    assert not bar.use_bar
    drive(bar, epochs=2, n_batches=3)
    header, *rows = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue() and header.split()[0] == "loss"
    assert [row[:9] for row in rows] == ["epoch 1/2", "epoch 2/2"]
    assert capsys.readouterr() == ("", "")  # and nothing said about tqdm


def test_fit_on_a_terminal_prints_the_rows_of_a_real_training():
    pytest.importorskip("tqdm")
    X, y = np.random.default_rng(0).normal(size=(40, 4)), np.arange(40) % 2
    stream = FakeTerminal()
    bar = ProgressBar(epochs=2, n_batches=4, verbose=1, stream=stream)
    Network([4, 3, 1]).fit(X, y, epochs=2, batch_size=10, verbose=0, validation_split=0.2, callbacks=[bar])
    rows = [line for line in final_screen(stream.getvalue()) if line.startswith("epoch ")]
    assert len(rows) == 2 and all(len(row.split()) == 2 + len(USUAL) + 2 for row in rows)


# -- verbose=0 is silent ---------------------------------------------------------------------


def quiet_data():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 4))
    return X, (X[:, 0] > 0).astype(int)


@pytest.mark.parametrize(
    "fit",
    [
        {"iterations": 201, "print_every": 100},  # the seeds' form would print 3 costs
        {"epochs": 3, "batch_size": 8, "validation_split": 0.2},
        {"epochs": 2, "optimizer": "adam", "learning_rate": 0.01},
    ],
)
def test_fit_with_verbose_0_prints_nothing(fit, capfd):
    X, y = quiet_data()
    Network([4, 3, 1], seed=0).fit(X, y, verbose=0, **fit)
    assert capfd.readouterr() == ("", "")


def test_the_seeds_form_prints_its_costs_unless_verbose_0(capfd):
    X, y = quiet_data()
    Network([4, 3, 1], seed=0).fit(X, y, iterations=201, print_every=100)
    assert capfd.readouterr().out.count("Cost after iteration") == 3


@pytest.mark.parametrize("kind", ["DeepmatClassifier", "DeepmatRegressor"])
def test_the_estimators_with_verbose_0_print_nothing(kind, capfd):
    sklearn_module = pytest.importorskip("deepmat.sklearn")
    X, y = quiet_data()
    estimator = getattr(sklearn_module, kind)(hidden_layer_sizes=(5,), max_iter=3, random_state=0, verbose=0)
    with warnings.catch_warnings():  # a warning is not printing: it goes where the filters send it
        warnings.simplefilter("ignore")
        estimator.fit(X, y)
        estimator.partial_fit(X, y)
        estimator.predict(X)
    assert capfd.readouterr() == ("", "")


@pytest.mark.parametrize("form", [["--epochs", "1"], ["--iterations", "3", "--layers", "64,8,10"]])
def test_deepmat_train_with_verbose_0_prints_nothing(form, tmp_path, capfd):
    pytest.importorskip("sklearn")
    from deepmat.cli import main

    out = tmp_path / "run"
    assert main(["train", "--data", "digits", *form, "--verbose", "0", "--out", str(out)]) == 0
    assert capfd.readouterr() == ("", "")
    assert (out / "model.safetensors").is_file() and (out / "metrics.json").is_file()


def test_deepmat_train_with_verbose_0_still_reports_errors(tmp_path, capfd):
    from deepmat.cli import main

    assert main(["train", "--data", str(tmp_path / "nowhere.npz"), "--verbose", "0"]) == 2
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err.startswith("deepmat: error: ")
