"""Numbers and durations written for people: what the progress lines and the command line print.

One place decides how a metric, a learning rate and a time look, so every line deepmat
prints agrees (files keep full precision: ``history.csv`` and ``metrics.json`` are not
written through here).

>>> number(0.58912), number(0.9), number(1234.5), number(3.2e-05)
('0.5891', '0.9000', '1234', '3.200e-05')
>>> learning_rate(0.001), learning_rate(0.0075), learning_rate(2.739e-06)
('1e-03', '7.5e-03', '2.74e-06')
>>> duration(0.038), duration(0.42), duration(12.34), duration(125), duration(4000)
('38 ms', '0.42 s', '12.3 s', '2 min 05 s', '1 h 07 min')
"""

from __future__ import annotations

import math

from deepmat._checks import check_number

__all__ = ["duration", "learning_rate", "number"]


def number(value: float) -> str:
    """``value`` with 4 significant digits, as short as that allows: fixed-point from 0.001
    to 9999 (trailing zeros kept, so a column of them lines up: ``0.9000``), scientific
    outside (``3.200e-05``); ``0``, ``nan``, ``inf`` and ``-inf`` as such."""
    value = float(value)
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    if 1e-3 <= abs(value) < 9999.5:
        text = f"{value:#.4g}"
        if "e" not in text:
            return text.rstrip(".")
    return f"{value:.3e}"


def learning_rate(value: float) -> str:
    """A learning rate in scientific notation with at most 3 significant digits and no
    trailing zeros: ``1e-03``, ``7.5e-03``, ``2.74e-06`` (``0`` for zero)."""
    value = float(value)
    if value == 0 or not math.isfinite(value):
        return number(value)
    mantissa, exponent = f"{value:.2e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{exponent}"


def duration(seconds: float) -> str:
    """A duration with the precision a reader can use: ``38 ms``, ``0.42 s``, ``4.21 s``,
    ``12.3 s``, ``2 min 05 s``, ``1 h 07 min`` (about 3 significant figures below a minute,
    whole seconds below an hour, whole minutes above).

    Raises:
        ValueError: ``seconds`` is negative or not finite (``TypeError`` too: not a number).
    """
    seconds = check_number(seconds, "seconds", 0)
    if seconds < 0.00995:
        return f"{seconds * 1000:.1f} ms"
    if seconds < 0.0995:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 9.995:
        return f"{seconds:.2f} s"
    if seconds < 59.95:
        return f"{seconds:.1f} s"
    if seconds < 3599.5:
        minutes, rest = divmod(round(seconds), 60)
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes:02d} min"
