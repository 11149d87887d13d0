"""The learners' own language: which language deepmat writes its words in, and the one
glossary of terms that every table of words takes its terms from.

- :func:`language`: the language to write in — the one given (``--lang``, ``lang=``), else
  ``DEEPMAT_LANG``, else the locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``: the first one set;
  a Chinese one, ``zh_CN.UTF-8``, gives ``zh``), else English. An unknown language is an error
  that lists the valid ones.
- :func:`term`: a term of ``glossary.json`` in a language (``term("cost_function", "zh")`` is
  代价函数, the seeds' word).
- :class:`Words`: a module's words in every language (``WORDS`` in English, ``WORDS_ZH`` in
  Chinese, same keys); a text refers to a glossary term as ``[[key]]``, so a term is translated
  once, in the glossary, and every table — explain's, the report's, the playground page's
  ``static/strings.js`` — reads it from there.

Only the words change: equations, names and shapes (``Z[1] (20×209) = W[1] (20×12288) · …``)
are the same in every language. English is the default and its text is the tables' ``WORDS``
as they always were.

>>> language("zh"), term("forward_propagation", "zh"), term("forward_propagation", "en")
('zh', '前向传播', 'forward propagation')
>>> resolve("[[cost_function]] J", "zh")
'代价函数 J'
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

#: the languages deepmat writes, and how each names itself
LANGUAGES = {"en": "English", "zh": "中文"}
DEFAULT = "en"
#: the environment variable that chooses the language
ENV = "DEEPMAT_LANG"
#: the locale variables read, in the order the C library reads them
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")
#: set to 1 (the tests do), a word missing from a language's table raises instead of falling
#: back to English
STRICT_ENV = "DEEPMAT_I18N_STRICT"
#: the glossary: each term's key, English and Chinese, and the seed it comes from
GLOSSARY = Path(__file__).with_name("glossary.json")
#: a reference to a glossary term inside a text: ``[[cost_function]]``
TERM = re.compile(r"\[\[(\w+)\]\]")


def _check(lang: str, source: str) -> str:
    if lang not in LANGUAGES:
        valid = ", ".join(f"{key} ({name})" for key, name in LANGUAGES.items())
        raise ValueError(f"unknown language {lang!r}{source}; expected one of: {valid}")
    return lang


def language(lang: str | None = None) -> str:
    """The language to write in: ``lang`` if given, else ``DEEPMAT_LANG``, else ``zh`` when
    the locale is a Chinese one, else ``en``.

    Raises:
        ValueError: ``lang`` or ``DEEPMAT_LANG`` is not a key of :data:`LANGUAGES` (the
            message lists them).
    """
    if lang is not None:
        return _check(lang, "")
    chosen = os.environ.get(ENV, "")
    if chosen:
        return _check(chosen, f" (from {ENV})")
    for variable in LOCALE_VARIABLES:
        value = os.environ.get(variable, "")
        if value:
            return "zh" if value.lower().startswith("zh") else DEFAULT
    return DEFAULT


@cache
def glossary() -> dict[str, dict[str, Any]]:
    """The terms of ``glossary.json`` by key: ``{"en": …, "zh": …, "seed": …}`` each."""
    return json.loads(GLOSSARY.read_text(encoding="utf-8"))["terms"]


def term(key: str, lang: str = DEFAULT) -> str:
    """The glossary's term ``key`` in ``lang``.

    Raises:
        KeyError: no such term (the message names it).
    """
    terms = glossary()
    if key not in terms:
        raise KeyError(f"glossary.json has no term {key!r}")
    return terms[key][_check(lang, "")]


def resolve(text: str, lang: str) -> str:
    """``text`` with every ``[[key]]`` replaced by the glossary's term in ``lang``."""
    return TERM.sub(lambda match: term(match.group(1), lang), text)


def strict() -> bool:
    """Whether a missing word raises (``DEEPMAT_I18N_STRICT=1``) rather than falls back to English."""
    return os.environ.get(STRICT_ENV, "") not in ("", "0")


class Words:
    """A module's words in every language: ``Words(en=WORDS, zh=WORDS_ZH)``; ``words(lang)``
    is the table of ``lang``, its texts' ``[[key]]`` terms taken from the glossary.

    A key missing from a language falls back to English — or, when :func:`strict`, raises
    ``KeyError`` naming the key and the language (the tests run strict)."""

    def __init__(self, **tables: Mapping[str, Any]) -> None:
        self.tables = tables

    def __call__(self, lang: str = DEFAULT) -> _Table:
        return _Table(self.tables, _check(lang, ""))


class _Table(Mapping[str, Any]):
    def __init__(self, tables: Mapping[str, Mapping[str, Any]], lang: str) -> None:
        self.tables = tables
        self.lang = lang

    def __getitem__(self, key: str) -> Any:
        table = self.tables.get(self.lang, {})
        if key not in table:
            if strict() or key not in self.tables[DEFAULT]:
                raise KeyError(f"no {self.lang!r} words for {key!r}")
            return self.tables[DEFAULT][key]
        value = table[key]
        if isinstance(value, tuple):
            return tuple(resolve(v, self.lang) for v in value)
        return resolve(value, self.lang)

    def __iter__(self):
        return iter(self.tables[DEFAULT])

    def __len__(self) -> int:
        return len(self.tables[DEFAULT])
