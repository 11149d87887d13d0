"""Build the API reference: one HTML page per public module of deepmat, from its docstrings.

    python3 scripts/build_api_docs.py [OUT_DIR]        # default: docs/api/

Offline: pdoc (``pip install pdoc``, in the ``test`` extra) renders the pages from the
installed or checked-out package, with no network access and nothing fetched at view time.
Open ``OUT_DIR/index.html``; ``OUT_DIR/deepmat/network.html`` is :mod:`deepmat.network`, and
so on. A public module is every module of the package whose dotted name has no part that
starts with an underscore (``deepmat._checks`` and ``deepmat.__main__`` are left out). The
pages are generated, not kept: ``docs/api/`` is in ``.gitignore``.

Exit status: 0 built; 1 pdoc or a module's optional dependency is missing (the line says
which and how to install it); 2 a usage error.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "docs" / "api"
PACKAGE = "deepmat"


def public_modules(package: str = PACKAGE) -> list[str]:
    """The dotted names of ``package`` and of every public module below it, sorted."""
    root = importlib.import_module(package)
    names = [package]
    for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return sorted(names)


def build(out: Path) -> list[str]:
    """Render every public module of deepmat into ``out``; return the modules' names.

    Raises:
        ImportError: pdoc is not installed, or a module cannot be imported (an optional
            dependency of deepmat is missing); the message says what to install.
    """
    try:
        import pdoc
        import pdoc.render
    except ImportError as error:
        raise ImportError(
            "building the API reference needs pdoc: pip install pdoc (or deepmat[test])"
        ) from error
    modules = public_modules()
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as error:
            raise ImportError(
                f"{name} cannot be imported ({error}); install deepmat's extras: pip install 'deepmat[all]'"
            ) from error
    pdoc.render.configure(
        docformat="google",  # Args:/Returns:/Raises: sections; pdoc also reads the :class:`…` roles
        footer_text=f"deepmat {importlib.import_module(PACKAGE).__version__}",
        search=True,
        show_source=True,
    )
    out.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # pdoc cannot evaluate the string annotations of a dataclass's generated __init__
        # (``from __future__ import annotations``); the pages show them as written
        warnings.filterwarnings("ignore", "Error parsing type annotation", UserWarning)
        # every module by name: pdoc walks a package's submodules only as far as its __all__
        # lists them, and says so when a module it walked is named again
        warnings.filterwarnings("ignore", "The module specification", UserWarning)
        pdoc.pdoc(*modules, output_directory=out)
    return modules


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "out",
        nargs="?",
        type=Path,
        default=DEFAULT_OUT,
        help=f"the folder of the pages (default: {DEFAULT_OUT})",
    )
    args = parser.parse_args(argv)
    try:
        modules = build(args.out)
    except ImportError as error:
        print(f"build_api_docs: error: {error}", file=sys.stderr)
        return 1
    print(f"API reference: {len(modules)} modules in {args.out} (open {args.out / 'index.html'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
