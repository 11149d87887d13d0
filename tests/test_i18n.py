"""Chinese as a second language (deepmat.i18n): every table of words has every word in both
languages, with the same {placeholders}; every [[term]] a table refers to is in the glossary,
and where an English text uses a glossary term its Chinese text holds the glossary's Chinese
term (the glossary is the one source); the Chinese explanation has no English word left outside
its equations and names; the playground's tables hold every key its page uses; an unknown
language is a clear error, and the locale decides when nothing else does."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import deepmat
from deepmat import Activation, BatchNorm, Dense, Dropout, i18n
from deepmat.cli import explain as cli_explain
from deepmat.cli import main, runs
from deepmat.explain import explain, explain_lines
from deepmat.explain_values import explain_values
from deepmat.layers import activation, batchnorm, dense, dropout
from deepmat.playground import settings

REPO = Path(__file__).resolve().parents[1]
STATIC = REPO / "src/deepmat/playground/static"
PYTHON_TABLES = {
    "explain": deepmat.explain,
    "explain_values": deepmat.explain_values,
    "cli.explain": cli_explain,
    "summary": deepmat.summary,
    "report": deepmat.report,
    "plotting": deepmat.plotting,
    "layers.dense": dense,
    "layers.activation": activation,
    "layers.batchnorm": batchnorm,
    "layers.dropout": dropout,
}


def js_object(text: str) -> dict:
    """A JavaScript object literal of string literals (keys quoted or bare, trailing commas,
    ``//`` comments) as JSON."""
    text = "\n".join(line for line in text.splitlines() if not line.strip().startswith("//"))
    text = re.sub(r"^(\s*)(\w+): \{", r'\1"\2": {', text, flags=re.MULTILINE)  # en: { → "en": {
    return json.loads(re.sub(r",(\s*\})", r"\1", text))  # no trailing commas in JSON


def strings_js() -> dict[str, dict[str, str]]:
    """The tables of the page's static/strings.js, each with the NAMES every language shares."""
    text = (STATIC / "strings.js").read_text(encoding="utf-8")
    names = text[text.index("const NAMES = ") + len("const NAMES = ") : text.index("};") + 1]
    body = text[text.index("export const STRINGS = ") + len("export const STRINGS = ") :].strip().rstrip(";")
    shared = js_object(names)
    tables = js_object(body.replace("...NAMES,", '"...NAMES": "",'))
    assert all(table.pop("...NAMES") == "" for table in tables.values())  # every table spreads NAMES
    return {lang: {**shared, **table} for lang, table in tables.items()}


def tables() -> dict[str, tuple[dict, dict]]:
    """Every table of words: (English, Chinese) by name."""
    found = {name: (module.WORDS, module.WORDS_ZH) for name, module in PYTHON_TABLES.items()}
    found["cli.runs"] = (runs.PLOT_TITLES, runs.PLOT_TITLES_ZH)
    page = strings_js()
    found["playground"] = (page["en"], page["zh"])
    return found


def texts(value) -> list[str]:
    return list(value) if isinstance(value, tuple) else [value]


def placeholders(text: str) -> list[str]:
    return sorted(set(re.findall(r"\{(\w+)", text.replace("{{", "").replace("}}", ""))))


@pytest.mark.parametrize("name", sorted(tables()))
def test_every_word_is_in_both_languages_with_the_same_placeholders(name):
    en, zh = tables()[name]
    assert set(en) == set(zh), f"{name}: only English {set(en) - set(zh)}, only Chinese {set(zh) - set(en)}"
    for key in en:
        english, chinese = texts(en[key]), texts(zh[key])
        assert len(english) == len(chinese), (name, key)
        for a, b in zip(english, chinese, strict=True):
            assert a.strip() and b.strip(), (name, key)
            assert placeholders(a) == placeholders(b), (name, key, a, b)


def test_every_term_a_table_refers_to_is_in_the_glossary():
    glossary = i18n.glossary()
    referred = set()
    for name, (en, zh) in tables().items():
        for value in [*en.values(), *zh.values()]:
            for text in texts(value):
                for key in i18n.TERM.findall(text):
                    assert key in glossary, f"{name}: [[{key}]] is not in glossary.json"
                    referred.add(key)
    assert all(entry["en"] and entry["zh"] for entry in glossary.values())
    assert len(referred) > 40  # the tables do take their terms from it


def uses(english: str, key: str) -> bool:
    """Whether ``english`` uses the glossary term ``key`` (or one of its other forms)."""
    entry = i18n.glossary()[key]
    forms = [entry["en"], *entry.get("also", [])]
    return any(re.search(rf"(?<![\w-]){re.escape(form)}(?![\w(-])", english, re.IGNORECASE) for form in forms)


def assert_terms_follow(english: str, chinese: str, where: str) -> None:
    for key, entry in i18n.glossary().items():
        if uses(english, key):
            assert entry["zh"] in chinese, (
                f"{where}: {english!r} says {key!r}, but {chinese!r} lacks {entry['zh']}"
            )


def test_where_a_table_uses_a_glossary_term_its_chinese_is_the_glossarys():
    for name, (en, zh) in tables().items():
        for key in en:
            for a, b in zip(texts(en[key]), texts(zh[key]), strict=True):
                bare = re.sub(r"\{\w+[^}]*\}", "", a)  # the words, not the placeholders' names
                assert_terms_follow(bare, i18n.resolve(b, "zh"), f"{name}.{key}")


def test_chinese_tables_take_their_terms_from_the_glossary_not_their_own_words():
    """A Chinese term of two characters or more is written [[key]], never copied, so a term is
    changed in one place (one-character terms — 层, 批, 行, 列, 轮 — are ordinary words too)."""
    terms = {entry["zh"]: key for key, entry in i18n.glossary().items() if len(entry["zh"]) >= 2}
    for name, (_, zh) in tables().items():
        for key, value in zh.items():
            for text in texts(value):
                bare = i18n.TERM.sub("", text)
                copied = [term for term in terms if term in bare]
                assert not copied, f"{name}.{key}: {copied} written out; refer to [[{terms[copied[0]]}]]"


NETWORKS = [
    {"layer_dims": [12288, 20, 7, 5, 1], "m": 209},
    {"layer_dims": [4, 3, 3], "layout": "rows"},
    {"layer_dims": [4, 3, 1], "output_activation": "identity"},
    {
        "net": deepmat.Network(
            layers=[BatchNorm(), Dense(5, "relu", l2=0.01), BatchNorm(), Dropout(0.3), Dense(4, "identity"),
                    Activation("tanh"), Dense(3, "softmax")],
            input_dim=6,
        ),
        "m": 8,
    },
    {"net": deepmat.Network([4, 3, 1], loss="mse")},
]  # fmt: skip
NETWORKS.append({**NETWORKS[3], "layout": "rows"})
#: an equation or update line: a name, maybe its shape, then =, += or ←
EQUATION = re.compile(r"^[^\s\[]+\[\d+\]ᵀ? (\([^)]*\) )?\+?(=|←) ")


@pytest.mark.parametrize("case", range(len(NETWORKS)))
def test_explain_in_chinese_is_the_english_line_by_line_with_the_glossarys_terms(case):
    en, zh = (explain_lines(**NETWORKS[case], lang=lang) for lang in ("en", "zh"))
    assert [line.kind for line in en] == [line.kind for line in zh]
    for a, b in zip(en, zh, strict=True):
        if EQUATION.match(a.text):  # the same equation, but for the word "broadcast" (广播) and its note
            assert b.text.partition("  (")[0] == a.text.partition("  (")[0].replace(", broadcast", "，广播")
        assert_terms_follow(a.text, b.text, f"line {a.text!r}")


#: what may stay in Latin letters in the Chinese text: names of functions, layers, losses and
#: types, and the words of the equations' notation
NAMES = {
    "relu", "sigmoid", "tanh", "softmax", "identity", "leaky_relu", "log", "diag", "mean", "e",
    "Dense", "BatchNorm", "Dropout", "Activation", "deepmat", "float64", "float32", "label", "mse",
    "binary_cross_entropy", "cross_entropy", "a_k", "z_k", "z_j", "y_k",
}  # fmt: skip


def english_words(text: str) -> list[str]:
    """The words of ``text`` in Latin letters that are neither a name in the equations (a letter
    with an index, d-prefixed gradients, ``_F``, Σ_columns) nor one of :data:`NAMES`."""
    text = re.sub(r"Σ_\w+", "", text)
    words = re.findall(r"[A-Za-z][A-Za-z_0-9']*", text)
    return [
        w
        for w in words
        if not re.fullmatch(r"d?[A-Za-z](\w*\d\w*)?'?|[A-Z]\w*\d\w*|_?F", w) and w.rstrip("'") not in NAMES
    ]


def test_the_chinese_explanation_leaves_no_english_word_outside_its_equations_and_names(tmp_path):
    outputs = [explain(**case, lang="zh") for case in NETWORKS]
    outputs.append(deepmat.explain.summary(NETWORKS[3]["net"], lang="zh"))
    net = deepmat.Network([4, 5, 3], seed=0)
    X = np.random.default_rng(0).random((6, 4))
    for fmt in ("text", "markdown"):
        outputs.append(explain_values(net, X[:1], 2, format=fmt, lang="zh", about=["输入：样本 0"]))
    left = {word for text in outputs for word in english_words(text)}
    assert not left, f"English words in the Chinese explanation: {sorted(left)}"
    english = explain(**NETWORKS[0], lang="en")
    assert {"Forward", "propagation", "samples", "check"} <= set(english_words(english))  # the control


def test_explain_values_in_chinese_as_a_latex_document_for_xelatex():
    net = deepmat.Network([4, 5, 3], seed=0)
    x = np.arange(4.0).reshape(1, 4) / 4
    english = explain_values(net, x, 1, format="latex")
    chinese = explain_values(net, x, 1, format="latex", lang="zh")
    assert english.isascii() and "xeCJK" not in english  # pdflatex's, as it was
    head = chinese[: chinese.index(r"\begin{document}")]
    assert (
        r"\usepackage{xeCJK}" in head and r"\setCJKmainfont{Noto Sans CJK SC}" in head and "xelatex" in head
    )
    assert r"\documentclass{article}" in head and r"\usepackage{amsmath}" in head
    body = chinese[len(head) :]
    assert r"\section*{网络 [4, 5, 3] 的前向传播和反向传播}" in body and body.rstrip().endswith(
        r"\end{document}"
    )
    foreign = {ch for ch in body if not ch.isascii() and not deepmat.fonts.has_cjk(ch)}
    assert not foreign, f"characters neither ASCII nor CJK (xeCJK's): {foreign}"
    assert body.count("{") == body.count("}") and body.count(r"\[") == body.count(r"\]")


def test_the_words_of_the_explanation_follow_the_language_and_the_equations_do_not():
    en, zh = explain([2, 3, 1], m=4), explain([2, 3, 1], m=4, lang="zh")
    assert en.startswith("Forward and backward propagation of the network [2, 3, 1]")
    assert zh.startswith("网络 [2, 3, 1] 的前向传播和反向传播")
    for line in (
        "Z[1] (3×4) = W[1] (3×2) · A[0] (2×4) + b[1] (3×1",
        "dW[1] (3×2) = 1/m · dZ[1] (3×4) · A[0]ᵀ (4×2)",
    ):
        assert line in en and line in zh
    assert "核对矩阵的维数：W[1] 是 (n[1], n[0]) = (3, 2)" in zh and "样本个数 m = 4" in zh


# -- the playground page's keys ------------------------------------------------------------


def keys_the_page_uses() -> set[str]:
    """Every key the page's files ask the tables for: data-i18n attributes, t("…") and label(…)
    calls, and the keys built from a prefix — each setting's, choice's, feature's, health
    column's and error code's."""
    code = {path.name: path.read_text(encoding="utf-8") for path in STATIC.glob("*.[jh][st]*")}
    keys = set()
    for text in code.values():
        keys |= set(re.findall(r'data-i18n(?:-title)?="([\w.]+)"', text))
        keys |= set(re.findall(r'\bt\("([\w.]+)"', text))
        keys |= set(
            re.findall(r'"((?:controls|chart|steps|health|diverged|warning|language)\.[\w.]+)"', text)
        )
    fields = re.findall(r'\["(\w+)", "(?:select|range|number|checkboxes|layers)"', code["form.js"])
    assert len(fields) == 16
    keys |= {f"setting.{name}" for name in fields} | {f"setting.{name}.tip" for name in fields}
    choices = settings.options()["choices"]
    for name in ("dataset", "activation", "output", "init", "optimizer"):
        keys |= {f"{name}.{value}" for value in choices[name]}
    keys |= {f"loss.{value}" for values in choices["loss"].values() for value in values}
    keys |= {f"feature.{value}" for value in choices["features"]}
    columns = re.search(r"const COLUMNS = \[(.*?)\]", code["health.js"]).group(1)
    keys |= {f"health.{c}" for c in re.findall(r'"(\w+)"', columns) if c != "l"} | {"health.layer"}
    server = "".join((REPO / f"src/deepmat/playground/{name}").read_text() for name in ("app.py", "guard.py"))
    codes = set(
        re.findall(r'\(\s*\d{3},\s*"(\w+)"', server)
    )  # _error(404, "not_found", …), (403, "forbidden_host", …)
    assert {"bad_request", "forbidden_host", "too_large", "unknown_session"} <= codes
    keys |= {f"error.{c}" for c in codes} | {"error.network", "error.internal"}
    return keys


def test_every_key_the_playground_page_uses_is_in_every_table():
    page = strings_js()
    used = keys_the_page_uses()
    assert {
        "setting.dataset",
        "dataset.xor",
        "error.bad_request",
        "error.forbidden_host",
        "controls.pause",
    } <= used
    for lang, table in page.items():
        assert not used - set(table), f"{lang}: keys the page uses but strings.js lacks: {used - set(table)}"


# -- which language ---------------------------------------------------------------------------


def test_the_language_is_the_one_given_then_deepmat_lang_then_the_locale(monkeypatch):
    for variable in ("DEEPMAT_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(variable, raising=False)
    assert i18n.language() == "en"
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert i18n.language() == "zh"
    monkeypatch.setenv("LC_ALL", "C.UTF-8")  # LC_ALL before LANG
    assert i18n.language() == "en"
    monkeypatch.setenv("DEEPMAT_LANG", "zh")
    assert i18n.language() == "zh" and i18n.language("en") == "en"
    with pytest.raises(
        ValueError, match=r"unknown language 'xx'; expected one of: en \(English\), zh \(中文\)"
    ):
        i18n.language("xx")
    monkeypatch.setenv("DEEPMAT_LANG", "fr")
    with pytest.raises(ValueError, match=r"unknown language 'fr' \(from DEEPMAT_LANG\); expected one of: en"):
        i18n.language()


def run_explain(*flags: str, **env: str) -> subprocess.CompletedProcess:
    """``deepmat explain --layers 4,3,1 FLAGS`` in a process whose language variables are ``env``'s alone."""
    clean = {
        k: v for k, v in os.environ.items() if k not in ("DEEPMAT_LANG", "LC_ALL", "LC_MESSAGES", "LANG")
    }
    return subprocess.run(
        [sys.executable, "-m", "deepmat", "explain", "--layers", "4,3,1", *flags],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("flags", "env", "first"),
    [
        ((), {"LANG": "zh_CN.UTF-8"}, "网络 [4, 3, 1] 的前向传播和反向传播"),
        ((), {"LANG": "C"}, "Forward and backward propagation of the network [4, 3, 1]"),
        ((), {}, "Forward and backward propagation of the network [4, 3, 1]"),
        ((), {"LC_ALL": "zh_TW.UTF-8", "LANG": "C"}, "网络 [4, 3, 1] 的前向传播和反向传播"),
        ((), {"DEEPMAT_LANG": "zh", "LANG": "C"}, "网络 [4, 3, 1] 的前向传播和反向传播"),
        (
            ("--lang", "en"),
            {"DEEPMAT_LANG": "zh"},
            "Forward and backward propagation of the network [4, 3, 1]",
        ),
    ],
)
def test_the_command_takes_its_language_from_the_flag_the_variable_or_the_locale(flags, env, first):
    done = run_explain(*flags, **env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == first


def test_an_unknown_language_is_refused_with_the_valid_ones():
    done = run_explain("--lang", "xx")
    assert done.returncode == 2 and "unknown language 'xx'; valid choices: en, zh" in done.stderr
    done = run_explain(DEEPMAT_LANG="xx")
    assert done.returncode == 2
    assert (
        "unknown language 'xx' (from DEEPMAT_LANG); expected one of: en (English), zh (中文)" in done.stderr
    )
    assert main(["summary", "--lang", "klingon", "x.toml"]) == 2


def test_a_missing_word_raises_in_the_tests_and_falls_back_to_english_otherwise(monkeypatch):
    words = i18n.Words(en={"a": "cost J", "b": "layer"}, zh={"a": "[[cost]] J"})
    assert words("zh")["a"] == "代价 J"
    with pytest.raises(KeyError, match="no 'zh' words for 'b'"):
        words("zh")["b"]  # the tests run strict (tests/conftest.py)
    monkeypatch.setenv(i18n.STRICT_ENV, "0")
    assert words("zh")["b"] == "layer"
    with pytest.raises(KeyError, match=r"glossary\.json has no term 'nothing'"):
        i18n.resolve("[[nothing]]", "zh")
