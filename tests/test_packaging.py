"""What installing deepmat gives: ``import deepmat`` needs NumPy alone; the extras match the
commands (``deepmat[cli]`` is what ``deepmat train`` uses); without matplotlib or tqdm
``deepmat train`` still finishes its run and exits 0; the wheel ships py.typed and the LICENSE."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import select
import shutil
import struct
import subprocess
import sys
import termios
import time
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
#: what `deepmat train --data digits` writes however the machine is equipped (the plots aside)
RUN_CORE = (
    "model.safetensors", "config.json", "metrics.json", "history.csv", "checkpoint.safetensors", "report.html",
)  # fmt: skip
PLOTS = ("loss.png", "accuracy.png", "confusion_matrix.png", "misclassified.png")
USUAL = ["loss", "accuracy", "val_loss", "val_accuracy", "lr", "time"]


# -- import deepmat needs NumPy alone ----------------------------------------------------------


def test_import_deepmat_imports_no_optional_library():
    optional = (
        "matplotlib", "tqdm", "h5py", "PIL", "sklearn", "scipy", "pandas", "torch", "onnx", "onnxruntime",
        "safetensors", "mpi4py", "pdoc", "deepmat.cli", "starlette", "uvicorn", "deepmat.playground",
    )  # fmt: skip
    code = f"import sys, deepmat; print([m for m in {optional!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


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


def test_the_playground_extra_is_what_deepmat_playground_serves_with():
    assert {"starlette", "uvicorn", "safetensors"} <= requirements("playground") <= requirements("all")
    assert "playwright" in requirements("test")


def test_all_includes_cli_and_the_tests_include_all_and_pdoc():
    assert requirements("cli") <= requirements("all")
    assert requirements("all") | {"pytest", "pdoc"} <= requirements("test")
    install = (REPO / "scripts" / "install.sh").read_text()
    # the main job installs deepmat[cli]; --tests (what CI runs) deepmat[test]
    assert 'extras="cli"' in install and 'extras="test"' in install and '-e ".[$extras]"' in install


def test_the_wheel_ships_py_typed_and_the_license(tmp_path):
    pytest.importorskip("setuptools", minversion="77")
    source = tmp_path / "source"  # a copy, so building leaves nothing in the repository
    shutil.copytree(REPO / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), "."],
        cwd=source, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    import zipfile

    (wheel,) = tmp_path.glob("deepmat-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "deepmat/py.typed" in names
    assert "deepmat/i18n/glossary.json" in names  # the terms of every table of words, and the page's
    assert "deepmat/playground/static/strings.js" in names
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)
    assert "MIT License" in (REPO / "LICENSE").read_text() and PYPROJECT["project"]["license"] == "MIT"


def test_the_changelog_lists_what_is_unreleased_and_0_1_0():
    text = (REPO / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in text and f"## [{PYPROJECT['project']['version']}]" in text


# -- deepmat train without matplotlib or tqdm ---------------------------------------------------


def without(tmp_path: Path, *modules: str) -> dict[str, str]:
    """An environment in which ``import module`` fails as for a library that is not installed:
    a folder first on PYTHONPATH holds a package of that name that raises ModuleNotFoundError."""
    blocked = tmp_path / "blocked"
    for module in modules:
        (blocked / module).mkdir(parents=True)
        (blocked / module / "__init__.py").write_text(
            f"raise ModuleNotFoundError({f'No module named {module!r}'!r}, name={module!r})\n"
        )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(blocked), env.get("PYTHONPATH")]))
    return env


def test_without_starlette_deepmat_playground_says_what_to_install(tmp_path):
    command = [sys.executable, "-m", "deepmat", "playground", "--port", "0", "--no-browser"]
    result = subprocess.run(
        command, env=without(tmp_path, "starlette"), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert result.stderr.startswith("deepmat: error: deepmat playground needs starlette and uvicorn")
    assert "pip install 'deepmat[playground]'" in result.stderr and "Traceback" not in result.stderr


TRAIN = [sys.executable, "-m", "deepmat", "train", "--data", "digits", "--epochs", "1"]


def test_without_matplotlib_train_finishes_names_the_skipped_plots_and_exits_0(tmp_path):
    pytest.importorskip("sklearn")
    out = tmp_path / "run"
    result = subprocess.run(
        [*TRAIN, "--out", str(out)],
        env=without(tmp_path, "matplotlib"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        "deepmat: plots skipped, matplotlib is not installed: loss.png, accuracy.png, confusion_matrix.png, "
        "misclassified.png; pip install 'deepmat[plot]' draws them (or 'deepmat[cli]', everything deepmat "
        "train uses)\n"
    )
    for name in RUN_CORE:
        assert (out / name).is_file(), name
    assert not any((out / name).exists() for name in PLOTS)
    assert "No plots: matplotlib is not installed" in (out / "report.html").read_text(encoding="utf-8")
    assert "test accuracy:" in result.stdout and "Traceback" not in result.stdout


def run_in_terminal(command: list[str], env: dict[str, str], columns: int = 80) -> tuple[int, str, str]:
    """Run ``command`` with its standard output on a terminal ``columns`` wide (a pseudo-terminal);
    return its exit status, what it wrote there (line ends as ``\\n``) and its standard error."""
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE, env=env
    )
    os.close(slave)
    chunks, deadline = [], time.monotonic() + 300
    with contextlib.closing(process.stderr):
        while time.monotonic() < deadline:
            if not select.select([master], [], [], 1.0)[0]:
                continue
            try:
                chunk = os.read(master, 1 << 16)
            except OSError:  # EIO: the last writer has closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(master)
        status = process.wait(timeout=60)
        stderr = process.stderr.read().decode()
    return status, b"".join(chunks).decode().replace("\r\n", "\n"), stderr


def epoch_rows(screen: str) -> tuple[str, list[str]]:
    """The header and the epoch rows a terminal shows at the end (after each line's last ``\\r``)."""
    lines = [line.split("\r")[-1] for line in screen.split("\n")]
    header = next(line for line in lines if line.split()[:1] == ["loss"])
    return header, [line for line in lines if line.startswith("epoch ")]


@pytest.mark.parametrize("tqdm_installed", [True, False])
def test_in_a_terminal_80_columns_wide_the_progress_fits(tqdm_installed, tmp_path):
    pytest.importorskip("sklearn")
    if tqdm_installed:
        pytest.importorskip("tqdm")
    env = without(tmp_path, *([] if tqdm_installed else ["tqdm"]))
    status, screen, stderr = run_in_terminal([*TRAIN, "--epochs", "2", "--out", str(tmp_path / "run")], env)
    assert status == 0, stderr
    assert "Traceback" not in stderr and "tqdm" not in stderr  # nothing alarming without it
    assert ("it/s" in screen) is tqdm_installed  # the bar, or plain rows
    header, rows = epoch_rows(screen)
    drawn = screen.replace("\r", "\n").split("\n")  # every bar drawn, every row, the header
    progress = [line for line in drawn if line.startswith("epoch ") or line == header]
    assert len(progress) > len(rows) if tqdm_installed else len(progress) == len(rows) + 1
    for line in progress:
        assert len(line) <= 80, line
    assert header.split() == USUAL
    assert [row.split()[:2] for row in rows] == [["epoch", "1/2"], ["epoch", "2/2"]]
    assert all(len(row.split()) == 2 + 5 + 2 for row in rows)  # the label, 5 metrics, the time
    assert re.search(r"^trained 2 epochs in \d+(\.\d+)? m?s$", screen, re.MULTILINE)
    assert (tmp_path / "run" / "model.safetensors").is_file()
