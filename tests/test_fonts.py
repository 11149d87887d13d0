"""Chinese text in the plots is drawn with its glyphs (a CJK font, Debian's fonts-noto-cjk),
not as the empty boxes of a font without them; without a CJK font, a warning says so."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from PIL import Image

from deepmat import fonts
from deepmat.plotting import plot_confusion_matrix

MATRIX = np.array([[5, 1], [2, 7]])


def pixels(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("L"), dtype=np.int16)


def render(path, classes, monkeypatch=None, family=None):
    if monkeypatch is not None:
        monkeypatch.setattr(fonts, "cjk_family", lambda: family)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # matplotlib's "glyph missing" when there is no font
        plot_confusion_matrix(MATRIX, classes, path, title="混淆矩阵")
    return pixels(path)


@pytest.mark.skipif(fonts.cjk_family() is None, reason=f"no CJK font on this machine: {fonts.INSTALL}")
def test_chinese_class_names_are_drawn_with_their_glyphs(tmp_path, monkeypatch):
    ours_cat_dog = render(tmp_path / "a.png", ["猫", "狗"])
    ours_dog_cat = render(tmp_path / "b.png", ["狗", "猫"])
    # two different characters drawn as glyphs differ; drawn as missing-glyph boxes they would not
    assert not np.array_equal(ours_cat_dog, ours_dog_cat)
    boxes_cat_dog = render(tmp_path / "c.png", ["猫", "狗"], monkeypatch, family=None)
    boxes_dog_cat = render(tmp_path / "d.png", ["狗", "猫"], monkeypatch, family=None)
    assert np.array_equal(boxes_cat_dog, boxes_dog_cat)  # the control: boxes are all alike
    assert not np.array_equal(ours_cat_dog, boxes_cat_dog)


def test_without_a_cjk_font_the_plot_draws_and_says_how_to_get_one(tmp_path, monkeypatch):
    monkeypatch.setattr(fonts, "cjk_family", lambda: None)
    with pytest.warns(
        UserWarning,
        match=r"no CJK font: it is drawn as boxes; install one with: apt-get install fonts-noto-cjk",
    ):
        plot_confusion_matrix(MATRIX, ["猫", "非猫"], tmp_path / "zh.png")
    assert (tmp_path / "zh.png").stat().st_size > 0


def test_latin_text_needs_no_cjk_font(tmp_path, monkeypatch):
    monkeypatch.setattr(fonts, "cjk_family", lambda: None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plot_confusion_matrix(MATRIX, ["cat", "dog"], tmp_path / "en.png")


def test_has_cjk():
    assert fonts.has_cjk("前向传播") and fonts.has_cjk("Layer 1: 隐藏层") and not fonts.has_cjk("Layer 1")
