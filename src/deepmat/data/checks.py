"""The checks every loader of :mod:`deepmat.data` starts with: the path it was given is a file
(or a folder), and the optional package it needs is installed.

Each failure is one clear exception naming the path or the package:

- :func:`existing_file`, :func:`existing_folder`: ``FileNotFoundError`` "``<what> '<path>'`` does
  not exist" (or "is not a file" / "is not a folder"), followed by what was expected;
- :func:`optional_import`: ``ImportError`` ending in :data:`INSTALL_ADVICE`.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

#: How to install the optional packages of the loaders (h5py, Pillow, scikit-learn).
INSTALL_ADVICE = "install it with: pip install deepmat[data]"


def existing_file(path: str | os.PathLike, what: str, expected: str = "") -> Path:
    """``Path(path)``, or FileNotFoundError ``"<what> '<path>' does not exist; <expected>"``
    (or ``is not a file``) when it is not a file."""
    return _existing(Path(path), Path.is_file, "file", what, expected)


def existing_folder(path: str | os.PathLike, what: str, expected: str = "") -> Path:
    """``Path(path)``, or FileNotFoundError ``"<what> '<path>' does not exist; <expected>"``
    (or ``is not a folder``) when it is not a folder."""
    return _existing(Path(path), Path.is_dir, "folder", what, expected)


def _existing(path: Path, is_kind: Callable[[Path], bool], kind: str, what: str, expected: str) -> Path:
    if not is_kind(path):
        state = f"is not a {kind}" if path.exists() else "does not exist"
        raise FileNotFoundError(f"{what} {str(path)!r} {state}{'; ' + expected if expected else ''}")
    return path


def optional_import(module: str, purpose: str) -> ModuleType:
    """``importlib.import_module(module)``, or ImportError ``"<purpose>; install it with: pip
    install deepmat[data]"`` when it is not installed."""
    try:
        importlib.import_module(
            module.partition(".")[0]
        )  # the package first, as `from PIL import Image` does
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(f"{purpose}; {INSTALL_ADVICE}") from error
