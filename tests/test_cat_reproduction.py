"""SPEC §7: the seeds' cat classifiers reproduce the published figures, and the example script
``examples/cat_classifier.py`` runs end to end.

Each published model is trained once per session (2500 iterations, float64) through the example's
own ``train_model``, so the figures checked are those the example prints.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

import deepmat
from deepmat.data import CAT_DIR_ENV, CatData, load_catvnoncat, load_image

pytest.importorskip("h5py")
Image = pytest.importorskip("PIL.Image")
pytest.importorskip("matplotlib")

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "cat_classifier.py"
CAT_DIR = Path(os.environ.get(CAT_DIR_ENV) or REPO.parent / "shared" / "data" / "catvnoncat")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# SPEC §7, stated here independently of the example: (layer_dims, init, cost at iteration 0,
# cost at iteration 2400, (train correct, of), (test correct, of))
PUBLISHED = {
    2: ([12288, 7, 1], "small", 0.6930497, 0.0485548, (209, 209), (36, 50)),
    4: ([12288, 20, 7, 5, 1], "scaled", 0.7717493, 0.0928782, (206, 209), (40, 50)),
}


def load_example() -> ModuleType:
    name = "_deepmat_example_cat_classifier"
    spec = importlib.util.spec_from_file_location(name, EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the file executes
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def example() -> ModuleType:
    return load_example()


@pytest.fixture(scope="module")
def cat() -> CatData:
    if not CAT_DIR.is_dir():
        pytest.skip(f"cat/non-cat data folder {CAT_DIR} not found (set ${CAT_DIR_ENV} to run these tests)")
    return load_catvnoncat(CAT_DIR)


@pytest.fixture(scope="module")
def trained(
    cat: CatData, example: ModuleType, tmp_path_factory: pytest.TempPathFactory, deepmat_kernels
) -> dict:
    """depth → (network, costs, printed output, cost-curve folder), each trained once as published
    (once per kernel set, tests/conftest.py)."""
    results = {}
    for depth in PUBLISHED:
        out = tmp_path_factory.mktemp(f"cat{depth}")
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            net, costs = example.train_model(example.MODELS[depth], cat, 2500, out)
        results[depth] = (net, costs, printed.getvalue(), out)
    return results


# -- the published figures ---------------------------------------------------------------------


def test_the_example_trains_the_published_models(example: ModuleType) -> None:
    for depth, (dims, init, *_) in PUBLISHED.items():
        spec = example.MODELS[depth]
        assert (spec.layer_dims, spec.init) == (dims, init)
    assert (example.LEARNING_RATE, example.ITERATIONS) == (0.0075, 2500)


@pytest.mark.slow
@pytest.mark.parametrize("depth", sorted(PUBLISHED))
def test_published_costs(trained: dict, depth: int) -> None:
    net, costs, _, _ = trained[depth]
    dims, init, cost_0, cost_2400, _, _ = PUBLISHED[depth]
    assert net.layer_dims == dims and net.init == init and net.dtype == np.float64
    assert len(costs) == 2500
    # the published figures have 7 decimals; agree with them to within half their last digit
    assert abs(costs[0] - cost_0) <= 5e-8, f"{costs[0]:.10f} vs published {cost_0}"
    assert abs(costs[2400] - cost_2400) <= 5e-8, f"{costs[2400]:.10f} vs published {cost_2400}"
    assert f"{costs[0]:.6g}" == f"{cost_0:.6g}" and f"{costs[2400]:.6g}" == f"{cost_2400:.6g}"


@pytest.mark.slow
@pytest.mark.parametrize("depth", sorted(PUBLISHED))
def test_published_accuracies(trained: dict, cat: CatData, depth: int) -> None:
    net = trained[depth][0]
    *_, (train_correct, m_train), (test_correct, m_test) = PUBLISHED[depth]
    assert int((net.predict(cat.X_train) == cat.y_train).sum()) == train_correct
    assert int((net.predict(cat.X_test) == cat.y_test).sum()) == test_correct
    assert net.score(cat.X_train, cat.y_train) == train_correct / m_train
    assert net.score(cat.X_test, cat.y_test) == test_correct / m_test


def test_published_accuracies_as_fractions() -> None:
    """The accuracies SPEC §7 quotes are these counts: 1.0, 0.72; 0.9856, 0.80."""
    (_, _, _, _, tr2, te2), (_, _, _, _, tr4, te4) = PUBLISHED[2], PUBLISHED[4]
    assert (tr2[0] / tr2[1], te2[0] / te2[1]) == (1.0, 0.72)
    assert (round(tr4[0] / tr4[1], 4), te4[0] / te4[1]) == (0.9856, 0.80)


@pytest.mark.slow
@pytest.mark.parametrize("depth", sorted(PUBLISHED))
def test_example_prints_the_comparison(trained: dict, depth: int) -> None:
    _, _, printed, out = trained[depth]
    _, _, cost_0, cost_2400, (train_correct, m_train), (test_correct, m_test) = PUBLISHED[depth]
    lines = printed.splitlines()
    # the seeds' progress lines, every 100 iterations
    progress = [line for line in lines if line.startswith("Cost after iteration ")]
    assert len(progress) == 25
    assert progress[0] == f"Cost after iteration 0: {cost_0:.7f}"
    assert progress[24] == f"Cost after iteration 2400: {cost_2400:.7f}"
    assert f"train accuracy: {train_correct / m_train:.4f} ({train_correct}/{m_train})" in lines
    assert f"test accuracy:  {test_correct / m_test:.4f} ({test_correct}/{m_test})" in lines
    compared = [line for line in lines if "published" in line and line.startswith("  ")]
    assert len(compared) == 4
    assert all(line.rstrip().endswith("✓") or "✓  (" in line for line in compared), printed
    assert "✗" not in printed
    png = out / f"cost_{depth}layer.png"
    assert f"cost curve saved to {png}" in lines
    assert png.read_bytes()[:8] == PNG_SIGNATURE


# -- the script, end to end -----------------------------------------------------------------


def run_example(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "MPLBACKEND": "Agg"}
    env.pop(CAT_DIR_ENV, None)
    return subprocess.run(
        [sys.executable, str(EXAMPLE), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=1200,
        check=False,
    )


@pytest.mark.slow
def test_script_end_to_end(cat: CatData, tmp_path: Path) -> None:
    picture = tmp_path / "test_picture_1.png"
    Image.fromarray(cat.images_test[1]).save(picture)
    out = tmp_path / "out"
    result = run_example(
        "--data-dir",
        str(CAT_DIR),
        "--out",
        str(out),
        "--image",
        str(picture),
        "--iterations",
        "50",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert (
        lines[0] == "data: 209 training and 50 test pictures, 12288 features each, classes ['non-cat', 'cat']"
    )
    assert "Cost after iteration 0: 0.6930497" in lines  # 2-layer
    assert "Cost after iteration 0: 0.7717493" in lines  # 4-layer
    assert sum(line.startswith("train accuracy: ") for line in lines) == 2
    assert sum(line.startswith("test accuracy:  ") for line in lines) == 2
    assert sum("published" in line and line.endswith("✓") for line in lines) == 2  # both costs at 0
    for depth in (2, 4):
        png = out / f"cost_{depth}layer.png"
        assert png.read_bytes()[:8] == PNG_SIGNATURE
        with Image.open(png) as image:
            assert image.size[0] > 0 and image.size[1] > 0

    match = re.fullmatch(
        rf"{re.escape(str(picture))}: (cat|non-cat) \(P\(cat\) = ([0-9.]+), 4-layer network\)", lines[-1]
    )
    assert match, lines[-1]
    # the same network trained in-process gives the printed probability for that picture
    net = deepmat.Network([12288, 20, 7, 5, 1], init="scaled", seed=1)
    net.fit(cat.X_train, cat.y_train, learning_rate=0.0075, iterations=50, print_every=None)
    p_cat = float(net.predict_proba(load_image(picture))[0, 1])
    assert float(match.group(2)) == pytest.approx(p_cat, abs=5e-7)
    assert match.group(1) == ("cat" if p_cat > 0.5 else "non-cat")


def test_script_without_image_says_how_to_pass_one(
    cat: CatData, example: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    status = example.main(
        ["--data-dir", str(CAT_DIR), "--out", str(tmp_path), "--models", "2", "--iterations", "1"]
    )
    assert status == 0
    printed = capsys.readouterr().out
    assert "--image PATH" in printed.splitlines()[-1]
    assert "late cost and accuracies are published for 2500 iterations" in printed
    assert (tmp_path / "cost_2layer.png").is_file() and not (tmp_path / "cost_4layer.png").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--iterations", "0"], "--iterations: expected a positive integer"),
        (["--iterations", "many"], "--iterations: expected a positive integer"),
        (["--models", "3"], "--models: expected a comma-separated list"),
        (["--models", "2,2"], "--models: expected a comma-separated list"),
        (["--no-such-option"], "unrecognized arguments"),
    ],
)
def test_bad_arguments_exit_2(
    example: ModuleType, capsys: pytest.CaptureFixture, args: list, message: str
) -> None:
    assert example.main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err and "Traceback" not in captured.err


def test_missing_data_dir_exits_2(example: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    missing = tmp_path / "no_data_here"
    assert example.main(["--data-dir", str(missing), "--out", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and str(missing) in captured.err
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("content", [None, b"not a picture"])
def test_bad_image_exits_2_before_training(
    cat: CatData, example: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture, content: bytes | None
) -> None:
    picture = tmp_path / "picture.png"
    if content is not None:
        picture.write_bytes(content)
    assert example.main(["--data-dir", str(CAT_DIR), "--image", str(picture), "--out", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing trained
    assert captured.err.startswith("error: image ") and "picture.png" in captured.err
    assert captured.err.count("\n") == 1


def test_script_help_exits_0() -> None:
    result = run_example("--help", cwd=REPO)
    assert result.returncode == 0
    for option in ("--data-dir DIR", "--image PATH", "--out DIR", "--iterations N", "--models 2,4"):
        assert option in result.stdout


def test_script_bad_argument_in_a_subprocess(tmp_path: Path) -> None:
    result = run_example("--iterations", "-5", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == "" and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1].endswith("--iterations: expected a positive integer; received '-5'")
