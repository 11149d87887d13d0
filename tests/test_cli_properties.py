"""The command line driven with generated arguments and config files (hypothesis): whatever
it is given, it exits with 0, 1 or 2, never prints a traceback, and writes nothing outside
the run folder it was told (or, for ``export``, the file it was told)."""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from deepmat import Network
from deepmat.cli import main

# values: valid ones of every kind, and junk
JUNK = st.sampled_from(
    ["", "-1", "0", "nan", "inf", "1e999", "x", "3.5", "-0", "1,2", "🙂", "../..", "None", "true"]
)
SMALL_INT = st.integers(min_value=-2, max_value=3).map(str)
FRACTION = st.sampled_from(["0", "0.1", "0.5", "0.99", "1", "1.5", "-0.1"])
NAMES = st.sampled_from(
    [
        "relu",
        "tanh",
        "sigmoid",
        "softmax",
        "identity",
        "adam",
        "sgd",
        "he",
        "zeros",
        "cosine",
        "none",
        "float32",
        "float64",
        "bogus",
    ]
)
LAYERS = st.lists(st.integers(min_value=-1, max_value=12), min_size=0, max_size=4).map(
    lambda v: ",".join(map(str, v))
)
VALUE = st.one_of(JUNK, SMALL_INT, FRACTION, NAMES, LAYERS)

TRAIN_FLAGS = [
    "--layers", "--activation", "--output-activation", "--epochs", "--batch-size", "--optimizer",
    "--learning-rate", "--schedule", "--dropout", "--l2", "--init", "--dtype", "--seed",
    "--validation-split", "--early-stopping", "--iterations", "--verbose",
]  # fmt: skip
TOML_KEYS = {
    "model": ["layers", "activation", "output_activation", "init", "dropout", "batch_norm", "l2", "dtype", "seed", "bogus"],
    "train": ["epochs", "batch_size", "optimizer", "learning_rate", "schedule", "iterations", "validation_split", "verbose", "print_every"],
    "data": ["name", "dir"],
    "bogus": ["x"],
}  # fmt: skip
TOML_VALUE = st.one_of(
    st.integers(min_value=-2, max_value=3).map(str),
    st.sampled_from(
        [
            '"relu"',
            '"adam"',
            '"cosine"',
            '"float32"',
            '"x"',
            "true",
            "0.5",
            "1e999",
            "[4, 3]",
            "[4, 0, 3]",
            '"inputs/tiny.npz"',
            "[[1]]",
            '"../../elsewhere"',
        ]
    ),
)


@st.composite
def toml_text(draw) -> str:
    lines = []
    for section in draw(st.lists(st.sampled_from(list(TOML_KEYS)), max_size=3, unique=True)):
        lines.append(f"[{section}]")
        for key in draw(st.lists(st.sampled_from(TOML_KEYS[section]), max_size=3, unique=True)):
            lines.append(f"{key} = {draw(TOML_VALUE)}")
    return "\n".join(lines) + draw(st.sampled_from(["\n", "\n[model\n", "\nkey = \n", "\n"]))


@st.composite
def command(draw) -> list[str]:
    name = draw(
        st.sampled_from(
            ["train", "train", "train", "evaluate", "predict", "summary", "explain", "export", "gradcheck"]
        )
    )
    args = [name]
    if name == "train":
        if draw(st.booleans()):
            args.append("config.toml")
        args += [
            "--data",
            draw(st.sampled_from(["inputs/tiny.npz", "inputs/tiny.npz", "digits", "nosuch", "inputs"])),
        ]
        for flag in draw(st.lists(st.sampled_from(TRAIN_FLAGS), max_size=4, unique=True)):
            args += [flag, draw(VALUE)]
        args += draw(
            st.sampled_from(
                [
                    [],
                    ["--out", "out"],
                    ["--out", "out", "--overwrite"],
                    ["--resume", "inputs/model.safetensors"],
                ]
            )
        )
    elif name in ("evaluate", "gradcheck"):
        args += [
            draw(st.sampled_from(["inputs/model.safetensors", "config.toml", "inputs/missing", "inputs"]))
        ]
        args += [draw(st.sampled_from(["inputs/tiny.npz", "digits", "x"]))] if name == "evaluate" else []
    elif name == "predict":
        args += [
            "inputs/model.safetensors",
            draw(st.sampled_from(["inputs/rows.csv", "inputs/tiny.npz", "inputs", "nothing"])),
        ]
        if draw(st.booleans()):
            args += ["--top-k", draw(VALUE)]
    elif name in ("summary", "explain"):
        args += [draw(st.sampled_from(["inputs/model.safetensors", "config.toml"]))]
        if name == "explain" and draw(st.booleans()):
            args = ["explain", "--layers", draw(LAYERS), "--batch", draw(VALUE)]
    else:
        args += [
            "inputs/model.safetensors",
            "-o",
            "exported.onnx",
            "--opset",
            draw(st.sampled_from(["13", "17", "0", "99", "x"])),
        ]
    return args


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file()
    }


def allowed(path: str, args: list[str]) -> bool:
    """Where the command was told it may write: its run folder, or the exported file."""
    if args[0] == "train" and "--resume" in args:  # a resumed run writes beside its checkpoint
        return path.startswith(os.path.dirname(args[args.index("--resume") + 1]) + os.sep)
    if args[0] == "train":
        out = args[args.index("--out") + 1] if "--out" in args else "runs"
        return path.startswith(out + os.sep) or (path.startswith("runs" + os.sep) and "--out" not in args)
    if args[0] == "export":
        return path == "exported.onnx"
    return False


def inputs(root: Path) -> None:
    folder = root / "inputs"
    folder.mkdir()
    rng = np.random.default_rng(0)
    X, y = rng.random((24, 4)), np.arange(24) % 3
    np.savez(folder / "tiny.npz", X_train=X[:16], y_train=y[:16], X_test=X[16:], y_test=y[16:])
    Network([4, 5, 3], "relu", "softmax", seed=0, dtype="float32").save(folder / "model.safetensors")
    np.savetxt(folder / "rows.csv", X[:3], delimiter=",")


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(args=command(), config=toml_text())
def test_any_arguments_exit_0_1_or_2_without_traceback_writing_only_where_told(args, config):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        inputs(root)
        (root / "config.toml").write_text(config, encoding="utf-8")
        before = snapshot(root)
        out, err = io.StringIO(), io.StringIO()
        cwd = os.getcwd()
        os.chdir(root)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                status = main(args)
        finally:
            os.chdir(cwd)
        after = snapshot(root)
    text = err.getvalue()
    event(f"{args[0]} exit {status}")
    assert status in (0, 1, 2), (args, status, text)
    assert "Traceback" not in text, (args, text)
    if status == 2:
        assert text.strip().splitlines()[-1].startswith("deepmat: error: "), (args, text)
    changed = [p for p in after if before.get(p) != after[p]]
    changed += [p for p in before if p not in after]
    stray = [p for p in changed if not allowed(p, args)]
    assert not stray, (args, stray)
