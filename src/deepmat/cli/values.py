"""The values the command line takes, one validator per kind, shared by the flags and the
config files: each turns a flag's text or a TOML value into the value itself, or raises
``ValueError("expected …; received …")`` (the caller adds where it came from)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Iterable
from typing import Any

from deepmat.i18n import LANGUAGES


def choice(kind: str, options: Callable[[], Iterable[str]]) -> Callable[[Any], str]:
    """A name among ``options()`` — read when a value is checked, so a name registered after
    import (an activation, say) is accepted; ``-`` may stand for ``_``."""

    def check(value: Any) -> str:
        valid = tuple(options())
        text = value.strip().lower().replace("-", "_") if isinstance(value, str) else value
        if text not in valid:
            raise ValueError(f"unknown {kind} {value!r}; valid choices: {', '.join(valid)}")
        return text

    check.__name__ = kind.replace(" ", "_")
    return check


def _integer(value: Any, minimum: int, what: str, maximum: int | None = None) -> int:
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise ValueError(f"expected {what}; received {value!r}") from None
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < minimum
        or (maximum is not None and value > maximum)
    ):
        raise ValueError(f"expected {what}; received {value!r}")
    return value


def _number(value: Any) -> float:
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise ValueError(f"expected a number; received {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number; received {value!r}")
    return float(value)


def positive_int(value: Any) -> int:
    return _integer(value, 1, "a positive integer")


def natural(value: Any) -> int:
    return _integer(value, 0, "an integer ≥ 0")


def seed(value: Any) -> int:
    return _integer(value, 0, "a seed, an integer ≥ 0")


def port(value: Any) -> int:
    return _integer(value, 0, "a port, an integer from 0 (any free port) to 65535", 65535)


def host(value: Any) -> str:
    """A host name or address to listen on: letters, digits, '.', '-', ':' (IPv6)."""
    if not isinstance(value, str) or not value or any(not (c.isalnum() or c in ".-:") for c in value):
        raise ValueError(
            f"expected a host name or address such as 127.0.0.1 or localhost; received {value!r}"
        )
    return value


def verbose(value: Any) -> int:
    return _integer(value, 0, "0, 1 or 2", 2)


def positive_float(value: Any) -> float:
    number = _number(value)
    if not number > 0 or not math.isfinite(number):
        raise ValueError(f"expected a positive number; received {value!r}")
    return number


def non_negative_float(value: Any) -> float:
    number = _number(value)
    if not number >= 0 or not math.isfinite(number):
        raise ValueError(f"expected a number ≥ 0; received {value!r}")
    return number


def dropout(value: Any) -> float:
    number = _number(value)
    if not 0 <= number < 1:
        raise ValueError(f"expected a dropout rate in [0, 1); received {value!r}")
    return number


def split(value: Any) -> float:
    number = _number(value)
    if not 0 <= number < 1:
        raise ValueError(f"expected a fraction in [0, 1) (0: no validation); received {value!r}")
    return number


def flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false; received {value!r}")
    return value


def text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a non-empty string; received {value!r}")
    return value


def layers(value: Any) -> list[int]:
    expected = (
        "layer sizes n[0],…,n[L] such as 784,256,10, or hidden sizes such as 256,128 (positive integers)"
    )
    if isinstance(value, str):
        parts = [part.strip() for part in value.split(",")]
        try:
            value = [int(part) for part in parts]
        except ValueError:
            raise ValueError(f"expected {expected}; received {', '.join(parts)!r}") from None
    if (
        not isinstance(value, list)
        or len(value) < 1
        or any(isinstance(n, bool) or not isinstance(n, int) or n <= 0 for n in value)
    ):
        raise ValueError(f"expected {expected}; received {value!r}")
    return value


def class_names(value: str) -> list[str]:
    """Two or more comma-separated class names (``deepmat predict --classes``)."""
    names = [name.strip() for name in value.split(",")]
    if len(names) < 2 or not all(names):
        raise ValueError(f"expected two or more comma-separated class names; received {value!r}")
    return names


def argument_type(check: Callable[[Any], Any]) -> Callable[[str], Any]:
    """An argparse ``type`` from a validator: the same checks and messages, as a usage error
    naming the flag."""

    def convert(value: str) -> Any:
        try:
            return check(value)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    convert.__name__ = getattr(check, "__name__", "value")
    return convert


def add_language(parser: argparse.ArgumentParser, what: str) -> None:
    """``--lang en|zh``: the language of ``what`` (:mod:`deepmat.i18n`; the command resolves an
    absent flag with :func:`deepmat.i18n.language`)."""
    parser.add_argument(
        "--lang",
        type=argument_type(choice("language", lambda: tuple(LANGUAGES))),
        metavar="|".join(LANGUAGES),
        help=f"the language of {what}: en (English) or zh (中文, the seed articles' terms); default: "
        "DEEPMAT_LANG, else zh for a Chinese locale, else en",
    )
