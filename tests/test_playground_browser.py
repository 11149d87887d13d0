"""The playground page in a real browser (Debian's chromium, driven by Playwright) against a
real ``deepmat playground`` server: the learner's path, once in each language chosen with the
page's own switch (English / 中文) — load the page, train XOR to ≥ 0.95 test accuracy, step
through one forward and backward pass checking every matrix's shape against the network's,
look at the layers' health, export the model and load it with ``deepmat.load``, switch the
language and keep the session —, a bad setting's message, and two tabs with their own
sessions. Each state is saved as a screenshot in a folder the tests print (``-s`` shows it)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

import deepmat

pytest.importorskip("starlette")
sync_api = pytest.importorskip("playwright.sync_api")

from deepmat.playground.datasets import make_dataset  # noqa: E402
from deepmat.playground.settings import dataset_arguments, parse_settings  # noqa: E402
from playground_helpers import running_server  # noqa: E402

CHROMIUM = os.environ.get("DEEPMAT_CHROMIUM", "/usr/bin/chromium")
#: headless, and none of the background connections a closed network would refuse
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"no browser at {CHROMIUM} (scripts/install.sh --tests installs chromium)",
)


@pytest.fixture(scope="module")
def server():
    with running_server() as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("playground-screenshots")
    print(f"\nplayground screenshots: {folder}")
    return folder


class Tab:
    """A page of the playground, with the errors its scripts report."""

    def __init__(self, context, server):
        self.page = context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.route(
            re.compile(r"^(?!http://127\.0\.0\.1:).*"), lambda route: route.abort()
        )  # never the internet
        self.page.goto(server.url)
        self.page.wait_for_selector("body[data-ready=true]", timeout=30_000)

    def text(self, test_id: str) -> str:
        return self.page.locator(f"[data-testid={test_id}]").first.inner_text()

    def value(self, test_id: str) -> float:
        return float(self.page.locator(f"[data-testid={test_id}]").get_attribute("data-value"))

    def iteration(self) -> int:
        return int(self.page.locator("[data-testid=position]").get_attribute("data-iteration"))

    def step(self) -> None:
        """Click Step and wait until the page shows one more iteration."""
        before = self.iteration()
        self.page.click("[data-testid=step]")
        self.page.wait_for_function(
            "n => Number(document.querySelector('[data-testid=position]').dataset.iteration) === n",
            arg=before + 1,
        )

    def change(self, selector: str, value: str) -> None:
        """Set a form field as a learner does and wait for the server's answer."""
        with self.page.expect_response(re.compile(r"/api/sessions")):
            if self.page.locator(selector).evaluate("e => e.tagName") == "SELECT":
                self.page.select_option(selector, value)
            else:
                self.page.fill(selector, value)
                self.page.locator(selector).dispatch_event("change")

    def shot(self, folder: Path, name: str) -> None:
        self.page.screenshot(path=str(folder / name), full_page=True)


@pytest.fixture
def context(browser):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 1000})
    yield context
    context.close()


#: what the page shows in each language: the labels (by selector), the first layer's dimension
#: check, a hovered cell of W[1], the step-through's heading and a health column
LANGUAGE = {
    "en": {
        "labels": {
            "h1": "deepmat playground",
            "#data-heading": "Data",
            "label[for=setting-dataset]": "Data set",
            "label[for=setting-learning_rate]": "Learning rate α",
            "[data-testid=play]": "Play",
            "#setting-dataset option[value=xor]": "XOR",
        },
        "check": "check: W[1] is (n[1], n[0]) = (4, 2)",
        "hover": r"W\[1\] row 1, column 1 = -?\d.*",
        "forward": "Forward, layer 1",
        "health": "Dead units",
    },
    "zh": {
        "labels": {
            "h1": "deepmat 练习场",
            "#data-heading": "数据",
            "label[for=setting-dataset]": "数据集",
            "label[for=setting-learning_rate]": "学习率 α",
            "[data-testid=play]": "播放",
            "#setting-dataset option[value=xor]": "异或（XOR）",
        },
        "check": "核对矩阵的维数：W[1] 是 (n[1], n[0]) = (4, 2)",
        "hover": r"W\[1\] 第 1 行、第 1 列 = -?\d.*",
        "forward": "前向传播，第 1 层",
        "health": "死节点",
    },
}


