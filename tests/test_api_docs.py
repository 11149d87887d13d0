"""The API reference: ``python3 scripts/build_api_docs.py OUT_DIR`` builds one HTML page per
public module of deepmat from its docstrings, offline — run here with every socket refused."""

from __future__ import annotations

import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "build_api_docs.py"

#: the names a reader comes to each module's page for
MAIN_NAMES = {
    "deepmat": ["Network", "load", "Dense", "EarlyStopping", "gradcheck", "from_torch"],
    "deepmat.network": ["Network", "load"],
    "deepmat.functional": ["L_model_forward", "L_model_backward", "linear_backward", "compute_cost"],
    "deepmat.layers": ["Dense", "Activation", "Dropout", "BatchNorm", "LAYERS"],
    "deepmat.data": ["load_dataset", "Dataset", "DATASETS"],
    "deepmat.training": ["fit", "Trainer", "TrainingDiverged"],
    "deepmat.io": ["write_model", "read_model", "atomic_write"],
    "deepmat.sklearn": ["DeepmatClassifier", "DeepmatRegressor"],
    "deepmat.callbacks": ["Callback", "EarlyStopping", "History", "ProgressBar"],
    "deepmat.optimizers": ["SGD", "Adam", "OPTIMIZERS"],
    "deepmat.schedules": ["CosineDecay", "SCHEDULES"],
    "deepmat.activations": ["ACTIVATIONS", "register_activation"],
    "deepmat.formatting": ["duration", "number", "learning_rate"],
    "deepmat.cli": ["main"],
}

#: a script run in place of build_api_docs.py's own __main__, with the network unreachable
OFFLINE = """
import runpy, socket, sys

def refuse(*args, **kwargs):
    raise OSError("the API reference must build offline")

socket.socket.connect = socket.socket.connect_ex = refuse
socket.create_connection = socket.getaddrinfo = refuse
sys.argv = [sys.argv[1], sys.argv[2]]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


#: deepmat and every module below it with no part of its name starting with an underscore
public_modules = runpy.run_path(str(SCRIPT))["public_modules"]


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> Path:
    pytest.importorskip("pdoc")
    out = tmp_path_factory.mktemp("api")
    result = subprocess.run(
        [sys.executable, "-c", OFFLINE, str(SCRIPT), str(out)], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"API reference: \d+ modules in .*\n", result.stdout), result.stdout
    return out


def page(out: Path, module: str) -> Path:
    return out.joinpath(*module.split(".")).with_suffix(".html")


@pytest.mark.parametrize("module", public_modules())
def test_every_public_module_has_a_page(pages, module):
    html = page(pages, module).read_text()
    assert f"<title>{module} API documentation</title>" in html
    for name in MAIN_NAMES.get(module, []):
        assert f'id="{name}"' in html, f"{module}: {name}"


def test_the_pages_cover_the_main_modules_and_no_private_one(pages):
    assert set(MAIN_NAMES) <= set(public_modules())
    assert (pages / "index.html").is_file()
    assert not page(pages, "deepmat._checks").exists()


def test_the_pages_load_nothing_from_the_network(pages):
    for html in pages.rglob("*.html"):
        assert not re.search(r"<(script|link|img)\b[^>]*\b(src|href)=\"(https?:)?//", html.read_text()), html


def test_the_docstrings_read_as_written(pages):
    """Google sections become lists, reST roles become links between the pages."""
    formatting = page(pages, "deepmat.formatting").read_text()
    assert "A duration with the precision a reader can use" in formatting
    assert "<strong>ValueError:</strong>" in formatting  # the Raises: section
    callbacks = page(pages, "deepmat.callbacks").read_text()
    assert '<code><a href="formatting.html">deepmat.formatting</a></code>' in callbacks  # :mod:`…`
