"""What installing deepmat gives: the extras match the commands (``deepmat[cli]`` is what
``deepmat train`` uses)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


# -- the extras ---------------------------------------------------------------------------------


def requirements(extra: str) -> set[str]:
    """The distributions ``pip install deepmat[extra]`` installs, with deepmat's own extras
    (``deepmat[io,plot]``) expanded, names lower-cased and without versions."""
    names = set()
    for requirement in PYPROJECT["project"]["optional-dependencies"][extra]:
        nested = re.fullmatch(r"deepmat\[([\w,\s-]+)\]", requirement)
        if nested:
            for name in nested.group(1).split(","):
                names |= requirements(name.strip())
        else:
            names.add(re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower())
    return names


def test_the_cli_extra_is_what_deepmat_train_uses():
    assert {"safetensors", "matplotlib", "tqdm", "h5py", "pillow", "scikit-learn"} <= requirements("cli")


def test_all_includes_cli_and_the_tests_include_all():
    assert requirements("cli") <= requirements("all")
    assert requirements("all") | {"pytest"} <= requirements("test")
    assert '-e ".[test]"' in (REPO / "scripts" / "install.sh").read_text()  # what CI installs
