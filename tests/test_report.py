"""report.html, the page ``deepmat train`` writes in every run folder: opened in a real browser
(Debian's Chromium through Playwright) it shows every section, loads nothing but itself, runs
no script, and shows class and folder names as the characters they are; a screenshot goes to
the test's folder. The page's parts are checked as HTML too, and its PNG pictures decoded."""

from __future__ import annotations

import html
import json
import zlib
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from deepmat.cli import main
from deepmat.png import PNG_SIGNATURE, png_bytes
from deepmat.report import WORDS, RunReport, WrongExample, render

CHROMIUM = Path("/usr/bin/chromium")
#: Chromium offline: no background requests, no updates, no sync, no QUIC
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SECTIONS = (
    "results",
    "configuration",
    "curves",
    "confusion",
    "per_class",
    "wrong",
    "network",
    "gradcheck",
    "timing",
)
HOSTILE = ["<script>alert(1)</script>", "$x$", "a & b <i>"]


def write_pictures(path: Path) -> Path:
    """Three classes of 28×28 pictures (a bright block per class), named with HTML and TeX."""
    rng = np.random.default_rng(0)
    parts = {}
    for split, m in (("train", 90), ("test", 30)):
        y = np.arange(m) % 3
        X = rng.random((m, 28, 28)) * 0.4
        for c in range(3):
            X[y == c, 9 * c : 9 * c + 9, :] += 0.5
        X[: m // 5] = rng.random((m // 5, 28, 28))  # noise: some samples end up misclassified
        parts[f"X_{split}"], parts[f"y_{split}"] = X.reshape(m, 784).astype(np.float32), y
    np.savez(path, **parts, classes=np.array(HOSTILE))
    return path


#: the titles the run's plots were drawn with, by plotting function
TITLES: dict[str, str] = {}


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    """A run whose folder and classes are named with markup (the plots' titles recorded)."""
    pytest.importorskip("matplotlib")
    from deepmat.cli import runs

    folder = tmp_path_factory.mktemp("report")
    out = folder / "<b>run & $1"

    def recording(name):
        draw = getattr(runs, name)

        def plot(*args, **kwargs):
            TITLES[f"{name} {args[2] if name == 'plot_history' else ''}".strip()] = kwargs["title"]
            return draw(*args, **kwargs)

        return plot

    with pytest.MonkeyPatch.context() as patch:
        for name in ("plot_history", "plot_confusion_matrix", "plot_misclassified"):
            patch.setattr(runs, name, recording(name))
        status = main(
            ["train", "--data", str(write_pictures(folder / "p.npz")), "--layers", "784,12,3", "--epochs", "3",
             "--verbose", "0", "--out", str(out)]
        )  # fmt: skip
    assert status == 0
    return out


def test_the_report_in_a_browser_shows_every_section_and_loads_nothing_else(run, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.is_file():
        pytest.skip("Chromium is not installed (scripts/install.sh installs it)")
    page_url = (run / "report.html").resolve().as_uri()
    requests, dialogs = [], []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

            def route(r):  # the page itself may load; anything else is recorded and refused
                requests.append(r.request.url)
                if r.request.url == page_url:
                    r.continue_()
                else:
                    r.abort()

            page.route("**/*", route)
            page.goto(page_url)
            page.wait_for_load_state("load")
            headings = {key: page.locator(f"section#{key} > h2").inner_text() for key in SECTIONS}
            pictures = page.eval_on_selector_all(
                "img", "images => images.map(i => [i.className, i.complete && i.naturalWidth > 0])"
            )
            texts = page.locator("body").inner_text()
            scripts = page.locator("script").count()
            per_class = page.locator("section#per_class tbody td:first-child").all_inner_texts()
            title = page.title()
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
    assert requests == [page_url]  # no font, script, picture or address outside the page
    assert dialogs == [] and scripts == 0  # the class named <script>alert(1)</script> ran nothing
    assert headings == {key: WORDS[key] for key in SECTIONS}
    assert [c for c, _ in pictures].count("plot") == 2  # the loss and accuracy curves
    assert [c for c, _ in pictures].count("picture") >= 1  # the wrong test pictures
    assert all(decoded for _, decoded in pictures), pictures
    assert per_class == HOSTILE  # shown as written
    assert title == "deepmat run report — <b>run & $1"
    for expected in (
        "test accuracy",
        "model.layers",
        "Dense(12, relu)",
        "dW[1] (12×784) = 1/m · dZ[1]",
        "passed:",
    ):
        assert expected in texts, expected
    assert (tmp_path / "report.png").read_bytes()[:8] == PNG_SIGNATURE


class Page(HTMLParser):
    """The tags of a page and the text of every section, by id."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.sections: dict[str, str] = {}
        self.section: str | None = None
        self.images: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attrs = dict(attrs)
        if tag == "section":
            self.section = attrs["id"]
            self.sections[self.section] = ""
        if tag == "img":
            self.images.append(attrs["src"])

    def handle_data(self, data):
        if self.section:
            self.sections[self.section] += data


def test_the_report_holds_the_runs_numbers_and_the_plots_name_the_run(run):
    from deepmat.cli import RUN_FILES

    assert "report.html" in RUN_FILES and all((run / name).is_file() for name in RUN_FILES)
    page = Page()
    page.feed((run / "report.html").read_text(encoding="utf-8"))
    assert list(page.sections) == list(SECTIONS)
    assert "script" not in page.tags
    assert all(src.startswith("data:image/png;base64,") for src in page.images)
    metrics = json.loads((run / "metrics.json").read_text())
    assert f"{metrics['test_accuracy']:.4f}" in page.sections["results"]
    for row in metrics["per_class"]:
        cells = f"{row['class']}{row['precision']:.4f}{row['recall']:.4f}{row['f1']:.4f}{row['count']}"
        assert cells in page.sections["per_class"].replace("\n", "")
    assert TITLES == {
        "plot_history loss": "Loss (cost J) — <b>run & $1",
        "plot_history accuracy": "Accuracy — <b>run & $1",
        "plot_confusion_matrix": "Confusion matrix (test set) — <b>run & $1",
        "plot_misclassified": "Misclassified test pictures — <b>run & $1",
    }


def sample_report(**changes) -> RunReport:
    k = len(HOSTILE)
    report = RunReport(
        run="<img src=x onerror=alert(1)>",
        version="0",
        written="now",
        config={"data": {"name": "</td><script>alert(2)</script>"}, "classes": HOSTILE},
        results={
            "test_accuracy": 0.5,
            "test_loss": 1.0,
            "test_correct": 1,
            "n_test": 2,
            "train_accuracy": 0.5,
            "train_loss": 1.0,
            "train_correct": 1,
            "n_train": 2,
        },
        classes=HOSTILE,
        confusion=np.array([[2, 1, 0], [0, 3, 0], [1, 0, 0]]),
        per_class=[{"class": c, "precision": 0.5, "recall": 0.5, "f1": 0.5, "count": 1} for c in HOSTILE],
        wrong=[WrongExample(7, HOSTILE[0], HOSTILE[1], 0.9, 0.05, png_bytes(np.eye(4)))],
        network_html="<table></table>",
        explain_text="a < b & c",
        gradcheck_checked=(8, 10),
        gradcheck="layer 1: W1 ok",
        gradcheck_passed=True,
        timing={"seconds": 12.0, "steps": 3, "unit": "epoch", "resumed": False},
        curves={"Loss <b>": png_bytes(np.zeros((3, 3, 3)))},
    )
    for key, value in changes.items():
        setattr(report, key, value)
    assert len(report.classes) == k
    return report


def test_every_outside_text_is_escaped():
    text = render(sample_report())
    page = Page()
    page.feed(text)
    assert page.tags.count("script") == 0 and "onerror" not in "".join(page.tags)
    assert html.escape("<img src=x onerror=alert(1)>") in text and "<img src=x" not in text
    assert "&lt;/td&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in text
    for name in HOSTILE:
        assert html.escape(name) in text and name in page.sections["per_class"]  # parsed back: the characters
    assert "a < b & c" in page.sections["network"]
    assert 'alt="Loss &lt;b&gt;"' in text
    normalised = page.sections["confusion"]
    assert "0.667" in normalised and "0.333" in normalised and "1.000" in normalised  # rows 2/3, 1/3, 1
    assert "time per epoch" in page.sections["timing"] and "4.00 s" in page.sections["timing"]


def test_without_plots_the_report_says_so_and_a_resumed_run_gives_no_time_per_epoch():
    page = Page()
    page.feed(
        render(
            sample_report(
                curves={},
                plots_missing=True,
                timing={"seconds": 5.0, "steps": 9, "unit": "epoch", "resumed": True},
            )
        )
    )
    assert "matplotlib is not installed" in page.sections["curves"]
    assert "time per epoch" not in page.sections["timing"] and "resumed run" in page.sections["timing"]


@pytest.mark.parametrize("shape", [(5, 7), (5, 7, 1), (4, 6, 3)])
def test_png_bytes_is_a_valid_png_of_the_pixels(shape):
    rng = np.random.default_rng(0)
    pixels = rng.random(shape)
    data = png_bytes(pixels)
    assert data[:8] == PNG_SIGNATURE
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (height, width) == shape[:2]
    length = int.from_bytes(data[33:37], "big")
    assert data[37:41] == b"IDAT"
    raw = np.frombuffer(zlib.decompress(data[41 : 41 + length]), np.uint8).reshape(shape[0], -1)
    assert (raw[:, 0] == 0).all()  # no filter
    channels = 3 if len(shape) == 3 and shape[2] == 3 else 1
    levels = raw[:, 1:].reshape(shape[0], shape[1], channels)
    np.testing.assert_array_equal(levels, np.rint(pixels.reshape(levels.shape) * 255))
    PIL = pytest.importorskip("PIL.Image")
    import io

    with PIL.open(io.BytesIO(data)) as image:
        assert image.size == (shape[1], shape[0])
    with pytest.raises(ValueError, match=r"pixels must be \(h, w\), \(h, w, 1\) or \(h, w, 3\)"):
        png_bytes(np.zeros((2, 2, 2)))


def test_the_report_in_chinese_shows_chinese_class_names_and_words_as_characters(tmp_path):
    """report.html in Chinese (deepmat train --lang zh): <html lang="zh-CN">, a CJK font in its
    font list, the words of deepmat.report.WORDS_ZH; in Chromium, the class names 猫 and 狗 are
    drawn as two different glyphs, not as the two identical boxes of a font without them."""
    from deepmat import fonts
    from deepmat.report import FONT_FAMILY, words

    classes = ["猫", "狗", "non-cat"]
    report = sample_report(
        classes=classes,
        per_class=[{"class": c, "precision": 0.5, "recall": 0.5, "f1": 0.5, "count": 1} for c in classes],
    )
    page = render(report, "zh")
    assert '<html lang="zh-CN">' in page and '<html lang="en">' in render(report)
    assert '"Noto Sans CJK SC"' in FONT_FAMILY and f"font-family: {FONT_FAMILY};" in page
    zh = words("zh")
    for key in SECTIONS:
        assert f"<h2>{html.escape(zh[key])}</h2>" in page
    assert zh["results"] == "结果" and zh["test_accuracy"] == "测试集准确率"
    playwright = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.is_file():
        pytest.skip("Chromium is not installed (scripts/install.sh installs it)")
    if fonts.cjk_family() is None:
        pytest.skip(f"no CJK font on this machine: {fonts.INSTALL}")
    path = tmp_path / "report.html"
    path.write_text(page, encoding="utf-8")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page(viewport={"width": 1200, "height": 900})
            tab.route("**/*", lambda r: r.continue_() if r.request.url == path.as_uri() else r.abort())
            tab.goto(path.as_uri())
            cells = tab.locator("section#per_class tbody td:first-child")
            assert cells.all_inner_texts() == classes
            cat, dog = (cells.nth(i).screenshot() for i in (0, 1))
            tab.screenshot(path=str(tmp_path / "report-zh.png"), full_page=True)
        finally:
            browser.close()
    assert cat != dog  # two characters drawn; two missing-glyph boxes would be the same picture
