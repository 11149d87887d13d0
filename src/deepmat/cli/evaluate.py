"""``deepmat evaluate MODEL DATA``: accuracy, loss and per-class precision/recall on a test split."""

from __future__ import annotations

import argparse
import json

from deepmat.cli.config import OPTION, datasets_text
from deepmat.cli.runs import class_table
from deepmat.cli.sources import load_model, model_test_data
from deepmat.metrics import classification_report


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "evaluate",
        help="accuracy, loss and per-class precision/recall on a test split",
        description="Evaluate a model on the test split of a data set: accuracy, loss, and per-class "
        "precision, recall and count.",
    )
    parser.add_argument("model", metavar="MODEL", help="a model file (.safetensors) or a run folder")
    parser.add_argument(
        "data",
        nargs="?",
        metavar="DATA",
        help=f"{datasets_text()}, or a path (default: the data its run folder records)",
    )
    parser.add_argument(
        "--data-dir", metavar="DIR", help=f"the folder of {datasets_text('or', folders_only=True)}"
    )
    OPTION[("data", "target")].add_to(parser)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    net, path = load_model(args.model)
    dataset, line, name, y_test, classes = model_test_data(net, path, args.data, args.data_dir, args.target)
    result = classification_report(net, dataset.X_test, y_test, classes)
    if args.json:
        report = {
            "model": str(path),
            "data": name,
            "split": "test",
            "n_samples": result["n_samples"],
            "accuracy": result["accuracy"],
            "loss": result["loss"],
            "per_class": result["per_class"],
            "confusion_matrix": result["confusion"].tolist(),
        }
        print(json.dumps(report, indent=2))
        return 0
    print(f"model: {path} ({'-'.join(map(str, net.layer_dims))}, {net.output_activation})")
    print(f"{line}; evaluating the test split")
    print(f"accuracy: {result['accuracy']:.4f} ({result['correct']}/{result['n_samples']})")
    print(f"loss:     {result['loss']:.4f}")
    print(class_table(result["per_class"]))
    return 0
