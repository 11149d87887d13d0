"""``deepmat evaluate MODEL DATA``: accuracy, loss and per-class precision/recall on a test split."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from deepmat.cli.config import OPTION, datasets_text
from deepmat.cli.runs import class_table
from deepmat.cli.sources import (
    as_model_reads,
    check_model_data,
    class_count,
    in_model_classes,
    load_data,
    load_model,
    run_data,
)
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


def data_settings(args: argparse.Namespace, path: Path) -> tuple[str, str | None, dict[str, Any]]:
    """(data name or path, its folder, a table's settings): as given, else as the model's run
    folder recorded them (a run folder is a model with its data)."""
    recorded = run_data(path) or {}
    name = args.data or recorded.get("name")
    if name is None:
        raise ValueError(
            f"give the DATA to evaluate on: {str(path)!r} has no run folder config.json recording its data"
        )
    same = name == recorded.get("name")
    data_dir = args.data_dir or (recorded.get("dir") if same else None)
    table = {key: recorded.get(key) for key in ("target", "impute", "scale")} if same else {}
    if args.target is not None:
        table["target"] = args.target
    return name, data_dir, table


def run(args: argparse.Namespace) -> int:
    net, path = load_model(args.model)
    name, data_dir, table = data_settings(args, path)
    dataset, line, name = load_data(name, data_dir, net.dtype.name, table=table)
    dataset = as_model_reads(net, dataset)
    k = class_count(dataset)
    y_test, classes = dataset.y_test, list(dataset.classes)
    check_model_data(net, dataset.X_test, None if net.preprocessor else k, f"the data {name!r}")
    if net.preprocessor is not None:  # the model reads raw rows: its own classes, in its own order
        mapping, classes = in_model_classes(net, dataset)
        y_test, k = mapping[y_test], len(classes)
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