def choose_language(tab: Tab, lang: str) -> None:
    """Click the page's language switch and wait until the page says it speaks ``lang``."""
    tab.page.click(f"[data-testid=lang-{lang}]")
    tab.page.wait_for_selector(f"body[data-lang={lang}]")


def check_labels(tab: Tab, lang: str) -> None:
    for selector, text in LANGUAGE[lang]["labels"].items():
        assert tab.page.locator(selector).first.text_content().strip() == text, (lang, selector)
    shown = tab.page.eval_on_selector_all("[data-i18n]", "elements => elements.map(e => e.textContent)")
    assert shown and not [text for text in shown if "[[" in text or not text.strip()]  # every term resolved
    assert tab.page.evaluate("document.documentElement.lang") == {"en": "en", "zh": "zh-CN"}[lang]


def expected_shape(name: str, dims: list[int], m: int) -> tuple[int, int]:
    """The seeds' shape (SPEC §1) of a matrix named as the page names it: W[l] (n[l], n[l-1]),
    b[l] (n[l], 1), Z/A/D[l] and their gradients (n[l], m), Y (n[L], m); ᵀ swaps them."""
    match = re.fullmatch(r"(d?)([A-Za-z])(?:\[(\d+)\])?(ᵀ?)", name)
    _, letter, l, transposed = match.groups()
    if letter == "Y":
        shape = (dims[-1], m)
    else:
        l = int(l)
        shape = {"W": (dims[l], dims[l - 1]), "b": (dims[l], 1)}.get(letter, (dims[l], m))
    return shape[::-1] if transposed else shape


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_learners_path(context, server, artefacts, tmp_path, lang):
    tab = Tab(context, server)
    page = tab.page
    words = LANGUAGE[lang]
    choose_language(tab, lang)
    check_labels(tab, lang)
    tab.shot(artefacts, f"{lang}-01-loaded.png")
    tab.change("#setting-dataset", "xor")
    settings = parse_settings({"dataset": "xor"})  # the form's defaults, with XOR

    # train XOR with Play until the test accuracy reaches 0.95
    page.click("[data-testid=play]")
    page.wait_for_function(
        "() => Number(document.querySelector('[data-testid=test_accuracy]').dataset.value) >= 0.95",
        timeout=60_000,
    )
    page.click("[data-testid=play]")  # pause
    page.wait_for_function("() => document.querySelector('[data-testid=play]').dataset.playing === 'false'")
    page.wait_for_timeout(300)  # the last answer drawn
    accuracy, iterations = tab.value("test_accuracy"), tab.iteration()
    assert accuracy >= 0.95 and iterations > 0
    tab.shot(artefacts, f"{lang}-02-trained.png")

    # one forward and backward pass, equation by equation, every shape checked
    page.click("[data-testid=steps-load]")
    page.wait_for_selector("[data-testid=steps]:not([hidden])")
    count = page.locator("[data-testid=step-list] li").count()
    dims, m = [2, *settings.hidden, 1], min(settings.batch_size, 16)
    seen, equations = set(), []
    for index in range(count):
        equation = tab.text("step-equation")
        equations.append(equation)
        figures = page.locator("[data-testid=step-matrices] [data-testid=matrix]")
        assert figures.count() >= 1, equation
        for i in range(figures.count()):
            figure = figures.nth(i)
            name = figure.get_attribute("data-name")
            rows, cols = int(figure.get_attribute("data-rows")), int(figure.get_attribute("data-cols"))
            assert figure.locator("[data-testid=shape]").inner_text() == f"({rows}×{cols})"
            assert (rows, cols) == expected_shape(name, dims, m), (equation, name)
            seen.add(re.sub(r"\[\d+\]", "", name))
        if index == 0:
            assert words["check"] in tab.text("step-check")
            assert tab.text("step-heading") == words["forward"]
            canvas = figures.nth(1).locator("canvas")  # W[1]: hover a cell for its value
            canvas.hover(position={"x": 3, "y": 3})
            assert re.fullmatch(words["hover"], figures.nth(1).locator("output").inner_text())
            tab.shot(artefacts, f"{lang}-03-forward-step.png")
        if equation.startswith("dZ[3]"):
            tab.shot(artefacts, f"{lang}-04-backward-step.png")
        page.click("[data-testid=step-next]")
    assert {"A", "W", "b", "Z", "dZ", "dW", "db", "dA", "Aᵀ", "Wᵀ", "Y"} <= seen
    z_lines = [e.split(" ", 1)[0] for e in equations if e.startswith(("Z[", "dZ["))]
    assert z_lines == ["Z[1]", "Z[2]", "Z[3]", "dZ[3]", "dZ[2]", "dZ[1]"]

    # the layers' health
    page.click("[data-testid=health-load]")
    page.wait_for_selector("[data-testid=health-row]")
    assert page.locator("[data-testid=health-row]").count() == 3
    assert page.locator("[data-testid=unit-map]").count() == sum(settings.hidden)
    assert words["health"] in page.locator("[data-testid=health] th").all_inner_texts()
    tab.shot(artefacts, f"{lang}-05-health.png")

    # export: the model deepmat.load reads, scoring what the page showed
    with page.expect_download() as download:
        page.click("[data-testid=export-model]")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    net = deepmat.load(path)
    data = make_dataset(**dataset_arguments(settings))
    assert net.layer_dims == dims and round(net.score(data.X_test, data.y_test), 4) == accuracy
    page.click("[data-testid=snippet-show]")
    page.wait_for_selector("[data-testid=snippet]:not([hidden])")
    assert "deepmat.Network(" in tab.text("snippet") and "'xor'" in tab.text("snippet")
    tab.shot(artefacts, f"{lang}-06-export.png")

    # the other language: every label again, the same session, training and step-through
    other = "zh" if lang == "en" else "en"
    position = tab.text("step-position")
    choose_language(tab, other)
    check_labels(tab, other)
    page.wait_for_function(
        "text => document.querySelector('[data-testid=step-check]').textContent.startsWith(text)",
        arg=LANGUAGE[other]["check"].split("：")[0].split(":")[0],
    )
    assert tab.iteration() == iterations and tab.value("test_accuracy") == accuracy
    assert page.locator("#setting-dataset").input_value() == "xor"
    assert page.locator("[data-testid=step-list] li").count() == count
    assert tab.text("step-position") != position or lang == other  # the same place, other words
    assert LANGUAGE[other]["health"] in page.locator("[data-testid=health] th").all_inner_texts()
    assert f"lang={other}" in page.url
    tab.shot(artefacts, f"{lang}-07-switched-to-{other}.png")
    assert not tab.errors


