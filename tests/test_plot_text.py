"""What users wrote — class names, titles, file names — is drawn as written in the plots:
no mathtext (``$x^2$`` stays those five characters), no TeX."""

from __future__ import annotations

import numpy as np
from PIL import Image

from deepmat.plotting import plot_confusion_matrix, plot_history


def pixels(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)


def test_dollar_signs_and_backslashes_are_drawn_literally(tmp_path):
    names = ["$x^2$", r"a_b\alpha"]
    plot_confusion_matrix(np.array([[3, 1], [0, 4]]), names, tmp_path / "ours.png", title="run $1")
    # the same plot drawn by matplotlib's default rules, with the dollars escaped: literal text
    escaped = [r"\$x^2\$", r"a_b\alpha"]
    plot_confusion_matrix.__wrapped__(
        np.array([[3, 1], [0, 4]]), escaped, tmp_path / "escaped.png", title=r"run \$1"
    )
    # and the unescaped names under mathtext: what a user would have seen before
    plot_confusion_matrix.__wrapped__(
        np.array([[3, 1], [0, 4]]), names, tmp_path / "math.png", title="run $1"
    )
    ours, literal, math = (
        pixels(tmp_path / "ours.png"),
        pixels(tmp_path / "escaped.png"),
        pixels(tmp_path / "math.png"),
    )
    assert np.array_equal(ours, literal)
    assert not np.array_equal(ours, math)


def test_titles_of_history_plots_are_literal(tmp_path):
    history = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}
    plot_history(history, tmp_path / "ours.png", "loss", title="$\\sigma$ run")
    plot_history.__wrapped__(history, tmp_path / "math.png", "loss", title="$\\sigma$ run")
    assert not np.array_equal(pixels(tmp_path / "ours.png"), pixels(tmp_path / "math.png"))
