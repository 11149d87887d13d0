"""``deepmat predict MODEL INPUT``: classify pictures or the rows of an .npz / .csv file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from deepmat.cli import values
from deepmat.cli.sources import load_model, model_class_names, model_classes
from deepmat.data import IMAGE_SUFFIXES, image_row, is_table, picture_sizes_text, read_samples, read_table
from deepmat.network import Network


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "predict",
        help="classify pictures or samples",
        description="Classify a picture (PNG/JPEG, resized to the model's input: "
        f"{picture_sizes_text(' → ', values=True)}), a folder of pictures, or the rows of an .npz "
        "(key X) or .csv file. Prints each input's most probable classes and their probabilities.",
    )
    parser.add_argument("model", metavar="MODEL", help="a model file (.safetensors) or a run folder")
    parser.add_argument("input", metavar="INPUT", help="a picture, a folder of pictures, an .npz or a .csv")
    parser.add_argument(
        "--top-k",
        type=values.argument_type(values.positive_int),
        default=1,
        metavar="K",
        help="classes shown per input (default: 1)",
    )
    parser.add_argument(
        "--classes",
        type=values.argument_type(values.class_names),
        metavar="a,b,c",
        help="class names (default: those in the run folder's config.json, else indices)",
    )
    parser.set_defaults(handler=run)


def inputs(source: str, net: Network) -> tuple[Any, list[str]]:
    """The rows to classify and a label for each: a table's rows for a model that reads a
    table's columns (by name: other columns, the target among them, are ignored), else a
    folder of pictures, a picture, an .npz or a .csv of numbers (pictures as raw pixel values
    for a model that scales them itself)."""
    path = Path(source)
    pre = net.preprocessor
    if pre is not None and pre.picture_shape is None and is_table(path):
        rows = read_table(path)
        return rows, [f"{path.name}[{i}]" for i in range(rows.shape[0])]
    if pre is not None and pre.picture_shape is None:
        raise ValueError(
            f"the model reads a table's columns ({', '.join(pre.names[:6])}…): give a .csv, .tsv or .parquet "
            f"file of rows; received {str(path)!r}"
        )
    return _number_rows(path, net.layer_dims[0], pre)


def _number_rows(path: Path, n_features: int, pre: Any) -> tuple[np.ndarray, list[str]]:
    """Pictures read in [0, 1] (as the levels a model that scales its own inputs takes), or
    an .npz/.csv's rows as stored (the levels such a model takes; in [0, 1] for one that does
    not)."""
    picture_rows = pre.unit_rows if pre is not None else (lambda rows: rows)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise FileNotFoundError(f"folder {str(path)!r} holds no pictures ({', '.join(IMAGE_SUFFIXES)})")
        return picture_rows(np.vstack([image_row(p, n_features) for p in files])), [str(p) for p in files]
    if not path.is_file():
        raise FileNotFoundError(
            f"input {str(path)!r} does not exist; expected a picture (PNG/JPEG), an .npz (key X), a .csv "
            "or a folder of pictures"
        )
    if path.suffix.lower() in (".npz", ".csv"):
        return read_samples(path, n_features, raw=pre is not None)
    return picture_rows(image_row(path, n_features)), [str(path)]


def run(args: argparse.Namespace) -> int:
    net, path = load_model(args.model)
    X, labels = inputs(args.input, net)
    if not net.is_classifier:
        for label, row in zip(labels, net.predict(X).reshape(len(labels), -1), strict=True):
            print(f"{label}: {', '.join(f'{v:.6g}' for v in row)}")
        return 0
    k = model_classes(net)
    classes = args.classes or model_class_names(net, path) or [str(i) for i in range(k)]
    if len(classes) != k:
        source = "--classes" if args.classes else f"{path.parent / 'config.json'}"
        raise ValueError(f"{source} names {len(classes)} classes but the model tells {k} apart")
    probabilities = net.predict_proba(X)
    top = min(args.top_k, k)
    for label, p in zip(labels, probabilities, strict=True):
        best = np.argsort(-p, kind="stable")[:top]
        print(f"{label}: " + ", ".join(f"{classes[j]} {p[j]:.4f}" for j in best))
    return 0