def test_a_bad_setting_shows_the_servers_message(context, server, artefacts):
    tab = Tab(context, server)
    tab.change("#setting-learning_rate", "0")
    message = tab.page.locator("[data-testid=message]")
    # the page renders the server's answer after it arrives: expect() waits for it (up to 5 s)
    sync_api.expect(message).to_be_visible()
    sync_api.expect(message).to_contain_text("learning rate must be a number in [1e-06, 10]; received 0")
    assert "Traceback" not in message.inner_text()
    tab.shot(artefacts, "07-bad-setting.png")
    tab.change("#setting-learning_rate", "0.03")
    sync_api.expect(message).to_be_hidden()
    tab.change("#setting-hidden", "7")
    sync_api.expect(message).to_contain_text("hidden layers must be a list of 1 to 6 unit counts; received 7")


def test_two_tabs_keep_their_own_sessions_and_a_closed_tab_harms_none(context, server, artefacts):
    first, second = Tab(context, server), Tab(context, server)
    first.change("#setting-dataset", "spiral")
    for _ in range(3):
        first.step()
    assert (first.iteration(), second.iteration()) == (3, 0)
    second.step()
    assert (first.iteration(), second.iteration()) == (3, 1)
    assert first.page.locator("#setting-dataset").input_value() == "spiral"
    assert second.page.locator("#setting-dataset").input_value() == "circles"
    first.page.click("[data-testid=play]")
    first.page.wait_for_function(
        "() => Number(document.querySelector('[data-testid=position]').dataset.iteration) > 3"
    )
    first.page.close()  # mid-training
    second.step()
    assert second.iteration() == 2 and not second.errors
    second.shot(artefacts, "08-second-tab.png")
