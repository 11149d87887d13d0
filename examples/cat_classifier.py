"""Is it a cat? The seeds' application (SPEC §7), end to end.

Trains the 2-layer network [12288, 7, 1] and the 4-layer network [12288, 20, 7, 5, 1] on the
209 cat/non-cat pictures with full-batch gradient descent (α = 0.0075, 2500 iterations, float64),
saves each cost curve as a PNG, reports train and test accuracy next to the published figures, and
classifies a picture of your own with the 4-layer network::

    python examples/cat_classifier.py                       # data from ../shared/data/catvnoncat
    python examples/cat_classifier.py --data-dir DIR --image my_cat.jpg --out runs/cat
    python examples/cat_classifier.py --models 4 --iterations 500

Training takes from seconds to a few minutes, depending on the machine. Exit status: 0 on
success, 2 for bad arguments or unreadable data (one line on stderr), 1 when a dependency is
missing.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import deepmat
from deepmat.data import CatData, load_catvnoncat, load_image
from deepmat.plotting import plot_cost_curve

LEARNING_RATE = 0.0075
ITERATIONS = 2500
PRINT_EVERY = 100
LATE_ITERATION = 2400  # the published late cost is the one recorded before update 2401


@dataclass(frozen=True)
class ModelSpec:
    """One of the two published models and its published figures (SPEC §7)."""

    name: str
    layer_dims: list[int]
    init: str
    cost_0: float
    cost_2400: float
    train_correct: tuple[int, int]  # (correct, samples)
    test_correct: tuple[int, int]


MODELS = {
    2: ModelSpec("2-layer", [12288, 7, 1], "small", 0.6930497, 0.0485548, (209, 209), (36, 50)),
    4: ModelSpec("4-layer", [12288, 20, 7, 5, 1], "scaled", 0.7717493, 0.0928782, (206, 209), (40, 50)),
}


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer; received {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer; received {text!r}")
    return value


def _model_list(text: str) -> list[int]:
    try:
        depths = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        depths = []
    if not depths or any(d not in MODELS for d in depths) or len(set(depths)) != len(depths):
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated list of distinct depths from {sorted(MODELS)}, e.g. 2,4; "
            f"received {text!r}"
        )
    return depths


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cat_classifier.py",
        description="Train the seeds' 2- and 4-layer cat classifiers and classify a picture.",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        default=None,
        help="folder with train_catvnoncat.h5 and test_catvnoncat.h5 "
        "(default: $DEEPMAT_CAT_DIR, else ../shared/data/catvnoncat)",
    )
    parser.add_argument(
        "--image", type=Path, metavar="PATH", default=None, help="a PNG or JPEG picture to classify"
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        default=Path("runs", "cat"),
        help="folder for the cost curves (default: runs/cat)",
    )
    parser.add_argument(
        "--iterations",
        type=_positive_int,
        metavar="N",
        default=ITERATIONS,
        help=f"gradient-descent iterations (default: {ITERATIONS}, as published)",
    )
    parser.add_argument(
        "--models",
        type=_model_list,
        metavar="2,4",
        default=[2, 4],
        help="which networks to train, by depth L: 2, 4 or 2,4 (default: 2,4)",
    )
    return parser


def _marks() -> tuple[str, str]:
    """✓/✗, or plain words where stdout cannot encode them (e.g. a legacy Windows console)."""
    encoding = getattr(sys.stdout, "encoding", None)
    if encoding is None:  # an in-memory text stream (io.StringIO) holds any character
        return "✓", "✗"
    try:
        "✓✗".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return "ok", "MISMATCH"
    return "✓", "✗"


def compare(spec: ModelSpec, costs: list[float], train: tuple[int, int], test: tuple[int, int]) -> None:
    """Print the run's figures next to the published ones, marked ✓ (agree to the published
    digits) or ✗."""
    yes, no = _marks()
    print(f"compared with the published figures for the {spec.name} network (SPEC §7):")
    rows = [("cost at iteration 0", costs[0], spec.cost_0)]
    if len(costs) > LATE_ITERATION:
        rows.append((f"cost at iteration {LATE_ITERATION}", costs[LATE_ITERATION], spec.cost_2400))
    for label, value, published in rows:
        mark = yes if abs(value - published) <= 5e-8 else no
        print(f"  {label:<24} {value:.7f}  published {published:.7f}  {mark}")
    if len(costs) == ITERATIONS:
        for label, (correct, m), (pub_correct, pub_m) in (
            ("train accuracy", train, spec.train_correct),
            ("test accuracy", test, spec.test_correct),
        ):
            mark = yes if (correct, m) == (pub_correct, pub_m) else no
            print(
                f"  {label:<24} {correct / m:.4f}     published {pub_correct / pub_m:.4f}     {mark}"
                f"  ({correct}/{m} vs {pub_correct}/{pub_m})"
            )
    else:
        print(
            f"  (late cost and accuracies are published for {ITERATIONS} iterations; this run had {len(costs)})"
        )


def train_model(
    spec: ModelSpec, data: CatData, iterations: int, out: Path
) -> tuple[deepmat.Network, deepmat.History]:
    """Train one published model as the seeds do, plot its costs, print and compare its figures.

    Returns the trained network and its costs (one per iteration, recorded before the update)."""
    print(f"\n== {spec.name} network {spec.layer_dims}, init={spec.init!r}, seed=1 ==")
    net = deepmat.Network(spec.layer_dims, init=spec.init, seed=1)
    costs = net.fit(
        data.X_train,
        data.y_train,
        learning_rate=LEARNING_RATE,
        iterations=iterations,
        print_every=PRINT_EVERY,
    )
    depth = len(spec.layer_dims) - 1
    curve = plot_cost_curve(
        costs,
        out / f"cost_{depth}layer.png",
        title=f"{spec.name} network {spec.layer_dims}, α = {LEARNING_RATE}",
    )
    print(f"cost curve saved to {curve}")
    train = (int((net.predict(data.X_train) == data.y_train).sum()), len(data.y_train))
    test = (int((net.predict(data.X_test) == data.y_test).sum()), len(data.y_test))
    print(f"train accuracy: {train[0] / train[1]:.4f} ({train[0]}/{train[1]})")
    print(f"test accuracy:  {test[0] / test[1]:.4f} ({test[0]}/{test[1]})")
    compare(spec, list(costs), train, test)
    return net, costs


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse has printed its usage line and error already
        return int(exit_.code or 0)
    try:
        data = load_catvnoncat(args.data_dir)
        # read the picture before training, so that a bad --image fails in a second, not a minute
        picture = load_image(args.image) if args.image is not None else None
        args.out.mkdir(parents=True, exist_ok=True)
    except (FileNotFoundError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except ImportError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(
        f"data: {data.X_train.shape[0]} training and {data.X_test.shape[0]} test pictures, "
        f"{data.X_train.shape[1]} features each, classes {data.classes}"
    )

    nets = {depth: train_model(MODELS[depth], data, args.iterations, args.out)[0] for depth in args.models}

    print()
    if picture is None:
        print("no picture to classify: pass one with --image PATH (a PNG or JPEG, resized to 64×64)")
        return 0
    depth = 4 if 4 in nets else max(nets)
    p_cat = float(nets[depth].predict_proba(picture)[0, 1])
    label = data.classes[int(p_cat > 0.5)]
    print(f"{args.image}: {label} (P(cat) = {p_cat:.6f}, {MODELS[depth].name} network)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
