"""Fonts for the plots: Chinese (and Japanese, Korean) text drawn with its glyphs, not as
empty boxes.

matplotlib's default font, DejaVu Sans, has no Chinese glyphs: a class named 猫 would be drawn
as a box. The plots ask for DejaVu Sans with a CJK font after it (matplotlib takes each glyph
from the first font of the list that has it). The CJK font is Noto Sans CJK — Debian's
``fonts-noto-cjk`` (``apt-get install fonts-noto-cjk``) — or, failing it, another common CJK
font matplotlib knows. A Noto file installed after matplotlib built its font cache is found
on disk and registered. With none, the plots still draw, and a warning says once that Chinese
text will be boxes and how to install the font.
"""

from __future__ import annotations

import glob
import warnings
from functools import cache
from typing import Any

#: CJK families the plots can use, in order of preference
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans CJK TC",
    "Noto Sans CJK JP",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "SimHei",
)
#: where Debian (and most Linux distributions) put Noto's CJK fonts
NOTO_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/**/NotoSansCJK*.tt[cf]",
)
#: the Debian package and the command that installs it
INSTALL = "apt-get install fonts-noto-cjk"
#: the font for everything else
BASE_FAMILY = "DejaVu Sans"


@cache
def cjk_family() -> str | None:
    """The CJK font family matplotlib will use, or None when the machine has none."""
    from matplotlib import font_manager

    known = {font.name for font in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in known:
            return family
    for pattern in NOTO_FILES:  # installed after matplotlib built its font cache
        for path in sorted(glob.glob(pattern, recursive=True)):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                continue
    known = {font.name for font in font_manager.fontManager.ttflist}
    return next((family for family in CJK_FAMILIES if family in known), None)


def has_cjk(text: str) -> bool:
    """Whether ``text`` holds a Chinese, Japanese or Korean character."""
    return any(
        "\u2e80" <= ch <= "\u9fff"
        or "\uac00" <= ch <= "\ud7af"
        or "\uf900" <= ch <= "\ufaff"
        or "\uff00" <= ch <= "\uffef"
        for ch in text
    )


def font_settings() -> dict[str, Any]:
    """matplotlib settings for the plots: DejaVu Sans, then the CJK font if there is one."""
    family = cjk_family()
    return {"font.family": [BASE_FAMILY, *([family] if family else [])]}


def check_text(texts: list[str]) -> None:
    """Warn (once per text set) when some text is Chinese and no CJK font is installed."""
    if cjk_family() is None and any(has_cjk(t) for t in texts):
        warnings.warn(
            f"the plots hold Chinese (or Japanese, Korean) text but this machine has no CJK font: it is "
            f"drawn as boxes; install one with: {INSTALL}",
            UserWarning,
            stacklevel=3,
        )
